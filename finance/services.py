"""Writes of finance (R3.5, R4.5): payment terms, invoices (drawn from the terms or typed by hand), credit
notes, payments, the deposit gate's waiver and the follow-ups of receivables.

Every write locks the order's row first (:func:`orders.selectors.lock_visible_order`), then the invoice's, so
two concurrent invoices or payments of one order run one after the other and the amounts are checked against
what the first one wrote: over-invoicing and over-payment are refused under concurrency too (and the
database's check constraint ``invoice_not_overpaid`` backs the payment rule).
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from finance.models import (
    DEPOSIT_TRIGGERS,
    TRIGGERS_OF_TRANSITION,
    CreditNote,
    DepositWaiver,
    FollowUp,
    Installment,
    Invoice,
    Payment,
    PaymentTerms,
    Trigger,
)
from orderdesk import audit, roles
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orderdesk.rules import allows
from orders.models import State
from orders.selectors import lock_visible_order

INVOICE_STATES = (State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED)
CENT = Decimal("0.01")
HUNDRED = Decimal("100")


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


def check_credit_note(user, order) -> None:
    if not roles.may(user, "credit_note.create", order):
        raise Forbidden()


def check_waiver(user, order) -> None:
    """Waive the deposit gate: a finance manager, while the order waits to start production."""
    if not roles.may(user, "deposit.waive", order):
        raise Forbidden()
    if order.state not in (State.REVIEWED, State.SCHEDULED):
        raise Conflict(_("The deposit is waived before production starts."), code="invalid_state")


def check_follow_up(user, order) -> None:
    if not roles.may(user, "receivable.follow_up", order):
        raise Forbidden()


may_invoice = allows(check_invoice)
may_record_payment = allows(check_payment)
may_credit = allows(check_credit_note)
may_waive = allows(check_waiver)
may_follow_up = allows(check_follow_up)


# --- payment terms (data) ------------------------------------------------------------------------
def validate_installments(installments) -> list[dict]:
    """The installments as clean dicts; 400 naming each problem (they must sum to 100 %)."""
    errors: list[str] = []
    clean: list[dict] = []
    if not installments:
        raise InvalidInput(errors={"installments": [_("Payment terms need at least one installment.")]})
    for n, item in enumerate(installments, start=1):
        item = item if isinstance(item, dict) else {}
        try:
            percent = Decimal(str(item.get("percent"))).quantize(CENT)
        except (ArithmeticError, ValueError, TypeError):
            percent = None
        trigger = item.get("trigger")
        try:
            days = int(item.get("days", 0))
        except (ValueError, TypeError):
            days = -1
        if percent is None or not percent.is_finite() or percent <= 0 or percent > HUNDRED:
            errors.append(_("Installment %(n)s: the percent must be above 0 and at most 100.") % {"n": n})
        if trigger not in Trigger.values:
            errors.append(
                _("Installment %(n)s: choose the trigger approval, before_production, shipment or acceptance.")
                % {"n": n}
            )
        if days < 0 or days > 3650:
            errors.append(_("Installment %(n)s: days must lie between 0 and 3650.") % {"n": n})
        clean.append({"percent": percent, "trigger": trigger, "days": days})
    if not errors:
        total = sum((i["percent"] for i in clean), Decimal("0"))
        if total != HUNDRED:
            errors.append(_("The installments must sum to 100%% (they sum to %(total)s%%).") % {"total": total})
    if errors:
        raise InvalidInput(_("The payment terms are invalid."), errors={"installments": errors})
    return clean


@transaction.atomic
def create_terms(*, user, name: str, installments, description: str = "") -> PaymentTerms:
    if not roles.may(user, "terms.manage"):
        raise Forbidden()
    name = (name or "").strip()
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = [_("Give the terms a name of at most 100 characters.")]
    elif PaymentTerms.objects.filter(name=name).exists():
        errors["name"] = [_("Payment terms of this name exist already.")]
    try:
        clean = validate_installments(installments)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(_("The payment terms are invalid."), errors=errors)
    terms = PaymentTerms.objects.create(name=name, description=(description or "").strip()[:300], created_by=user)
    Installment.objects.bulk_create(
        [Installment(terms=terms, position=n, **item) for n, item in enumerate(clean, start=1)]
    )
    audit.record(kind="payment_terms", user=user, obj=terms, name="create", after=terms.name,
                 note="; ".join(f"{item['percent']}% {item['trigger']} +{item['days']}" for item in clean))
    return terms


@transaction.atomic
def set_customer_terms(*, user, customer, terms: PaymentTerms | None):
    """A customer's default terms (the finance manager)."""
    if not roles.may(user, "terms.manage"):
        raise Forbidden()
    before = customer.payment_terms
    customer.payment_terms = terms
    customer.save(update_fields=["payment_terms"])
    audit.record(kind="payment_terms", user=user, obj=customer, name="customer_default",
                 before=before.name if before else "", after=terms.name if terms else "", note=customer.code)
    return customer


def check_order_terms(user, order) -> None:
    """Set an order's terms: the finance manager, while it awaits review (received)."""
    if not roles.may(user, "terms.manage", order):
        raise Forbidden()
    if order.state != State.RECEIVED:
        raise Conflict(_("Payment terms are set before the order is approved."), code="invalid_state")


may_set_order_terms = allows(check_order_terms)


@transaction.atomic
def set_order_terms(*, user, order_id, terms: PaymentTerms | None):
    """The finance manager sets the order's terms in the review; a finance sign-off already given for
    this round must be given again over the new terms (409 until the order is changed or returned)."""
    from orders.models import Signoff
    from orders.services import record_changes

    order = lock_visible_order(user, order_id)
    check_order_terms(user, order)
    if terms is not None and not terms.is_active:
        raise InvalidInput(errors={"payment_terms": [_("These payment terms are no longer offered.")]})
    if order.payment_terms_id == (terms.pk if terms else None):
        return order
    if Signoff.objects.filter(
        order=order, review_round=order.review_round, department=Signoff.Department.FINANCE
    ).exists():
        raise Conflict(_("Finance has signed off this round already; the terms it covered stand."), code="signed_off")
    record_changes(order=order, user=user, changes={"payment_terms": (order.payment_terms, terms)})
    order.payment_terms = terms
    order.save(update_fields=["payment_terms", "updated_at"])
    return order


def installment_amounts(order, terms=None) -> list[tuple[Installment, Decimal]]:
    """Each installment of the order's terms with its amount; the last takes the rounding remainder."""
    terms = terms or order.payment_terms
    if terms is None:
        return []
    items = list(terms.installments.all())
    result, allotted = [], Decimal("0.00")
    for n, item in enumerate(items):
        if n == len(items) - 1:
            amount = order.total_amount - allotted
        else:
            amount = (order.total_amount * item.percent / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
        allotted += amount
        result.append((item, amount))
    return result


def _invoiced(order) -> Decimal:
    return order.invoices.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")


def _reserved(order) -> Decimal:
    """What the terms' installments not yet drawn will invoice (kept free of invoices typed by hand)."""
    drawn = set(order.invoices.filter(installment__isnull=False).values_list("installment_id", flat=True))
    return sum((amount for item, amount in installment_amounts(order) if item.pk not in drawn), Decimal("0.00"))


def uninvoiced(order) -> Decimal:
    """What may still be invoiced by hand: the total less what is invoiced and what the terms will draw."""
    return order.total_amount - _invoiced(order) - _reserved(order)


# --- invoices --------------------------------------------------------------------------------------
@transaction.atomic
def create_invoice(*, user, order_id, amount: Decimal, due_date) -> Invoice:
    """An invoice typed by hand, within what remains uninvoiced; its due date may not lie in the past."""
    order = lock_visible_order(user, order_id)
    check_invoice(user, order)
    errors = {}
    if amount is None or amount <= 0:
        errors["amount"] = [_("The amount must be greater than zero.")]
    else:
        left = uninvoiced(order)
        if amount > left:
            errors["amount"] = [
                _("Invoices may not exceed the order total (%(left)s left to invoice).")
                % {"left": max(left, Decimal("0.00"))}
            ]
    if due_date is None or due_date < timezone.localdate():
        errors["due_date"] = [_("The due date may not lie in the past.")]
    if errors:
        raise InvalidInput(_("The invoice is invalid."), errors=errors)
    # typed by hand as before (DESIGN §6b): the customer's invoice e-mail goes with the invoices drawn from terms
    invoice = Invoice.objects.create(order=order, amount=amount, due_date=due_date, issued_by=user)
    audit.record(kind="invoice", user=user, order=order, obj=invoice, name="create", after=amount,
                 note=f"due {due_date}")
    return invoice


def _announce(invoice: Invoice) -> None:
    """The customer's e-mail with the invoice attached (rendered when the worker sends it)."""
    from notifications import services as notifications

    notifications.notify_customer(
        order=invoice.order, event="invoiced", dedupe=f"invoice:{invoice.pk}", context={"invoice": invoice}
    )


def draw_invoices(*, order, user, triggers) -> list[Invoice]:
    """Invoice each installment of the order's terms whose trigger is in `triggers` (idempotent: an
    installment already invoiced is skipped, and the unique constraint refuses a second one)."""
    if order.payment_terms_id is None or order.total_amount <= 0:
        return []
    today = timezone.localdate()
    drawn = set(order.invoices.filter(installment__isnull=False).values_list("installment_id", flat=True))
    room = order.total_amount - _invoiced(order)
    created = []
    for item, amount in installment_amounts(order):
        if item.trigger not in triggers or item.pk in drawn:
            continue
        amount = min(amount, room)
        if amount <= 0:
            continue
        try:
            with transaction.atomic():
                invoice = Invoice.objects.create(
                    order=order,
                    amount=amount,
                    due_date=today + datetime.timedelta(days=item.days),
                    issued_by=user,
                    source=Invoice.Source.TERMS,
                    installment=item,
                    trigger=item.trigger,
                )
        except IntegrityError:  # drawn by a concurrent retry of the event: once is enough
            continue
        room -= amount
        created.append(invoice)
        audit.record(kind="invoice", user=user, order=order, obj=invoice, name="draw", after=amount,
                     note=f"{item.trigger} due {invoice.due_date}")
        _announce(invoice)
    return created


def _draw_after(transition: str):
    def hook(*, order, user, comment):
        return draw_invoices(order=order, user=user, triggers=TRIGGERS_OF_TRANSITION[transition])

    hook.__name__ = f"invoice_on_{transition}"
    return hook


# after-effects of the lifecycle registry (orders/lifecycle.py names them by dotted path)
invoice_on_approval = _draw_after("approve")
invoice_on_shipment = _draw_after("ship")
invoice_on_acceptance = _draw_after("accept")


def credit_on_cancel(*, order, user, comment):
    """A cancelled order owes nothing more: each invoice's unpaid part is credited (the reason: the comment)."""
    for invoice in order.invoices.select_for_update().order_by("id"):
        if invoice.outstanding > 0:
            _credit(
                invoice=invoice, user=user, amount=invoice.outstanding, reason=comment or _("The order was cancelled.")
            )


def _credit(*, invoice, user, amount, reason) -> CreditNote:
    note = CreditNote.objects.create(invoice=invoice, amount=amount, reason=reason.strip(), issued_by=user)
    before = invoice.credited_amount
    invoice.credited_amount = invoice.credited_amount + amount
    invoice.save(update_fields=["credited_amount"])
    audit.record(kind="credit_note", user=user, order=invoice.order_id, obj=note, name="create", before=before,
                 after=invoice.credited_amount, note=note.reason)
    return note


@transaction.atomic
def create_credit_note(*, user, invoice_id, amount: Decimal, reason: str) -> CreditNote:
    """Credit part of an invoice (a reduced order): at most its unpaid part, with a reason."""
    invoice = _invoice_or_404(invoice_id)
    order = lock_visible_order(user, invoice.order_id)
    check_credit_note(user, order)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    errors = {}
    if amount is None or amount <= 0:
        errors["amount"] = [_("The amount must be greater than zero.")]
    elif amount > invoice.outstanding:
        errors["amount"] = [
            _("A credit note may not exceed the invoice's outstanding %(left)s.") % {"left": invoice.outstanding}
        ]
    if not (reason or "").strip():
        errors["reason"] = [_("This field is required.")]
    if errors:
        raise InvalidInput(_("The credit note is invalid."), errors=errors)
    return _credit(invoice=invoice, user=user, amount=amount, reason=reason)


def _invoice_or_404(invoice_id) -> Invoice:
    try:
        return Invoice.objects.get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


# --- payments --------------------------------------------------------------------------------------
@transaction.atomic
def record_payment(*, user, invoice_id, amount: Decimal, received_on, reference: str) -> Payment:
    invoice = _invoice_or_404(invoice_id)
    order = lock_visible_order(user, invoice.order_id)
    check_payment(user, order)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    errors = {}
    if amount is None or amount <= 0:
        errors["amount"] = [_("The amount must be greater than zero.")]
    elif amount > invoice.outstanding:
        errors["amount"] = [
            _("The payment exceeds the invoice's outstanding %(left)s.") % {"left": invoice.outstanding}
        ]
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


# --- the deposit gate ------------------------------------------------------------------------------
@transaction.atomic
def waive_deposit(*, user, order_id, reason: str) -> DepositWaiver:
    """Let production start before the deposit is paid (recorded in the order's history)."""
    from orders.services import record_changes

    order = lock_visible_order(user, order_id)
    check_waiver(user, order)
    if not (reason or "").strip():
        raise InvalidInput(errors={"reason": [_("A waiver needs a reason.")]})
    if len(reason.strip()) > 2000:
        raise InvalidInput(
            errors={
                "reason": [
                    _("Ensure this value has at most %(limit)s characters (it has %(n)s).")
                    % {"limit": 2000, "n": len(reason.strip())}
                ]
            }
        )
    if DepositWaiver.objects.filter(order=order).exists():
        raise Conflict(_("The deposit is already waived."), code="already_waived")
    if not deposit_due(order):
        raise Conflict(_("No deposit is due on this order."), code="no_deposit")
    waiver = DepositWaiver.objects.create(order=order, reason=reason.strip(), waived_by=user)
    record_changes(order=order, user=user, changes={"deposit_waiver": ("", reason.strip())})
    return waiver


def deposit_due(order) -> bool:
    """Whether the order's terms ask for an installment before production."""
    return (
        order.payment_terms_id is not None
        and order.payment_terms.installments.filter(trigger__in=DEPOSIT_TRIGGERS).exists()
    )


# --- follow-ups of receivables (R4.5) --------------------------------------------------------------
@transaction.atomic
def log_follow_up(*, user, invoice_id, channel: str, note: str, promised_on=None) -> FollowUp:
    if roles.is_record_hidden(user, Invoice):
        raise NotFound()
    invoice = _invoice_or_404(invoice_id)
    order = lock_visible_order(user, invoice.order_id)
    check_follow_up(user, order)
    errors = {}
    if channel not in FollowUp.Channel.values:
        errors["channel"] = [_("Choose call, email, visit or other.")]
    if not (note or "").strip():
        errors["note"] = [_("This field is required.")]
    elif len(note.strip()) > 2000 or "\x00" in note:
        errors["note"] = [_("At most 2000 characters, no null characters.")]
    if promised_on is not None and promised_on < timezone.localdate():
        errors["promised_on"] = [_("The promised date may not lie in the past.")]
    if errors:
        raise InvalidInput(_("The follow-up is invalid."), errors=errors)
    if invoice.outstanding <= 0:
        raise Conflict(_("The invoice is paid; nothing to follow up."), code="invoice_paid")
    follow_up = FollowUp.objects.create(
        invoice=invoice, channel=channel, note=note.strip(), promised_on=promised_on, recorded_by=user
    )
    audit.record(kind="receivable_followup", user=user, order=order, obj=follow_up, name=channel,
                 after=promised_on or "", note=follow_up.note)
    return follow_up
