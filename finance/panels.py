"""Finance's panels on the order page (R3.5, R4.5).

``finance``: invoices (with their PDFs), credit notes and payments, for the roles that read prices, and the
forms to set the terms, issue, credit, record and follow up, offered where :mod:`finance.services`' rule
passes. Its documents part: the printed documents each role may open (the delivery note carries no price and is
offered to logistics; the confirmation only to roles that read prices). Registered in
:meth:`finance.apps.FinanceConfig.ready`."""

from __future__ import annotations

from django.utils import timezone

from finance import services
from finance.forms import CreditNoteForm, FollowUpForm, InvoiceForm, OrderTermsForm, PaymentForm, WaiverForm
from orderdesk import roles
from orders.models import State
from orders.panels import Panel, has_rows


def context(*, order, user, forms: dict) -> dict:
    # invoices are a record class of DESIGN §5 (orderdesk.roles' field table decides who reads them)
    docs = documents(order=order, user=user, forms=forms)
    if roles.is_record_hidden(user, "finance.Invoice"):
        return {"invoices": [], **docs}
    invoices = list(order.invoices.prefetch_related("payments", "credit_notes")) \
        if has_rows(order, "invoices") else []
    invoiced = sum((i.amount for i in invoices), 0)
    ctx: dict = {
        **docs,
        "invoices": invoices,
        "invoiced": invoiced,
        "paid": sum((i.paid_amount for i in invoices), 0),
        "credited": sum((i.credited_amount for i in invoices), 0),
        "may_invoice": services.may_invoice(user, order),
        "to_invoice": (
            0
            if order.state in (State.SETTLED, State.CANCELLED)
            else order.total_amount - invoiced
            if order.payment_terms_id is None
            else services.uninvoiced(order)
        ),
        "deposit_due": order.payment_terms_id is not None and services.deposit_due(order),
        "waiver": getattr(order, "deposit_waiver", None)
        if order.payment_terms_id and has_rows(order, "deposit_waiver") else None,
    }
    if ctx["may_invoice"] and ctx["to_invoice"] > 0:
        ctx["invoice_form"] = forms.get("invoice") or InvoiceForm(initial={"amount": ctx["to_invoice"]})
    else:
        ctx["may_invoice"] = False
    payable = [i for i in invoices if i.outstanding > 0]
    ctx["outstanding"] = sum((i.outstanding for i in payable), 0)
    ctx["may_record_payment"] = bool(payable) and services.may_record_payment(user, order)
    if ctx["may_record_payment"]:
        ctx["payment_form"] = forms.get("payment") or PaymentForm(
            invoices=payable, initial={"received_on": timezone.localdate()}
        )
    ctx["may_credit"] = bool(payable) and services.may_credit(user, order)
    if ctx["may_credit"]:
        ctx["credit_form"] = forms.get("credit") or CreditNoteForm(invoices=payable)
    ctx["may_set_terms"] = services.may_set_order_terms(user, order)
    if ctx["may_set_terms"]:
        ctx["terms_form"] = forms.get("terms") or OrderTermsForm(initial={"payment_terms": order.payment_terms_id})
    ctx["may_waive"] = ctx["deposit_due"] and ctx["waiver"] is None and services.may_waive(user, order)
    if ctx["may_waive"]:
        ctx["waiver_form"] = forms.get("waiver") or WaiverForm()
    ctx["may_follow_up"] = bool(payable) and services.may_follow_up(user, order)
    if ctx["may_follow_up"]:
        ctx["follow_up_form"] = forms.get("follow_up") or FollowUpForm(invoices=payable)
    return ctx


def documents(*, order, user, forms: dict) -> dict:
    sees_prices = roles.sees_prices(user)
    return {
        "documents": {
            "confirmation": sees_prices and order.state not in (State.RECEIVED, State.CANCELLED),
            "delivery_note": order.state
            in (State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED, State.SETTLED),
        }
    }


PANEL = Panel(key="finance", template="finance/_panel.html", context=context, position=30,
              reads=("invoices", "deposit_waiver"))
