"""Forms of finance's work on the order page (R3.5, R4.5): invoices and payments.

The services (:mod:`finance.services`) check role, state and amounts and write."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from orders.forms import use_html5_dates

AMOUNT = {"max_digits": 16, "decimal_places": 2, "min_value": Decimal("0.01")}


class InvoiceForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), **AMOUNT)
    due_date = forms.DateField(label=_("Due date"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_invoice_%s")
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget.attrs.update({"step": "0.01", "inputmode": "decimal"})
        use_html5_dates(self)


class PaymentForm(forms.Form):
    invoice = forms.TypedChoiceField(label=_("Invoice"), coerce=int, choices=())
    amount = forms.DecimalField(label=_("Amount"), **AMOUNT)
    received_on = forms.DateField(label=_("Received on"))
    reference = forms.CharField(label=_("Reference"), max_length=100)

    def __init__(self, *args, invoices=(), **kwargs):
        """`invoices`: the order's invoices with something outstanding (already read; no query here)."""
        kwargs.setdefault("auto_id", "id_payment_%s")
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [
            (
                i.pk,
                _("INV-%(id)s · outstanding %(left)s")
                % {"id": i.pk, "left": formats.number_format(i.outstanding, 2, use_l10n=True, force_grouping=True)},
            )
            for i in invoices
        ]
        self.fields["amount"].widget.attrs.update({"step": "0.01", "inputmode": "decimal"})
        use_html5_dates(self)


class OrderTermsForm(forms.Form):
    """The finance manager sets an order's payment terms during the review (their sign-off covers them)."""

    payment_terms = forms.ModelChoiceField(
        label=_("Payment terms"), queryset=None, required=False, empty_label=_("None: invoices typed by hand")
    )

    def __init__(self, *args, **kwargs):
        from finance.models import PaymentTerms

        kwargs.setdefault("auto_id", "id_terms_%s")
        super().__init__(*args, **kwargs)
        self.fields["payment_terms"].queryset = PaymentTerms.objects.filter(is_active=True).order_by("name")


class WaiverForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for starting before the deposit is paid"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_waiver_%s")
        super().__init__(*args, **kwargs)


class CreditNoteForm(forms.Form):
    invoice = forms.TypedChoiceField(label=_("Invoice"), coerce=int, choices=())
    amount = forms.DecimalField(label=_("Amount"), **AMOUNT)
    reason = forms.CharField(label=_("Reason"), max_length=2000)

    def __init__(self, *args, invoices=(), **kwargs):
        kwargs.setdefault("auto_id", "id_credit_%s")
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [(i.pk, i.number) for i in invoices]
        self.fields["amount"].widget.attrs.update({"step": "0.01", "inputmode": "decimal"})


class FollowUpForm(forms.Form):
    invoice = forms.TypedChoiceField(label=_("Invoice"), coerce=int, choices=())
    channel = forms.ChoiceField(label=_("Channel"), choices=())
    note = forms.CharField(label=_("What the customer said"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    promised_on = forms.DateField(label=_("Payment promised on"), required=False)

    def __init__(self, *args, invoices=(), **kwargs):
        from finance.models import FollowUp

        kwargs.setdefault("auto_id", "id_followup_%s")
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [(i.pk, i.number) for i in invoices]
        self.fields["channel"].choices = FollowUp.Channel.choices
        use_html5_dates(self)
