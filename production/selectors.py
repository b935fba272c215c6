"""Reads of production, scoped through the orders the caller may see; capable-to-promise."""

import datetime

from django.db.models import Exists, OuterRef, Q

from orders.selectors import visible_orders
from production.models import ProductionIssue, ProductionPlan, ProgressReport, Workshop


def workshops():
    return Workshop.objects.filter(is_active=True).select_related("supervisor")


def visible_plans(user):
    return (
        ProductionPlan.objects.filter(order__in=visible_orders(user))
        .select_related("order", "workshop")
        .prefetch_related("milestones__responsible")
    )


def visible_progress(user):
    return ProgressReport.objects.filter(order__in=visible_orders(user)).select_related("order", "reported_by")


def production_complete_q(user=None) -> Q:
    """Orders whose production is reported complete (the `ship` work queue; R4.4)."""
    return Q(Exists(ProgressReport.objects.filter(order=OuterRef("pk"), percent_complete__gte=100)))


def visible_issues(user):
    return ProductionIssue.objects.filter(order__in=visible_orders(user)).select_related("order", "opened_by")


# --- capable-to-promise (issue 4, R4.2 "confirms it is feasible") ----------------------
# The load model, stated once: a workshop runs ``capacity`` orders in parallel. An order
# occupies one slot of its workshop from its plan's start (the day the plan was made) to
# its last milestone's due date, inclusive, while it is reviewed, scheduled or producing
# (an order shipped or later no longer needs the workshop). A new order needs
# ``lead_days`` consecutive days of one slot (its longest product lead time); it can be
# promised for the day its slot run ends: start + lead_days.

LOADING_STATES = ("reviewed", "scheduled", "producing")
_ONE_DAY = datetime.timedelta(days=1)


def workshop_occupancy(*, workshop_ids=None) -> dict[int, list[tuple]]:
    """Each active workshop's occupied intervals [(first_day, last_day)], in ONE query."""
    from django.db.models import Max
    from django.utils import timezone

    plans = ProductionPlan.objects.filter(order__state__in=LOADING_STATES, workshop__is_active=True)
    if workshop_ids is not None:
        plans = plans.filter(workshop_id__in=list(workshop_ids))
    occupancy: dict[int, list[tuple]] = {}
    rows = plans.annotate(finish=Max("milestones__due_date")).values_list("workshop_id", "created_at", "finish")
    for workshop_id, created_at, finish in rows:
        start = timezone.localdate(created_at)
        end = finish or start
        if end < start:
            start, end = end, start
        occupancy.setdefault(workshop_id, []).append((start, end))
    for intervals in occupancy.values():
        intervals.sort()
    return occupancy


def _max_load(intervals, first, last) -> int:
    """The most intervals covering any one day of [first, last] (a sweep over their ends)."""
    events = []
    for start, end in intervals:
        if end < first or start > last:
            continue
        events.append((max(start, first), 1))
        events.append((min(end, last) + _ONE_DAY, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # an interval ending the day before another starts frees its slot
    load = peak = 0
    for _day, delta in events:
        load += delta
        peak = max(peak, load)
    return peak


def earliest_start(*, intervals, capacity: int, lead_days: int, today):
    """The first day ≥ today from which one slot stays free for `lead_days` days."""
    if capacity <= 0:
        return None
    span = max(lead_days, 1)
    candidates = sorted({today, *(end + _ONE_DAY for _start, end in intervals if end + _ONE_DAY > today)})
    for start in candidates:
        if _max_load(intervals, start, start + (span - 1) * _ONE_DAY) < capacity:
            return start
    return candidates[-1]  # after every interval has ended the workshop is empty


def capable_to_promise(*, lead_days: int, today=None, workshop=None, occupancy=None, workshops_list=None) -> dict:
    """The earliest date the plant can finish an order needing `lead_days` of one slot.

    With ``workshop`` (the chosen one) only that workshop is considered; otherwise
    every active workshop, and the best one is named. Returns
    ``{"date", "workshop", "start", "per_workshop": [{"workshop", "start", "date", "load", "capacity"}]}``;
    ``date`` is None when no workshop exists.
    """
    from django.utils import timezone

    today = today or timezone.localdate()
    if workshop is not None:
        candidates = [workshop]
    else:
        candidates = list(workshops_list if workshops_list is not None else Workshop.objects.filter(is_active=True))
    if occupancy is None:
        occupancy = workshop_occupancy(workshop_ids=[w.pk for w in candidates])
    per = []
    for w in candidates:
        intervals = occupancy.get(w.pk, [])
        start = earliest_start(intervals=intervals, capacity=w.capacity, lead_days=lead_days, today=today)
        per.append(
            {
                "workshop": w,
                "start": start,
                "date": None if start is None else start + datetime.timedelta(days=lead_days),
                "load": _max_load(intervals, today, today),
                "capacity": w.capacity,
            }
        )
    usable = [p for p in per if p["date"] is not None]
    best = min(usable, key=lambda p: (p["date"], p["load"], p["workshop"].code), default=None)
    return {
        "date": best["date"] if best else None,
        "start": best["start"] if best else None,
        "workshop": best["workshop"] if best else None,
        "per_workshop": per,
    }


