"""The team dashboard (R3.1): the manager's view of the assistants' work, in a fixed number of queries."""

from __future__ import annotations

import datetime

from django.db.models import (
    Count,
    Min,
    Q,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

from orders.models import Alert, Order, State
from orders.selectors import overdue_q
from supervision.selectors.common import OPEN_STATES, as_date, day_bounds, hours
from supervision.selectors.kpis import DEFAULT_PERIOD_DAYS, TURNAROUND_AGGREGATES, turnaround_cohort


# --- team dashboard (R3.1) -------------------------------------------------------------
def team_dashboard(*, today=None, weeks: int = 12, list_size: int = 10) -> dict:
    today = today or timezone.localdate()
    orders = Order.objects.all()
    counts = dict(orders.order_by().values_list("state").annotate(n=Count("pk")))
    overdue = orders.filter(overdue_q(today)).select_related("customer", "assistant").order_by(
        "promised_delivery_date", "id")
    at_risk = (
        Alert.objects.filter(kind=Alert.Kind.AT_RISK, resolved_at__isnull=True)
        .select_related("order__customer", "order__assistant")
        .order_by("fired_at", "id")
    )
    open_q = Q(state__in=OPEN_STATES)
    workload = list(
        orders.order_by()
        .values("assistant", "assistant__username", "assistant__first_name", "assistant__last_name")
        .annotate(
            open=Count("pk", filter=open_q),
            drafts=Count("pk", filter=Q(state=State.RECEIVED, submitted_at__isnull=True)),
            in_review=Count("pk", filter=Q(state=State.RECEIVED, submitted_at__isnull=False)),
            overdue=Count("pk", filter=overdue_q(today)),
            oldest_at=Min("created_at", filter=open_q),
        )
        .filter(open__gt=0)
        .order_by("-open", "assistant__username")
    )
    # each assistant's oldest open order: one query on (assistant, created_at) pairs
    pairs = Q(pk__in=[])
    for row in workload:
        pairs |= Q(assistant_id=row["assistant"], created_at=row["oldest_at"])
    oldest = {}
    for pk, number, assistant_id in (
        orders.filter(pairs, state__in=OPEN_STATES).order_by("-id").values_list("pk", "number", "assistant_id")
    ):
        oldest[assistant_id] = (pk, number)
    for row in workload:
        row["oldest_id"], row["oldest_number"] = oldest.get(row["assistant"], (None, ""))
    since = today - datetime.timedelta(days=DEFAULT_PERIOD_DAYS)
    lo, hi = day_bounds(since, today)
    trn = turnaround_cohort(orders, lo, hi).aggregate(**TURNAROUND_AGGREGATES)
    waiting = orders.filter(state=State.RECEIVED, submitted_at__isnull=False).aggregate(
        n=Count("pk"), oldest=Min("submitted_at"))
    first_week = today - datetime.timedelta(days=today.weekday() + 7 * (weeks - 1))
    wlo, whi = day_bounds(first_week, today)
    created = dict(orders.filter(created_at__gte=wlo, created_at__lt=whi).annotate(w=TruncWeek("created_at"))
                   .order_by().values_list("w").annotate(n=Count("pk")))
    approved = dict(orders.filter(approved_at__gte=wlo, approved_at__lt=whi).annotate(w=TruncWeek("approved_at"))
                    .order_by().values_list("w").annotate(n=Count("pk")))
    created = {as_date(k): v for k, v in created.items()}
    approved = {as_date(k): v for k, v in approved.items()}
    week_starts = [first_week + datetime.timedelta(days=7 * i) for i in range(weeks)]
    chart = [{"week": w, "created": created.get(w, 0), "approved": approved.get(w, 0)} for w in week_starts]
    return {
        "state_counts": [{"state": s.value, "label": s.label, "count": counts.get(s.value, 0)} for s in State],
        "total": sum(counts.values()),
        "overdue": list(overdue[:list_size]),
        "overdue_count": overdue.count(),
        "at_risk": list(at_risk[:list_size]),
        "at_risk_count": at_risk.count(),
        "workload": workload,
        "turnaround_hours": hours(trn["turnaround_total"] / trn["approved"]) if trn["approved"] else None,
        "turnaround_count": trn["approved"],
        "waiting_review": waiting["n"],
        "oldest_waiting": waiting["oldest"],
        "chart": chart,
        "since": since,
    }
