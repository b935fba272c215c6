"""Finance's forms on the order page (R3.5, R4.5); each posts to its own URL under `/orders/<id>/`
and writes through :mod:`finance.services`, after the same rule its panel asks (see
:func:`orders.views.detail.department_write`). Mounted in the `orders` URL namespace by the project's URLconf."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from finance import services
from finance.forms import InvoiceForm, PaymentForm
from orders.views.detail import department_write


@login_required
@require_POST
def invoice_add(request, pk: int):
    def call(order, forms):
        data = forms["invoice"].cleaned_data
        invoice = services.create_invoice(user=request.user, order_id=order.pk, amount=data["amount"],
                                          due_date=data["due_date"])
        return _("Invoice INV-%(id)s of %(amount)s was issued.") % {
            "id": invoice.pk, "amount": formats.number_format(invoice.amount, 2, use_l10n=True, force_grouping=True)}

    return department_write(
        request, pk, key="invoice",
        check=lambda order: services.check_invoice(request.user, order),
        bind=lambda order: {"invoice": InvoiceForm(request.POST)},
        call=call,
    )


@login_required
@require_POST
def payment_add(request, pk: int):
    def bind(order):
        payable = [i for i in order.invoices.all() if i.outstanding > 0]
        return {"payment": PaymentForm(request.POST, invoices=payable)}

    def call(order, forms):
        data = forms["payment"].cleaned_data
        services.record_payment(user=request.user, invoice_id=data["invoice"], amount=data["amount"],
                                received_on=data["received_on"], reference=data["reference"])
        return _("The payment was recorded against INV-%(id)s.") % {"id": data["invoice"]}

    return department_write(
        request, pk, key="payment",
        check=lambda order: services.check_payment(request.user, order),
        bind=bind, call=call,
    )
