"""Writes of finance (R3.5, R4.5): invoices and payments."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from finance.models import Invoice, Payment
from orderdesk import audit, roles
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orderdesk.rules import allows
from orders.models import State
from orders.selectors import lock_visible_order

INVOICE_STATES = (State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED)


# --- the rules: who may, and when (each service and the order page's panel ask the same check) -----------
def check_invoice(user, order) -> None:
    """Issue an invoice (R3.5): finance, between approval and settlement."""
    if not roles.may(user, "invoice.create", order):
        raise Forbidden()
    if order.state not in INVOICE_STATES:
        raise Conflict(_("Invoices are issued between approval and settlement."), code="invalid_state")


def check_payment(user, order) -> None:
    """Record a payment against one of the order's invoices (R4.5): finance, in any state."""
    if not roles.may(user, "payment.record", order):
        raise Forbidden()


may_invoice = allows(check_invoice)
may_record_payment = allows(check_payment)


@transaction.atomic
def create_invoice(*, user, order_id, amount: Decimal, due_date) -> Invoice:
    order = lock_visible_order(user, order_id)
    check_invoice(user, order)
    if amount is None or amount <= 0:
        raise InvalidInput(errors={"amount": [_("The amount must be greater than zero.")]})
    invoiced = order.invoices.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    if invoiced + amount > order.total_amount:
        raise InvalidInput(
            errors={"amount": [_("Invoices may not exceed the order total (%(left)s left to invoice).")
                               % {"left": order.total_amount - invoiced}]}
        )
    invoice = Invoice.objects.create(order=order, amount=amount, due_date=due_date, issued_by=user)
    audit.record(kind="invoice", user=user, order=order, obj=invoice, name="create", after=amount,
                 note=f"due {due_date}")
    return invoice


@transaction.atomic
def record_payment(*, user, invoice_id, amount: Decimal, received_on, reference: str) -> Payment:
    try:
        invoice = Invoice.objects.get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    order = lock_visible_order(user, invoice.order_id)
    check_payment(user, order)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    errors = {}
    if amount is None or amount <= 0:
        errors["amount"] = [_("The amount must be greater than zero.")]
    elif amount > invoice.outstanding:
        errors["amount"] = [_("The payment exceeds the invoice's outstanding %(left)s.") % {"left": invoice.outstanding}]
    if received_on is None or received_on > timezone.localdate():
        errors["received_on"] = [_("The date may not be in the future.")]
    if not (reference or "").strip():
        errors["reference"] = [_("This field is required.")]
    if errors:
        raise InvalidInput(errors=errors)
    payment = Payment.objects.create(
        invoice=invoice, amount=amount, received_on=received_on, reference=reference.strip(), recorded_by=user
    )
    before = invoice.paid_amount
    invoice.paid_amount = invoice.paid_amount + amount
    invoice.save(update_fields=["paid_amount"])
    audit.record(kind="payment", user=user, order=order, obj=payment, name="record", before=before,
                 after=invoice.paid_amount, note=payment.reference)
    from notifications import events

    events.payment_received(payment=payment)  # the assistant (the outbox)
    return payment
