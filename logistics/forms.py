"""Forms of logistics' work on the order page (R3.4, R4.4): shipments with their line quantities, and their
tracking events.

The services (:mod:`logistics.services`) check role, state and quantities and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from logistics.models import ShipmentStatus
from orders.forms import use_html5_dates

LINE_PREFIX = "line_"


class ShipmentForm(forms.Form):
    """A shipment. ``lines``: the order's lines with what remains of each (``logistics.selectors.shipping_lines``);
    each gets a quantity field (``line_<id>``); left all empty, the shipment carries everything that remains."""

    carrier = forms.CharField(label=_("Carrier"), max_length=100)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100)
    expected_arrival = forms.DateField(label=_("Expected arrival"), required=False)
    vehicle = forms.CharField(label=_("Vehicle"), max_length=50, required=False)
    driver = forms.CharField(label=_("Driver"), max_length=100, required=False)
    warehouse = forms.CharField(label=_("Warehouse"), max_length=100, required=False)
    tracking_link = forms.URLField(label=_("Tracking link"), max_length=500, required=False, assume_scheme="https")

    def __init__(self, *args, lines=(), **kwargs):
        kwargs.setdefault("auto_id", "id_shipment_%s")
        super().__init__(*args, **kwargs)
        use_html5_dates(self)
        self.line_entries = [entry for entry in lines if entry["remaining"] > 0]
        for entry in self.line_entries:
            line = entry["line"]
            self.fields[f"{LINE_PREFIX}{line.pk}"] = forms.DecimalField(
                label=_("Line %(position)s: %(sku)s (remaining %(remaining)s)") % {
                    "position": line.position, "sku": line.product.sku, "remaining": f"{entry['remaining'].normalize():f}",
                },
                required=False, min_value=0, max_digits=12, decimal_places=3,
            )
        if self.line_entries:
            first = f"{LINE_PREFIX}{self.line_entries[0]['line'].pk}"
            self.fields[first].help_text = _("Leave every quantity empty to ship all that remains.")

    def clean(self):
        data = super().clean()
        typed = [v for name, v in data.items() if name.startswith(LINE_PREFIX) and v is not None]
        if typed and not any(v > 0 for v in typed):
            raise forms.ValidationError(_("Enter at least one quantity above zero, or leave them all empty to ship "
                                          "all that remains."))
        return data

    def line_fields(self):
        return [self[name] for name in self.fields if name.startswith(LINE_PREFIX)]

    def detail_fields(self):
        return [self[name] for name in self.fields if not name.startswith(LINE_PREFIX)]

    def lines(self) -> list[dict]:
        """The lines typed: [{"order_line", "quantity"}] (empty: everything that remains)."""
        return [
            {"order_line": int(name[len(LINE_PREFIX):]), "quantity": value}
            for name, value in self.cleaned_data.items()
            if name.startswith(LINE_PREFIX) and value not in (None, "") and value > 0
        ]


class ShipmentEventForm(forms.Form):
    """A tracking event; `returned` is not set by hand (a delivery is rejected through the order)."""

    status = forms.ChoiceField(
        label=_("Status"), choices=[c for c in ShipmentStatus.choices if c[0] != ShipmentStatus.RETURNED],
    )
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
