"""Forms of logistics' work on the order page (R3.4, R4.4): shipments and their tracking events.

The services (:mod:`logistics.services`) check role and state and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from logistics.models import ShipmentStatus
from orders.forms import use_html5_dates


class ShipmentForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=100)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100)
    expected_arrival = forms.DateField(label=_("Expected arrival"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_shipment_%s")
        super().__init__(*args, **kwargs)
        use_html5_dates(self)


class ShipmentEventForm(forms.Form):
    """A tracking event; `returned` is not set by hand (a delivery is rejected through the order)."""

    status = forms.ChoiceField(
        label=_("Status"), choices=[c for c in ShipmentStatus.choices if c[0] != ShipmentStatus.RETURNED],
    )
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
