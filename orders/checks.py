"""Scheduled checks (R4.4, R5.3, R6.1): the same code runs from Celery beat and `check_overdue`.

Each check is a condition on orders, written as set-based SQL where it can be
(the pace projection of progress reports is finished in Python, one chunk of
orders at a time), and goes through the same three steps on every run:

1. **resolve** — an open alert whose condition no longer holds gets ``resolved_at``;
2. **fire** — an order meeting the condition without an open alert gets one
   (:class:`orders.models.Alert`, unique per order and kind) and its people are
   told once. A *resolved* alert whose condition comes back fires again: the same
   row is re-opened (``fired_at`` renewed, ``resolved_at``/``escalated_at`` cleared)
   and the notification's dedupe key carries the new firing time, so every
   episode is told exactly once and a steady condition never repeats;
3. **escalate** — an alert still open ``ALERT_ESCALATION_HOURS`` after it fired is
   escalated once to the sales managers (``escalated_at``, kind ``alert_escalated``).

Nothing loads all orders at once: candidates are walked by primary key in
chunks of ``CHECK_CHUNK_SIZE``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications import messages
from notifications.events import users_with_role
from notifications.models import Notification, Reminder
from notifications.services import notify
from orderdesk.roles import Role
from orders.models import Alert, Order, State
from orders.selectors import overdue_q

Kind = Notification.Kind


# --- the conditions ---------------------------------------------------------------------------------
def _today(now: datetime.datetime) -> datetime.date:
    return timezone.localdate(now)


def overdue_candidates(now) -> QuerySet:
    return Order.objects.filter(overdue_q(_today(now)))


AT_RISK_STATES = (State.SCHEDULED, State.PRODUCING)


def _milestone_q(now) -> Q:
    """The plan projects a late finish: a milestone not done past its due date, or a milestone
    planned after the promised date."""
    from production.models import Milestone

    today = _today(now)
    late = Milestone.objects.filter(plan__order=OuterRef("pk"), done_at__isnull=True, due_date__lt=today)
    beyond = Milestone.objects.filter(
        plan__order=OuterRef("pk"), done_at__isnull=True, due_date__gt=OuterRef("promised_delivery_date")
    )
    return Q(Exists(late)) | Q(Exists(beyond))


def _reports(order_ref, newest: bool):
    from production.models import ProgressReport

    order = ("-reported_at", "-id") if newest else ("reported_at", "id")
    return ProgressReport.objects.filter(order=order_ref).order_by(*order)


def at_risk_candidates(now) -> QuerySet:
    """Open, not yet overdue orders with a plan or progress to judge (superset; see :func:`at_risk_confirm`)."""
    from production.models import ProgressReport

    has_reports = Exists(ProgressReport.objects.filter(order=OuterRef("pk")))
    return Order.objects.filter(
        state__in=AT_RISK_STATES, promised_delivery_date__gte=_today(now)
    ).filter(_milestone_q(now) | Q(has_reports, state=State.PRODUCING))


def projected_finish(first_at, first_pct, last_at, last_pct) -> datetime.datetime | None:
    """Linear projection of the finish from the first and the latest progress report; None when it
    cannot be judged (fewer than two reports at different times) — ``datetime.max`` when progress stalled."""
    if first_at is None or last_at is None or last_at <= first_at or last_pct >= 100:
        return None
    rate = (last_pct - first_pct) / (last_at - first_at).total_seconds()  # percent per second
    if rate <= 0:
        return datetime.datetime.max.replace(tzinfo=datetime.UTC)
    return last_at + datetime.timedelta(seconds=(100 - last_pct) / rate)


def at_risk_confirm(ids: list[int], now) -> dict[int, dict]:
    """Which of the candidate orders are at risk, with the reason (for the message)."""
    plan_late = set(
        at_risk_candidates(now).filter(pk__in=ids).filter(_milestone_q(now)).values_list("pk", flat=True)
    )
    found = {pk: {"reason": messages.nested("risk_plan_late")} for pk in plan_late}
    rest = [pk for pk in ids if pk not in plan_late]
    if not rest:
        return found
    first, last = _reports(OuterRef("pk"), newest=False), _reports(OuterRef("pk"), newest=True)
    rows = (
        Order.objects.filter(pk__in=rest, state=State.PRODUCING)
        .annotate(
            first_at=Subquery(first.values("reported_at")[:1]), first_pct=Subquery(first.values("percent_complete")[:1]),
            last_at=Subquery(last.values("reported_at")[:1]), last_pct=Subquery(last.values("percent_complete")[:1]),
        )
        .values_list("pk", "promised_delivery_date", "first_at", "first_pct", "last_at", "last_pct")
    )
    for pk, promised, first_at, first_pct, last_at, last_pct in rows:
        finish = projected_finish(first_at, first_pct, last_at, last_pct)
        if finish is None:
            continue
        if finish.year >= 9999:
            found[pk] = {"reason": messages.nested("risk_no_progress")}
        elif timezone.localdate(finish) > promised:
            found[pk] = {"reason": messages.nested("risk_pace", date=messages.date(timezone.localdate(finish)))}
    return found


def stale_candidates(now) -> QuerySet:
    """Producing orders whose last progress report (or, without one, the start of production — the
    order's last change) is older than ``STALE_PROGRESS_DAYS``."""
    last = Subquery(_reports(OuterRef("pk"), newest=True).values("reported_at")[:1])
    cutoff = now - datetime.timedelta(days=settings.STALE_PROGRESS_DAYS)
    return (
        Order.objects.filter(state=State.PRODUCING)
        .annotate(last_progress=Coalesce(last, F("updated_at")))
        .filter(last_progress__lt=cutoff)
    )


def payment_overdue_candidates(now) -> QuerySet:
    from finance.models import Invoice

    unpaid = Invoice.objects.filter(order=OuterRef("pk"), due_date__lt=_today(now), paid_amount__lt=F("amount"))
    return Order.objects.filter(Exists(unpaid))


def review_waiting_candidates(now) -> QuerySet:
    cutoff = now - datetime.timedelta(hours=settings.REVIEW_WAIT_HOURS)
    return Order.objects.filter(state=State.RECEIVED, submitted_at__isnull=False, submitted_at__lt=cutoff)


# --- who is told -------------------------------------------------------------------------------------------
def _people(*role_names):
    roles = tuple(r for r in role_names if r != "assistant")

    def recipients(order, cache):
        if roles not in cache:
            cache[roles] = users_with_role(*roles)
        return [order.assistant, *cache[roles]] if "assistant" in role_names else list(cache[roles])

    return recipients


@dataclass(frozen=True)
class Check:
    kind: str  # Alert.Kind
    notification_kind: str
    candidates: Callable[[datetime.datetime], QuerySet]
    recipients: Callable
    confirm: Callable[[list[int], datetime.datetime], dict[int, dict]] | None = None
    params: Callable[[], dict] = dict


CHECKS: dict[str, Check] = {
    "overdue": Check(Alert.Kind.OVERDUE, Kind.ORDER_OVERDUE, overdue_candidates, _people("assistant", Role.SALES_MANAGER)),
    "at_risk": Check(
        Alert.Kind.AT_RISK, Kind.ORDER_AT_RISK, at_risk_candidates,
        _people("assistant", Role.SALES_MANAGER, Role.PRODUCTION_SUPERVISOR), confirm=at_risk_confirm,
    ),
    "stale": Check(
        Alert.Kind.STALE, Kind.ORDER_STALE, stale_candidates, _people("assistant", Role.PRODUCTION_SUPERVISOR),
        params=lambda: {"days": settings.STALE_PROGRESS_DAYS},
    ),
    "payment_overdue": Check(
        Alert.Kind.PAYMENT_OVERDUE, Kind.PAYMENT_OVERDUE, payment_overdue_candidates,
        _people("assistant", Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER),
    ),
    "review_waiting": Check(
        Alert.Kind.REVIEW_WAITING, Kind.REVIEW_WAITING, review_waiting_candidates, _people(Role.SALES_MANAGER),
        params=lambda: {"hours": settings.REVIEW_WAIT_HOURS},
    ),
}


# --- the engine ----------------------------------------------------------------------------------------------
def _id_chunks(qs: QuerySet, field: str = "pk") -> Iterator[list[int]]:
    """Walk a queryset's ids in primary-key order, one chunk at a time (keyset pagination)."""
    size, last = settings.CHECK_CHUNK_SIZE, 0
    while True:
        ids = list(qs.filter(**{f"{field}__gt": last}).order_by(field).values_list(field, flat=True)[:size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _matching(check: Check, ids: list[int], now) -> dict[int, dict]:
    ids = list(check.candidates(now).filter(pk__in=ids).values_list("pk", flat=True))
    if check.confirm is not None:
        return check.confirm(ids, now)
    return {pk: {} for pk in ids}


def _open_alerts(kind) -> QuerySet:
    return Alert.objects.filter(kind=kind, resolved_at__isnull=True)


def resolve(check: Check, now) -> int:
    resolved = 0
    for alert_ids in _id_chunks(_open_alerts(check.kind)):
        pairs = list(Alert.objects.filter(pk__in=alert_ids).values_list("pk", "order_id"))
        still = _matching(check, [order_id for _, order_id in pairs], now)
        gone = [pk for pk, order_id in pairs if order_id not in still]
        resolved += _open_alerts(check.kind).filter(pk__in=gone).update(resolved_at=now)
    return resolved


def _fire(check: Check, order: Order, extra: dict, now, cache) -> bool:
    try:
        with transaction.atomic():
            alert, created = Alert.objects.select_for_update().get_or_create(
                order=order, kind=check.kind, defaults={"fired_at": now}
            )
            if not created:
                if alert.resolved_at is None:  # a concurrent run fired it
                    return False
                alert.fired_at, alert.resolved_at, alert.escalated_at = now, None, None  # the condition came back
                alert.save(update_fields=["fired_at", "resolved_at", "escalated_at"])
            notify(
                kind=check.notification_kind, order=order, users=check.recipients(order, cache),
                dedupe=f"alert:{alert.pk}:{alert.fired_at.timestamp():.0f}", params={**check.params(), **extra},
            )
    except IntegrityError:  # a concurrent run created it first
        return False
    return True


def fire(check: Check, now) -> int:
    fired, cache = 0, {}
    open_alert = _open_alerts(check.kind).filter(order=OuterRef("pk"))
    for ids in _id_chunks(check.candidates(now).exclude(Exists(open_alert))):
        found = check.confirm(ids, now) if check.confirm is not None else {pk: {} for pk in ids}
        if not found:
            continue
        orders = Order.objects.select_related("assistant", "customer").in_bulk(list(found))
        for pk in sorted(found):
            fired += _fire(check, orders[pk], found[pk], now, cache)
    return fired


def escalate(check: Check, now) -> int:
    """Escalate once to the sales managers each alert of `check` still open after ALERT_ESCALATION_HOURS."""
    cutoff = now - datetime.timedelta(hours=settings.ALERT_ESCALATION_HOURS)
    due = _open_alerts(check.kind).filter(escalated_at__isnull=True, fired_at__lte=cutoff)
    managers = users_with_role(Role.SALES_MANAGER)
    escalated = 0
    for alert_ids in _id_chunks(due):
        for alert in Alert.objects.filter(pk__in=alert_ids).select_related("order"):
            with transaction.atomic():
                if not Alert.objects.filter(pk=alert.pk, escalated_at__isnull=True).update(escalated_at=now):
                    continue  # a concurrent run escalated it
                notify(
                    kind=Kind.ALERT_ESCALATED, order=alert.order, users=managers,
                    dedupe=f"escalation:{alert.pk}:{alert.fired_at.timestamp():.0f}",
                    params={"hours": settings.ALERT_ESCALATION_HOURS,
                            "alert": messages.choice("orders.Alert.kind", alert.kind)},
                )
            escalated += 1
    return escalated


# --- milestones falling due (issue 8) -----------------------------------------------------------------
MILESTONE_CHECK = "milestone_due"


def milestone_reminders(now) -> int:
    """Tell each open milestone's responsible person once when it falls due within
    ``MILESTONE_DUE_DAYS`` days, and once more when it is overdue; a
    :class:`notifications.models.Reminder` per milestone and stage makes it once."""
    from production.models import Milestone

    today = _today(now)
    soon = today + datetime.timedelta(days=settings.MILESTONE_DUE_DAYS)
    candidates = Milestone.objects.filter(
        done_at__isnull=True, due_date__lte=soon, plan__order__state__in=AT_RISK_STATES
    ).select_related("plan", "responsible")
    sent = 0
    for ids in _id_chunks(candidates):
        milestones = list(candidates.filter(pk__in=ids))
        keys = {m.pk: f"milestone:{m.pk}:{'overdue' if m.due_date < today else 'due'}" for m in milestones}
        done = set(Reminder.objects.filter(key__in=keys.values()).values_list("key", flat=True))
        for milestone in milestones:
            key = keys[milestone.pk]
            if key in done:
                continue
            try:
                with transaction.atomic():
                    Reminder.objects.create(key=key, sent_at=now)
                    from notifications import events

                    events.milestone_due(milestone=milestone, overdue=milestone.due_date < today)
            except IntegrityError:  # a concurrent run sent it
                continue
            sent += 1
    return sent


def run_check(name: str, *, now: datetime.datetime | None = None) -> dict[str, int]:
    """Resolve, fire and escalate one check; returns its counts."""
    if name == MILESTONE_CHECK:
        return {"resolved": 0, "fired": milestone_reminders(now or timezone.now()), "escalated": 0}
    if name not in CHECKS:
        raise ValueError(f"unknown check {name!r}; choose from {', '.join(CHECKS)}")
    check, now = CHECKS[name], now or timezone.now()
    return {"resolved": resolve(check, now), "fired": fire(check, now), "escalated": escalate(check, now)}


def check_overdue_orders(*, today=None) -> int:
    """The overdue check alone (kept for callers of the first version); returns how many fired."""
    return run_check("overdue")["fired"]


def run_checks(*, names=None, now: datetime.datetime | None = None) -> dict[str, int]:
    """Run every check (or those in `names`): ``{name: fired, ..., "resolved": n, "escalated": n}``."""
    now = now or timezone.now()
    result, resolved, escalated = {}, 0, 0
    for name in names or [*CHECKS, MILESTONE_CHECK]:
        counts = run_check(name, now=now)
        result[name] = counts["fired"]
        resolved += counts["resolved"]
        escalated += counts["escalated"]
    return {**result, "resolved": resolved, "escalated": escalated}
