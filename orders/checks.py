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

This module holds the engine and the order's own checks (overdue, review waiting);
a department's checks live in its app (:mod:`production.checks`: at risk, stale;
:mod:`finance.checks`: payment overdue) and are added with :func:`register`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from notifications import messages
from notifications.events import users_with_role
from notifications.models import Notification
from notifications.services import notify, notify_many
from orderdesk.roles import Role
from orders.models import Alert, Order, State
from orders.selectors import overdue_q

Kind = Notification.Kind


# --- the conditions ---------------------------------------------------------------------------------
def local_today(now: datetime.datetime) -> datetime.date:
    return timezone.localdate(now)


def overdue_candidates(now) -> QuerySet:
    return Order.objects.filter(overdue_q(local_today(now)))


def review_waiting_candidates(now) -> QuerySet:
    cutoff = now - datetime.timedelta(hours=settings.REVIEW_WAIT_HOURS)
    return Order.objects.filter(state=State.RECEIVED, submitted_at__isnull=False, submitted_at__lt=cutoff)


# --- who is told -------------------------------------------------------------------------------------------
def people(*role_names):
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


#: every scheduled check by name: the order's own here; production (``at_risk``, ``stale``) and finance
#: (``payment_overdue``) add theirs from their AppConfig.ready() through :func:`register` (`orders` imports
#: no department)
CHECKS: dict[str, Check] = {
    "overdue": Check(Alert.Kind.OVERDUE, Kind.ORDER_OVERDUE, overdue_candidates, people("assistant", Role.SALES_MANAGER)),
    "review_waiting": Check(
        Alert.Kind.REVIEW_WAITING, Kind.REVIEW_WAITING, review_waiting_candidates, people(Role.SALES_MANAGER),
        params=lambda: {"hours": settings.REVIEW_WAIT_HOURS},
    ),
}


def register(name: str, check: Check) -> None:
    """Add a department's check (called from its ``ready()``)."""
    CHECKS[name] = check


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


def _fire_chunk(check: Check, found: dict[int, dict], now, cache) -> int:
    """Fire the alerts of one chunk of orders and write their notifications, set-based, in one transaction.

    New alerts are inserted in one statement (a concurrent run's row wins the unique constraint and is left
    alone), resolved ones whose condition came back are re-opened in one update; the alerts this run fired
    are those now open with this run's ``fired_at``. Their people are told through
    :func:`notifications.services.notify_many` (the same texts, preferences and dedupe keys as one by one)."""
    with transaction.atomic():
        pks = sorted(found)
        known = dict(Alert.objects.filter(order_id__in=pks, kind=check.kind).values_list("order_id", "resolved_at"))
        Alert.objects.bulk_create(
            [Alert(order_id=pk, kind=check.kind, fired_at=now) for pk in pks if pk not in known],
            ignore_conflicts=True,
        )
        # a resolved alert whose condition came back: the same row, re-opened (escalation clock restarted)
        back = [pk for pk, resolved_at in known.items() if resolved_at is not None]
        if back:
            Alert.objects.filter(order_id__in=back, kind=check.kind, resolved_at__isnull=False).update(
                fired_at=now, resolved_at=None, escalated_at=None
            )
        fired = list(
            Alert.objects.filter(order_id__in=pks, kind=check.kind, fired_at=now, resolved_at__isnull=True)
            .order_by("order_id")
            .values_list("pk", "order_id", "fired_at")
        )
        if not fired:
            return 0
        orders = Order.objects.select_related("assistant", "customer").in_bulk([order_id for _, order_id, _ in fired])
        params = check.params()
        notify_many(kind=check.notification_kind, items=[
            {
                "order": orders[order_id], "users": check.recipients(orders[order_id], cache),
                "dedupe": f"alert:{pk}:{fired_at.timestamp():.0f}", "params": {**params, **found[order_id]},
            }
            for pk, order_id, fired_at in fired
        ])
    return len(fired)


def fire(check: Check, now) -> int:
    fired, cache = 0, {}
    open_alert = _open_alerts(check.kind).filter(order=OuterRef("pk"))
    for ids in _id_chunks(check.candidates(now).exclude(Exists(open_alert))):
        found = check.confirm(ids, now) if check.confirm is not None else {pk: {} for pk in ids}
        if found:
            fired += _fire_chunk(check, found, now, cache)
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


# --- reminders: checks that tell without raising an alert (registered by their app) --------------------
#: name -> ``run(now) -> how many were told``: production's ``milestone_due`` (see production.checks)
REMINDERS: dict[str, Callable[[datetime.datetime], int]] = {}


def register_reminder(name: str, run: Callable[[datetime.datetime], int]) -> None:
    """Add a department's reminder (called from its ``ready()``)."""
    REMINDERS[name] = run


def id_chunks(qs: QuerySet, field: str = "pk") -> Iterator[list[int]]:
    """Walk a queryset's ids in primary-key order, one chunk at a time (for a department's reminder too)."""
    return _id_chunks(qs, field)


def run_check(name: str, *, now: datetime.datetime | None = None) -> dict[str, int]:
    """Resolve, fire and escalate one check; returns its counts."""
    if name in REMINDERS:
        return {"resolved": 0, "fired": REMINDERS[name](now or timezone.now()), "escalated": 0}
    if name not in CHECKS:
        raise ValueError(f"unknown check {name!r}; choose from {', '.join([*CHECKS, *REMINDERS])}")
    check, now = CHECKS[name], now or timezone.now()
    return {"resolved": resolve(check, now), "fired": fire(check, now), "escalated": escalate(check, now)}


def check_overdue_orders(*, today=None) -> int:
    """The overdue check alone (kept for callers of the first version); returns how many fired."""
    return run_check("overdue")["fired"]


def run_checks(*, names=None, now: datetime.datetime | None = None) -> dict[str, int]:
    """Run every check (or those in `names`): ``{name: fired, ..., "resolved": n, "escalated": n}``."""
    now = now or timezone.now()
    result, resolved, escalated = {}, 0, 0
    for name in names or [*CHECKS, *REMINDERS]:
        counts = run_check(name, now=now)
        result[name] = counts["fired"]
        resolved += counts["resolved"]
        escalated += counts["escalated"]
    return {**result, "resolved": resolved, "escalated": escalated}
