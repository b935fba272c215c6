"""Reads of production, scoped through the orders the caller may see; capable-to-promise."""

import datetime
from decimal import Decimal

from django.db.models import Exists, Max, Min, OuterRef, Q, Sum
from django.utils import timezone

from orders.selectors import visible_orders
from production.models import (
    Handover,
    Milestone,
    PreparationTask,
    ProductionIssue,
    ProductionPlan,
    ProgressReport,
    Workshop,
    WorkshopWeek,
)


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


def may_read_progress_photo(user, name: str) -> bool:
    return ProgressReport.objects.filter(photo=name, order__in=visible_orders(user)).exists()


def production_complete_q(user=None) -> Q:
    """Orders whose production is reported complete (the `ship` work queue; R4.4)."""
    return Q(Exists(ProgressReport.objects.filter(order=OuterRef("pk"), percent_complete__gte=100)))


def visible_issues(user):
    return ProductionIssue.objects.filter(order__in=visible_orders(user)).select_related(
        "order", "opened_by", "owner", "message_sent_by"
    )


def visible_milestones(user, *, mine: bool = False, open_only: bool = False):
    """Milestones of the orders the caller sees; ``mine``: those the caller is responsible for."""
    qs = Milestone.objects.filter(plan__order__in=visible_orders(user)).select_related(
        "plan__order", "responsible", "done_by"
    )
    if mine:
        qs = qs.filter(responsible=user)
    if open_only:
        qs = qs.filter(done_at__isnull=True)
    return qs


def visible_preparations(user):
    return PreparationTask.objects.filter(order__in=visible_orders(user)).select_related(
        "order", "owner", "ready_by"
    )


def visible_handovers(user):
    return Handover.objects.filter(order__in=visible_orders(user)).select_related("order", "workshop", "assigned_by")


# --- roll-up: an order's progress from its milestones and their reports (R4.4) -------------------------
def order_quantity(order) -> Decimal:
    return order.lines.aggregate(q=Sum("quantity"))["q"] or Decimal("0")


def milestone_done_quantities(milestone_ids) -> dict[int, Decimal]:
    rows = (
        ProgressReport.objects.filter(milestone_id__in=list(milestone_ids), quantity_done__isnull=False)
        .values("milestone_id").annotate(q=Sum("quantity_done")).values_list("milestone_id", "q")
    )
    return {pk: q or Decimal("0") for pk, q in rows}


def milestone_remaining(milestone, *, order_qty=None) -> Decimal:
    """What is left of a milestone's quantity (its own, else the order's) after the reports against it."""
    target = milestone.quantity if milestone.quantity is not None else (
        order_qty if order_qty is not None else order_quantity(milestone.plan.order)
    )
    done = milestone_done_quantities([milestone.pk]).get(milestone.pk, Decimal("0"))
    return max(target - done, Decimal("0"))


def rollup(order, *, extra_quantity: dict | None = None) -> dict:
    """The order's progress rolled up from its milestones: a done milestone counts whole, an open one by the
    share of its quantity reported done. ``percent`` is None without milestones. ``extra_quantity``
    ({milestone id: quantity}) counts a report being written."""
    milestones = list(Milestone.objects.filter(plan__order=order).only("pk", "quantity", "done_at"))
    latest = order.progress_reports.order_by("-reported_at", "-id").values_list("percent_complete", flat=True).first()
    if not milestones:
        return {"percent": None, "done": 0, "total": 0, "reported": latest}
    qty = order_quantity(order)
    done_q = milestone_done_quantities(m.pk for m in milestones)
    for pk, q in (extra_quantity or {}).items():
        done_q[pk] = done_q.get(pk, Decimal("0")) + q
    share = Decimal("0")
    for m in milestones:
        if m.done_at is not None:
            share += 1
            continue
        target = m.quantity if m.quantity is not None else qty
        if target and target > 0:
            share += min(done_q.get(m.pk, Decimal("0")) / target, Decimal("1"))
    percent = int(share * 100 / len(milestones))
    return {"percent": percent, "done": sum(1 for m in milestones if m.done_at), "total": len(milestones),
            "reported": latest}


# --- the workshop calendar: weeks × workshops, planned against capacity (issue 10) ------------------------
# The same load model as capable-to-promise below: an order occupies one of its workshop's ``capacity``
# slots from its plan's start (``start_date``, else the day the plan was made) to its last milestone, so
# a week's ``planned`` is the number of orders whose span touches it. Orders count once scheduled (and
# while producing); a plan being scheduled is counted in by the `schedule` check.
COMMITTED_STATES = ("scheduled", "producing")
WEEK = datetime.timedelta(days=7)
MAX_WEEKS = 53


def monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def plan_span(*, start_date, created_at, finish) -> tuple[datetime.date, datetime.date]:
    start = start_date or timezone.localdate(created_at)
    end = finish or start
    return (end, start) if end < start else (start, end)


def _committed_plans(workshop_ids, *, exclude_order=None):
    plans = ProductionPlan.objects.filter(order__state__in=COMMITTED_STATES, workshop_id__in=list(workshop_ids))
    if exclude_order is not None:
        plans = plans.exclude(order_id=exclude_order)
    return plans.annotate(finish=Max("milestones__due_date")).values_list(
        "workshop_id", "order_id", "order__number", "order__state", "start_date", "created_at", "finish"
    )


def week_capacities(workshops_list, first: datetime.date, last: datetime.date) -> dict:
    """{(workshop id, monday): capacity} for the weeks that differ from the workshop's usual capacity."""
    rows = WorkshopWeek.objects.filter(
        workshop__in=[w.pk for w in workshops_list], week__gte=first, week__lte=last
    ).values_list("workshop_id", "week", "capacity")
    return {(w, monday(week)): cap for w, week, cap in rows}


def calendar(*, workshops_list, start: datetime.date, end: datetime.date, extra=None, exclude_order=None) -> dict:
    """Each workshop's weeks from ``start``'s Monday to ``end``'s: ``{workshop id: [{"week", "planned",
    "capacity", "orders": [{"id", "number", "state"}]}]}`` in three queries. ``extra``: (workshop id, order
    id, number, first day, last day) of a plan not yet committed, counted in (the `schedule` check)."""
    first, last = monday(start), monday(end)
    weeks = []
    day = first
    while day <= last:
        weeks.append(day)
        day += WEEK
    ids = [w.pk for w in workshops_list]
    overrides = week_capacities(workshops_list, first, last)
    grid = {
        w.pk: {week: {"week": week, "planned": 0, "capacity": overrides.get((w.pk, week), w.capacity), "orders": []}
               for week in weeks}
        for w in workshops_list
    }
    spans = []
    for workshop_id, order_id, number, state, start_date, created_at, finish in _committed_plans(
        ids, exclude_order=exclude_order
    ):
        begin, stop = plan_span(start_date=start_date, created_at=created_at, finish=finish)
        spans.append((workshop_id, order_id, number, state, begin, stop))
    if extra is not None:
        workshop_id, order_id, number, begin, stop = extra
        spans.append((workshop_id, order_id, number, "reviewed", begin, stop))
    for workshop_id, order_id, number, state, begin, stop in spans:
        row = grid.get(workshop_id)
        if row is None:
            continue
        week = max(monday(begin), first)
        while week <= min(monday(stop), last):
            cell = row[week]
            cell["planned"] += 1
            cell["orders"].append({"id": order_id, "number": number, "state": state})
            week += WEEK
    return {pk: list(row.values()) for pk, row in grid.items()}


def overloaded_weeks(order) -> list[dict]:
    """The weeks in which scheduling ``order`` (its plan, its workshop) puts the workshop over capacity.

    Read by the `schedule` condition ``capacity_exceeded`` (orders.conditions, by dotted path)."""
    try:
        plan = order.production_plan
    except ProductionPlan.DoesNotExist:
        return []
    span = plan.milestones.aggregate(first=Min("due_date"), last=Max("due_date"))
    if span["last"] is None:
        return []
    begin, stop = plan_span(start_date=plan.start_date, created_at=plan.created_at, finish=span["last"])
    workshop = plan.workshop
    weeks = calendar(
        workshops_list=[workshop], start=begin, end=stop, exclude_order=order.pk,
        extra=(workshop.pk, order.pk, order.number, begin, stop),
    )[workshop.pk]
    return [w for w in weeks if w["planned"] > w["capacity"]]


# --- the production workspace's lists (R4.3, R4.4) ---------------------------------------------------------
def late_q(today=None) -> Q:
    """Late: past the promised date, or with an open milestone past its due date (scheduled or producing)."""
    today = today or timezone.localdate()
    late_milestone = Milestone.objects.filter(plan__order=OuterRef("pk"), done_at__isnull=True, due_date__lt=today)
    return Q(state__in=COMMITTED_STATES) & (Q(promised_delivery_date__lt=today) | Q(Exists(late_milestone)))


def queues(user) -> dict:
    """The supervisor's queue: to plan (reviewed), to get ready (scheduled), in production, late."""
    base = visible_orders(user).select_related("customer", "workshop", "production_handover")
    return {
        "to_plan": base.filter(state="reviewed").order_by("promised_delivery_date", "id"),
        "to_get_ready": base.filter(state="scheduled").order_by("promised_delivery_date", "id"),
        "in_production": base.filter(state="producing").order_by("promised_delivery_date", "id"),
        "late": base.filter(late_q()).order_by("promised_delivery_date", "id"),
    }


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


