"""Finance's panel on the order page (R3.5, R4.5): invoices and payments, for the roles that read prices,
and the forms to issue and record them, offered where :mod:`finance.services`' rule passes. Registered in
:meth:`finance.apps.FinanceConfig.ready`."""

from __future__ import annotations

from django.utils import timezone

from finance import services
from finance.forms import InvoiceForm, PaymentForm
from orderdesk import roles
from orders.panels import Panel


def context(*, order, user, forms: dict) -> dict:
    # invoices are a record class of DESIGN §5 (orderdesk.roles' field table decides who reads them)
    invoices = [] if roles.is_record_hidden(user, "finance.Invoice") else list(order.invoices.prefetch_related("payments"))
    invoiced = sum((i.amount for i in invoices), 0)
    ctx: dict = {
        "invoices": invoices,
        "invoiced": invoiced,
        "paid": sum((i.paid_amount for i in invoices), 0),
        "may_invoice": services.may_invoice(user, order),
        "to_invoice": order.total_amount - invoiced,
    }
    if ctx["may_invoice"]:
        ctx["invoice_form"] = forms.get("invoice") or InvoiceForm(
            initial={"amount": ctx["to_invoice"] if ctx["to_invoice"] > 0 else None})
    payable = [i for i in invoices if i.outstanding > 0]
    ctx["outstanding"] = sum((i.outstanding for i in payable), 0)
    ctx["may_record_payment"] = bool(payable) and services.may_record_payment(user, order)
    if ctx["may_record_payment"]:
        ctx["payment_form"] = forms.get("payment") or PaymentForm(
            invoices=payable, initial={"received_on": timezone.localdate()})
    return ctx


PANEL = Panel(key="finance", template="finance/_panel.html", context=context, position=30)
