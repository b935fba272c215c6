"""The violation report (R6.1): the process rules internal audit checks, each found on the database.

Each rule is one SQL query (a filter with correlated ``EXISTS``/sub-selects, never a loop over orders), so
the report answers in a bounded number of queries — one per rule — whatever the number of orders
(``manage.py benchmark``'s violation figure). A row: ``rule``, ``order`` (id), ``number``, ``user`` (id of
the person who did it, where known), ``at`` (when), ``detail`` (what was found, as text).

The rules (:data:`RULES`, explained on ``/supervision/violations/`` in the reader's language):

* ``self_approval`` — an order approved by the person who created it;
* ``credit_override`` — an order approved over the customer's credit limit (an override with its reason);
* ``change_after_approval`` — what the assistant recorded at intake changed after the approval;
* ``late_without_notice`` — an order delivered after, or still open past, its promised date whose customer
  was never told: no delay or promise e-mail and no communication logged after the approval;
* ``accepted_without_receipt`` — an order accepted (or settled) without a signed receipt (signer and date);
* ``settled_without_payment`` — an order settled while its payments do not cover its total;
* ``state_written_outside_service`` — an order whose state is not the one its last recorded transition
  reached (the state was written around the transition service).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import (
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm_log.models import StateLog

from orderdesk import roles
from orders.models import Communication, Order, OrderChange, State
from supervision.selectors.common import CORRECTION_FIELDS, day_bounds, order_ct

#: rule → (title, explanation), in the order the page shows them
RULES: dict[str, tuple] = {
    "self_approval": (
        _("Approval by the creator"),
        _(
            "The order was approved by the same person who created it. The four-eyes rule (R4.2) requires the "
            "sales manager's review by someone else."
        ),
    ),
    "credit_override": (
        _("Credit override"),
        _(
            "The order was approved although the customer's open exposure plus the order exceeded the credit "
            "limit; the approver overrode the credit check with a reason. Each override should be justified."
        ),
    ),
    "change_after_approval": (
        _("Change after approval"),
        _(
            "Customer, contact, address, dates, terms or lines were changed after the order was approved: what "
            "production and finance work from is no longer what the manager reviewed."
        ),
    ),
    "late_without_notice": (
        _("Late, customer not told"),
        _(
            "The order was delivered after its promised date, or is still open past it, and the customer was never "
            "told: no delay or promise-change e-mail and no communication logged after the approval (R4.4, R5.3)."
        ),
    ),
    "accepted_without_receipt": (
        _("Accepted without a signed receipt"),
        _(
            "The order was accepted (or settled) without a signed receipt: the signer or the signing date is "
            "missing (R4.5)."
        ),
    ),
    "settled_without_payment": (
        _("Settled without full payment"),
        _("The order was settled although the payments recorded for its invoices do not cover its total (R4.5)."),
    ),
    "state_written_outside_service": (
        _("State written outside the service"),
        _(
            "The order's state is not the state its last recorded transition reached (or it left “received” "
            "without any recorded transition): the state was written directly, around the transition service, "
            "so who changed it and why is unknown."
        ),
    ),
}

#: customer e-mails (notifications.EmailOutbox.kind) that tell of a delay or a new promised date
NOTICE_EMAIL_KINDS = ("customer_delayed", "customer_promise", "customer_promise_changed", "customer_promise_revised")


def _in_period(qs, field: str, start, end, *, is_date: bool = False):
    if start is None and end is None:
        return qs
    if is_date:
        if start is not None:
            qs = qs.filter(**{f"{field}__gte": start})
        if end is not None:
            qs = qs.filter(**{f"{field}__lte": end})
        return qs
    lo, hi = day_bounds(start or datetime.date(1970, 1, 1), end or timezone.localdate())
    return qs.filter(**{f"{field}__gte": lo, f"{field}__lt": hi})


def _rows(rule, qs, *, at: str, user: str | None, detail):
    """One query: the rule's rows as dicts."""
    fields = ["pk", "number", at] + ([user] if user else [])
    out = []
    for values in qs.order_by(f"-{at}", "-pk").values_list(*fields, *detail[0]):
        pk, number, when = values[0], values[1], values[2]
        who = values[3] if user else None
        extra = values[4 if user else 3 :]
        out.append({"rule": rule, "order": pk, "number": number, "user": who, "at": when, "detail": detail[1](*extra)})
    return out


def self_approval(start=None, end=None, **_kw):
    qs = _in_period(Order.objects.filter(approved_by_id=F("created_by_id")), "approved_at", start, end)
    return _rows(
        "self_approval",
        qs,
        at="approved_at",
        user="approved_by_id",
        detail=((), lambda: str(_("approved by the person who created it"))),
    )


def credit_override(start=None, end=None, *, viewer=None, **_kw):
    qs = _in_period(
        Order.objects.exclude(credit_override_reason="").filter(approved_at__isnull=False), "approved_at", start, end
    )
    hidden = viewer is not None and not roles.sees_credit(viewer)
    return _rows(
        "credit_override",
        qs,
        at="approved_at",
        user="approved_by_id",
        detail=(("credit_override_reason",), lambda reason: "" if hidden else reason[:500]),
    )


def change_after_approval(start=None, end=None, *, viewer=None, **_kw):
    qs = OrderChange.objects.filter(
        order__approved_at__isnull=False, at__gt=F("order__approved_at"), field__in=CORRECTION_FIELDS
    )
    qs = _in_period(qs, "at", start, end)
    hidden = roles.hidden_history_fields(viewer) if viewer is not None else frozenset()
    out = []
    for order_id, number, at, user_id, field, old, new in qs.order_by("-at", "-id").values_list(
        "order_id", "order__number", "at", "user_id", "field", "old_value", "new_value"
    ):
        detail = field if field in hidden else f"{field}: {old[:200]} → {new[:200]}"
        out.append(
            {
                "rule": "change_after_approval",
                "order": order_id,
                "number": number,
                "user": user_id,
                "at": at,
                "detail": detail,
            }
        )
    return out


def late_without_notice(start=None, end=None, *, today=None, **_kw):
    from notifications.models import EmailOutbox

    today = today or timezone.localdate()
    told_by_mail = EmailOutbox.objects.filter(order=OuterRef("pk"), kind__in=NOTICE_EMAIL_KINDS)
    told_in_person = Communication.objects.filter(order=OuterRef("pk"), at__gte=OuterRef("approved_at"))
    late = Q(accepted_on__gt=F("promised_delivery_date")) | Q(
        accepted_at__isnull=True, promised_delivery_date__lt=today
    )
    qs = (
        Order.objects.exclude(state=State.CANCELLED)
        .filter(promised_delivery_date__isnull=False)
        .annotate(accepted_on=TruncDate("accepted_at"))
        .filter(late)
        .exclude(Exists(told_by_mail))
        .exclude(Exists(told_in_person))
    )
    qs = _in_period(qs, "promised_delivery_date", start, end, is_date=True)
    return _rows(
        "late_without_notice",
        qs,
        at="promised_delivery_date",
        user="assistant_id",
        detail=(
            ("accepted_on",),
            lambda on: str(
                _("delivered %(on)s, the customer not told") % {"on": on}
                if on
                else _("still open past the promised date, the customer not told")
            ),
        ),
    )


def accepted_without_receipt(start=None, end=None, **_kw):
    qs = Order.objects.filter(state__in=[State.ACCEPTED, State.SETTLED]).filter(
        Q(receipt_signed_by="") | Q(receipt_signed_on__isnull=True)
    )
    accepted_by = (
        StateLog.objects.filter(content_type=order_ct(), object_id=OuterRef("pk"), transition="accept")
        .order_by("-timestamp", "-id")
        .values("by_id")[:1]
    )
    qs = qs.annotate(accepted_by=Subquery(accepted_by), when=Coalesce("accepted_at", "updated_at"))
    qs = _in_period(qs, "when", start, end)
    return _rows(
        "accepted_without_receipt",
        qs,
        at="when",
        user="accepted_by",
        detail=(
            ("receipt_signed_by", "receipt_signed_on"),
            lambda by, on: str(_("no signer recorded") if not by else _("no signing date recorded")),
        ),
    )


def settled_without_payment(start=None, end=None, *, viewer=None, **_kw):
    from finance.models import Payment

    money = DecimalField(max_digits=16, decimal_places=2)
    paid = (
        Payment.objects.filter(invoice__order=OuterRef("pk"))
        .order_by()
        .values("invoice__order")
        .annotate(s=Sum("amount"))
        .values("s")[:1]
    )
    settled_by = (
        StateLog.objects.filter(content_type=order_ct(), object_id=OuterRef("pk"), transition="settle")
        .order_by("-timestamp", "-id")
        .values("by_id")[:1]
    )
    qs = (
        Order.objects.filter(state=State.SETTLED)
        .annotate(paid=Coalesce(Subquery(paid, output_field=money), Value(Decimal("0.00"), output_field=money)))
        .filter(paid__lt=F("total_amount"))
        .annotate(settled_by=Subquery(settled_by), when=Coalesce("settled_at", "updated_at"))
    )
    qs = _in_period(qs, "when", start, end)
    hidden = viewer is not None and not roles.sees_prices(viewer)
    return _rows(
        "settled_without_payment",
        qs,
        at="when",
        user="settled_by",
        detail=(
            ("paid", "total_amount"),
            lambda paid, total: (
                str(_("payments do not cover the total"))
                if hidden
                else str(_("paid %(paid)s of %(total)s") % {"paid": paid, "total": total})
            ),
        ),
    )


def state_written_outside_service(start=None, end=None, **_kw):
    # the state the last recorded transition reached ("received" before any): one correlated lookup per order
    last = StateLog.objects.filter(content_type=order_ct(), object_id=OuterRef("pk")).order_by("-timestamp", "-id")
    qs = Order.objects.annotate(
        logged_state=Coalesce(Subquery(last.values("state")[:1]), Value(State.RECEIVED.value))
    ).exclude(state=F("logged_state"))
    qs = _in_period(qs, "updated_at", start, end)
    return _rows(
        "state_written_outside_service",
        qs,
        at="updated_at",
        user=None,
        detail=(
            ("state", "logged_state"),
            lambda state, logged: str(
                _("state %(state)s, last recorded transition reached %(logged)s")
                % {"state": state, "logged": logged or "—"}
            ),
        ),
    )


FINDERS = {
    "self_approval": self_approval,
    "credit_override": credit_override,
    "change_after_approval": change_after_approval,
    "late_without_notice": late_without_notice,
    "accepted_without_receipt": accepted_without_receipt,
    "settled_without_payment": settled_without_payment,
    "state_written_outside_service": state_written_outside_service,
}


def violations(*, start=None, end=None, rule: str | None = None, viewer=None, today=None) -> list[dict]:
    """Every rule's findings (or one rule's), newest first within each rule; one query per rule."""
    rules = [rule] if rule else list(FINDERS)
    found: list[dict] = []
    for name in rules:
        found.extend(FINDERS[name](start, end, viewer=viewer, today=today))
    return found


def as_datetime(value):
    """A row's ``at`` as an aware datetime (the late rule's is a date)."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time.min, tzinfo=timezone.get_current_timezone())
    return value
