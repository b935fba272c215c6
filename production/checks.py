"""Production's scheduled checks (R4.4), run by the engine of :mod:`orders.checks` (Celery beat and
`check_overdue`): an order **at risk** (its plan is behind or ends after the promised date, or at the reported
pace production finishes late), **stale** progress (no report for ``STALE_PROGRESS_DAYS``), and the reminder
``milestone_due`` (a milestone's responsible person told when it falls due and when it is late). Registered
by :meth:`production.apps.ProductionConfig.ready`."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications import events, messages
from notifications.models import Reminder
from orderdesk.roles import Role
from orders.checks import Check, Kind, id_chunks, local_today, people
from orders.models import Alert, Order, State
from production.models import Milestone, ProgressReport

AT_RISK_STATES = (State.SCHEDULED, State.PRODUCING)


def _milestone_q(now) -> Q:
    """The plan projects a late finish: a milestone not done past its due date, or a milestone
    planned after the promised date."""
    today = local_today(now)
    late = Milestone.objects.filter(plan__order=OuterRef("pk"), done_at__isnull=True, due_date__lt=today)
    beyond = Milestone.objects.filter(
        plan__order=OuterRef("pk"), done_at__isnull=True, due_date__gt=OuterRef("promised_delivery_date")
    )
    return Q(Exists(late)) | Q(Exists(beyond))


def _reports(order_ref, newest: bool):
    order = ("-reported_at", "-id") if newest else ("reported_at", "id")
    return ProgressReport.objects.filter(order=order_ref).order_by(*order)


def complete_q() -> Q:
    """Production is done: the latest progress report says 100 % (on an annotated ``latest_pct``). A
    complete order is never at risk, whatever its milestone dates; a milestone counts as late only
    while it is not completed (issue 10)."""
    return Q(latest_pct__gte=100)


def at_risk_candidates(now) -> QuerySet:
    """Open, not yet overdue, not complete orders with a plan or progress to judge (superset; see
    :func:`at_risk_confirm`)."""
    has_reports = Exists(ProgressReport.objects.filter(order=OuterRef("pk")))
    # no report: -1, so that excluding the complete ones never drops an order on a NULL
    latest_pct = Coalesce(Subquery(_reports(OuterRef("pk"), newest=True).values("percent_complete")[:1]), -1)
    return (
        Order.objects.filter(state__in=AT_RISK_STATES, promised_delivery_date__gte=local_today(now))
        .annotate(latest_pct=latest_pct)
        .exclude(complete_q())
        .filter(_milestone_q(now) | Q(has_reports, state=State.PRODUCING))
    )


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


AT_RISK = Check(
    Alert.Kind.AT_RISK, Kind.ORDER_AT_RISK, at_risk_candidates,
    people("assistant", Role.SALES_MANAGER, Role.PRODUCTION_SUPERVISOR), confirm=at_risk_confirm,
)
STALE = Check(
    Alert.Kind.STALE, Kind.ORDER_STALE, stale_candidates, people("assistant", Role.PRODUCTION_SUPERVISOR),
    params=lambda: {"days": settings.STALE_PROGRESS_DAYS},
)


# --- milestones falling due (issue 8): a reminder, not an alert ------------------------------------------
MILESTONE_CHECK = "milestone_due"


def milestone_reminders(now) -> int:
    """Tell each open milestone's responsible person once when it falls due within
    ``MILESTONE_DUE_DAYS`` days, and once more when it is overdue; a
    :class:`notifications.models.Reminder` per milestone and stage makes it once."""
    today = local_today(now)
    soon = today + datetime.timedelta(days=settings.MILESTONE_DUE_DAYS)
    candidates = Milestone.objects.filter(
        done_at__isnull=True, due_date__lte=soon, plan__order__state__in=AT_RISK_STATES
    ).select_related("plan", "responsible")
    sent = 0
    for ids in id_chunks(candidates):
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
                    events.milestone_due(milestone=milestone, overdue=milestone.due_date < today)
            except IntegrityError:  # a concurrent run sent it
                continue
            sent += 1
    return sent
