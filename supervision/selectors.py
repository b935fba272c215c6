"""Reads of the review desk, the team dashboard and the KPIs (R3.1, R4.2, R6.1, R6.3).

Everything here aggregates in SQL (``annotate``/``aggregate`` with filtered
``Count``/``Sum``, ``TruncWeek``/``TruncMonth``) and answers in a fixed number of
queries whatever the number of orders; Python only arranges the grouped rows.

KPI definitions (the KPI page prints the same text, see :data:`KPI_DEFINITIONS`):

- **accuracy_rate** = accurate / decided. The cohort is the orders whose FIRST
  submission (django-fsm-log ``submit`` record) falls within the period. *Decided*:
  approved (``approved_at`` set) or returned at least once. *Accurate*: approved,
  never returned, and never corrected. A **correction** is (a) a change recorded in
  the field history (``OrderChange``) after the first submission to what the
  assistant recorded at intake (``CORRECTION_FIELDS``: customer, channel, contact,
  address, requested date, special terms, lines) — production assigning a workshop
  or a manager reassigning the order are not corrections — or (b) an error found for
  the order by a manager's periodic check (:class:`supervision.models.CheckItem`
  with outcome ``error``).
- **on_time_delivery_rate** = on_time / due. *Due*: orders not cancelled whose
  promised delivery date falls within the period and that are either accepted or
  already past their promised date (today excluded). *On time*: accepted (local date
  of the ``accept`` transition) on or before the promised date.
- **on_time_in_full_rate** = on time and in full / due; *in full*: the delivery was
  never rejected (no ``reject_delivery`` transition, i.e. no rework for a quality issue).
- **review_turnaround_hours**: mean hours from the (last) submission to approval,
  over orders approved within the period.
- **satisfaction** = mean score (1–5) of the answered questionnaires whose
  invitation was sent in the period; **survey_response_rate** = answered / sent;
  **complaint_count** = complaints (not suggestions) recorded in the period. See
  :func:`feedback_metrics`.
- **recorded_loss**: the sum of loss amounts recorded by periodic checks checked within
  the period against the person responsible (R6.3).

Rates are ``null`` when their denominator is zero (nothing to rate), never 0.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm_log.models import StateLog

from orderdesk import roles
from orderdesk.roles import Role
from orders.models import Alert, Order, OrderChange, Signoff, State
from orders.selectors import overdue_q
from orders.services import EDITABLE_FIELDS
from supervision.models import CheckItem, PeriodicCheck

User = get_user_model()

OPEN_STATES = (State.RECEIVED, State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED)
# What the assistant recorded at intake (R4.1): a later change to one of these is a correction of
# their work. Production assigning a workshop, a manager reassigning the order or the withdrawal of a
# submission are not.
CORRECTION_FIELDS = (*EDITABLE_FIELDS, "lines")
DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 3660

KPI_DEFINITIONS = [
    ("accuracy_rate", _("Accuracy rate"), _(
        "Orders first submitted in the period that were approved without ever being returned and without any "
        "correction, divided by those of them the manager has decided (approved or returned). A correction is a "
        "change to what the assistant recorded (customer, contact, address, dates, terms or lines) after the first "
        "submission, or an error found by a periodic check.")),
    ("on_time_delivery_rate", _("On-time delivery rate"), _(
        "Orders (not cancelled) whose promised delivery date falls in the period and that are accepted or already "
        "past that date: the share accepted by the customer on or before the promised date.")),
    ("on_time_in_full_rate", _("On time in full"), _(
        "Of the same orders, the share delivered on time whose delivery was never rejected (no rework).")),
    ("satisfaction", _("Customer satisfaction"), _(
        "Mean score (1–5) of the answers to the questionnaires sent in the period (each accepted delivery "
        "invites the customer).")),
    ("survey_response_rate", _("Survey response rate"), _(
        "Questionnaires answered divided by questionnaires sent in the period.")),
    ("complaint_count", _("Complaints"), _(
        "Complaints (not suggestions) recorded in the period about the orders.")),
    ("review_turnaround_hours", _("Review turnaround (hours)"), _(
        "Mean hours from submission to the manager's approval, over orders approved in the period.")),
    ("recorded_loss", _("Recorded losses"), _(
        "Losses from errors found by periodic checks in the period, recorded against the person responsible.")),
]


# --- helpers ------------------------------------------------------------------------
def _order_ct():
    return ContentType.objects.get_for_model(Order)  # cached after the first call


def _log_q(name: str):
    return StateLog.objects.filter(content_type=_order_ct(), object_id=OuterRef("pk"), transition=name)


def first_submission():
    return Subquery(_log_q("submit").order_by("timestamp", "id").values("timestamp")[:1])


def was_returned():
    return Exists(_log_q("return"))


def delivery_rejected():
    return Exists(_log_q("reject_delivery"))


def day_bounds(start: datetime.date, end: datetime.date):
    """[start 00:00, end+1 00:00) in the local time zone."""
    tz = timezone.get_current_timezone()
    lo = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    hi = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return lo, hi


def rate(numerator, denominator):
    if not denominator:
        return None
    return round(numerator / denominator, 4)


def hours(duration) -> float | None:
    if duration is None:
        return None
    if not isinstance(duration, datetime.timedelta):
        duration = datetime.timedelta(microseconds=float(duration))
    return round(duration.total_seconds() / 3600, 2)


def _duration(expr):
    return ExpressionWrapper(expr, output_field=DurationField())


# --- the KPI cohorts ------------------------------------------------------------------
def accuracy_cohort(orders, lo, hi):
    """Orders first submitted in [lo, hi), with `returned`, `corrected`, `check_error` annotated."""
    corrections = OrderChange.objects.filter(
        order=OuterRef("pk"), at__gt=OuterRef("first_submitted_at"), field__in=CORRECTION_FIELDS
    )
    # The cohort is found by one grouped scan of the submit records (a hash semi-join), so the correlated
    # subqueries below run for the cohort's rows only, not for every order.
    first_in_period = (
        StateLog.objects.filter(content_type=_order_ct(), transition="submit")
        .values("object_id")
        .annotate(first=Min("timestamp"))
        .filter(first__gte=lo, first__lt=hi)
        .values("object_id")
    )
    return (
        orders.filter(pk__in=first_in_period)
        .annotate(first_submitted_at=first_submission())
        .annotate(
            returned=was_returned(),
            corrected=Exists(corrections),
            check_error=Exists(CheckItem.objects.filter(order=OuterRef("pk"), outcome=CheckItem.Outcome.ERROR)),
        )
    )


ACCURACY_AGGREGATES = {
    "submitted": Count("pk"),
    "decided": Count("pk", filter=Q(approved_at__isnull=False) | Q(returned=True)),
    "accurate": Count(
        "pk", filter=Q(approved_at__isnull=False, returned=False, corrected=False, check_error=False)
    ),
    "returned": Count("pk", filter=Q(returned=True)),
    "corrected": Count("pk", filter=Q(corrected=True) | Q(check_error=True)),
}


def delivery_cohort(orders, start, end, today):
    return (
        orders.exclude(state=State.CANCELLED)
        .filter(promised_delivery_date__gte=start, promised_delivery_date__lte=end)
        .filter(Q(accepted_at__isnull=False) | Q(promised_delivery_date__lt=today))
        .annotate(accepted_on=TruncDate("accepted_at"), rejected=delivery_rejected())
    )


DELIVERY_AGGREGATES = {
    "due": Count("pk"),
    "on_time": Count("pk", filter=Q(accepted_on__lte=F("promised_delivery_date"))),
    "on_time_in_full": Count("pk", filter=Q(accepted_on__lte=F("promised_delivery_date"), rejected=False)),
}


def turnaround_cohort(orders, lo, hi):
    return orders.filter(approved_at__gte=lo, approved_at__lt=hi, submitted_at__isnull=False).annotate(
        turnaround=_duration(F("approved_at") - F("submitted_at"))
    )


TURNAROUND_AGGREGATES = {"approved": Count("pk"), "turnaround_total": Sum("turnaround")}


def feedback_metrics(orders, lo, hi, *, group: str = "assistant") -> dict:
    """Raw feedback counts (R6.2) of the orders, per ``group`` value of the order (e.g. "assistant").

    Surveys count by the time their invitation was sent, complaints by the time
    they were recorded (suggestions are not complaints). Each bucket holds
    ``score_sum``, ``answered``, ``sent`` and ``complaints``, which add up across
    buckets, so the team's figures are the sums of its members'. One grouped
    query each.
    """
    from feedback.models import Complaint, Survey

    key = f"order__{group}"
    result: dict = defaultdict(dict)
    surveys = (
        Survey.objects.filter(order__in=orders.values("pk"), sent_at__gte=lo, sent_at__lt=hi)
        .values(key)
        .annotate(
            score_sum=Sum("score", filter=Q(answered_at__isnull=False)),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            sent=Count("pk"),
        )
    )
    for row in surveys:
        result[row[key]].update(
            score_sum=row["score_sum"] or 0, answered=row["answered"], sent=row["sent"]
        )
    complaints = (
        Complaint.objects.filter(order__in=orders.values("pk"), created_at__gte=lo, created_at__lt=hi,
                                 kind=Complaint.Kind.COMPLAINT)
        .values(key)
        .annotate(n=Count("pk"))
    )
    for row in complaints:
        result[row[key]]["complaints"] = row["n"]
    return result


def feedback_figures(raw: dict) -> dict:
    """Satisfaction (mean score of the answers), response rate (answered / sent) and complaint count."""
    answered = raw.get("answered", 0)
    return {
        "satisfaction": round(raw.get("score_sum", 0) / answered, 2) if answered else None,
        "survey_response_rate": rate(answered, raw.get("sent", 0)),
        "complaint_count": raw.get("complaints", 0),
    }


# --- KPIs ------------------------------------------------------------------------------
def _metrics(acc: dict, dlv: dict, trn: dict, fb: dict, loss: dict) -> dict:
    return {
        "accuracy_rate": rate(acc.get("accurate", 0), acc.get("decided", 0)),
        "on_time_delivery_rate": rate(dlv.get("on_time", 0), dlv.get("due", 0)),
        "on_time_in_full_rate": rate(dlv.get("on_time_in_full", 0), dlv.get("due", 0)),
        **feedback_figures(fb),
        "review_turnaround_hours": hours(trn["turnaround_total"] / trn["approved"]) if trn.get("approved") else None,
        "recorded_loss": str((loss.get("loss") or Decimal("0.00")).quantize(Decimal("0.01"))),
        "errors_found": loss.get("errors", 0),
        "counts": {
            "orders_submitted": acc.get("submitted", 0),
            "orders_decided": acc.get("decided", 0),
            "orders_accurate": acc.get("accurate", 0),
            "orders_returned": acc.get("returned", 0),
            "orders_corrected": acc.get("corrected", 0),
            "orders_due": dlv.get("due", 0),
            "orders_on_time": dlv.get("on_time", 0),
            "orders_on_time_in_full": dlv.get("on_time_in_full", 0),
            "orders_approved": trn.get("approved", 0),
        },
    }


def _sum_rows(rows: list[dict]) -> dict:
    total: dict = {}
    for row in rows:
        for k, v in row.items():
            if v is None:
                continue
            total[k] = total[k] + v if k in total else v
    return total


def kpis(*, start: datetime.date, end: datetime.date, assistant=None, series: str = "month",
         today: datetime.date | None = None) -> dict:
    """The KPIs of the team (or of one assistant) for [start, end], per assistant and per period.

    A fixed number of queries: accuracy, delivery, turnaround, losses, feedback, the
    two series and the assistants' names — whatever the number of orders.
    """
    today = today or timezone.localdate()
    lo, hi = day_bounds(start, end)
    orders = Order.objects.all()
    if assistant is not None:
        orders = orders.filter(assistant=assistant)

    def grouped(qs, aggregates, key="assistant"):
        return {row[key]: row for row in qs.order_by().values(key).annotate(**aggregates)}

    def by_assistant_and_period(qs, aggregates, bucket_expr):
        """One grouped query by (assistant, period); per-assistant and per-period sums are added up here."""
        rows = list(qs.annotate(bucket=bucket_expr).order_by().values("assistant", "bucket").annotate(**aggregates))
        per_person: dict = defaultdict(list)
        per_bucket: dict = defaultdict(list)
        for row in rows:
            values = {k: row[k] for k in aggregates}
            per_person[row["assistant"]].append(values)
            per_bucket[_as_date(row["bucket"])].append(values)
        return ({k: _sum_rows(v) for k, v in per_person.items()}, {k: _sum_rows(v) for k, v in per_bucket.items()})

    trunc = TruncWeek if series == "week" else TruncMonth
    acc, acc_by = by_assistant_and_period(accuracy_cohort(orders, lo, hi), ACCURACY_AGGREGATES,
                                          trunc("first_submitted_at"))
    dlv, dlv_by = by_assistant_and_period(delivery_cohort(orders, start, end, today), DELIVERY_AGGREGATES,
                                          trunc("promised_delivery_date"))
    trn = grouped(turnaround_cohort(orders, lo, hi), TURNAROUND_AGGREGATES)
    losses = CheckItem.objects.filter(outcome=CheckItem.Outcome.ERROR, checked_at__gte=lo, checked_at__lt=hi)
    if assistant is not None:
        losses = losses.filter(responsible=assistant)
    loss = grouped(losses, {"loss": Sum("loss_amount"), "errors": Count("pk")}, key="responsible")
    fb = feedback_metrics(orders, lo, hi, group="assistant")

    ids = set(acc) | set(dlv) | set(trn) | {k for k in loss if k is not None}
    assistants_qs = User.objects.filter(Q(groups__name=Role.SALES_ASSISTANT) | Q(pk__in=ids)).distinct()
    if assistant is not None:
        assistants_qs = assistants_qs.filter(pk=assistant.pk)
    people = {u.pk: u for u in assistants_qs.order_by("username")}

    by_assistant = []
    for pk, person in people.items():
        row = _metrics(acc.get(pk, {}), dlv.get(pk, {}), trn.get(pk, {}), fb.get(pk, {}), loss.get(pk, {}))
        by_assistant.append({"assistant": pk, "username": person.username,
                             "full_name": person.get_full_name() or person.username, **row})
    team_fb = _sum_rows(list(fb.values()))
    team = _metrics(_sum_rows(list(acc.values())), _sum_rows(list(dlv.values())),
                    _sum_rows(list(trn.values())), team_fb, _sum_rows(list(loss.values())))

    buckets = sorted(b for b in {*acc_by, *dlv_by} if b is not None)
    timeline = [
        {
            "period": b.isoformat(),
            "accuracy_rate": rate(acc_by.get(b, {}).get("accurate", 0), acc_by.get(b, {}).get("decided", 0)),
            "on_time_delivery_rate": rate(dlv_by.get(b, {}).get("on_time", 0), dlv_by.get(b, {}).get("due", 0)),
            "orders_submitted": acc_by.get(b, {}).get("submitted", 0),
            "orders_due": dlv_by.get(b, {}).get("due", 0),
        }
        for b in buckets
    ]
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "assistant": assistant.pk if assistant is not None else None,
        **team,
        "by_assistant": by_assistant,
        "series": timeline,
        "series_unit": "week" if series == "week" else "month",
    }


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# --- review queue (R4.2) ----------------------------------------------------------------
def _latest_signoff(department: str):
    return Subquery(
        Signoff.objects.filter(order=OuterRef("pk"), review_round=OuterRef("review_round"), department=department)
        .order_by("-created_at", "-id")
        .values("decision")[:1]
    )


def exposures_of(customer_ids) -> dict:
    """Open exposure (DESIGN §4) of the given customers, two grouped queries whatever their number of orders."""
    from finance.models import Invoice
    from orders.models import OPEN_APPROVED_STATES

    ids = list(customer_ids)
    totals = dict(
        Order.objects.filter(customer_id__in=ids, state__in=OPEN_APPROVED_STATES).order_by()
        .values_list("customer").annotate(s=Sum("total_amount"))
    )
    paid = dict(
        Invoice.objects.filter(order__customer_id__in=ids, order__state__in=OPEN_APPROVED_STATES).order_by()
        .values_list("order__customer").annotate(s=Sum("paid_amount"))
    )
    return {pk: (totals.get(pk) or Decimal("0")) - (paid.get(pk) or Decimal("0")) for pk in ids}


def review_queue_queryset():
    """Submitted orders waiting for the manager, oldest first, with the joint-review decisions of the round."""
    return (
        Order.objects.filter(state=State.RECEIVED, submitted_at__isnull=False)
        .select_related("customer", "assistant", "created_by", "workshop")
        .annotate(
            finance_decision=_latest_signoff(Signoff.Department.FINANCE),
            production_decision=_latest_signoff(Signoff.Department.PRODUCTION),
        )
        .order_by("submitted_at", "id")
    )


def review_needs(order, *, ctp_cache: dict, today, occupancy, workshops_list) -> dict:
    """What an order in the queue still needs before it can be approved."""
    from production.selectors import capable_to_promise

    joint = order.requires_joint_review
    waiting_for = []
    objections = []
    if joint:
        for dept, decision in ((Signoff.Department.FINANCE, order.finance_decision),
                               (Signoff.Department.PRODUCTION, order.production_decision)):
            if decision == Signoff.Decision.OBJECT:
                objections.append(dept.label)
            elif decision != Signoff.Decision.APPROVE:
                waiting_for.append(dept.label)
    effect = (order.customer_exposure or Decimal("0")) + order.total_amount
    over = effect > order.customer.credit_limit
    lead = order.lead_days or 0
    key = (lead, order.workshop_id)
    if key not in ctp_cache:
        ctp_cache[key] = capable_to_promise(
            lead_days=lead, today=today, workshop=order.workshop, occupancy=occupancy, workshops_list=workshops_list
        )
    ctp = ctp_cache[key]
    feasible = ctp["date"] is None or order.requested_delivery_date >= ctp["date"]
    return {
        "joint_review": joint,
        "waiting_for": waiting_for,
        "objections": objections,
        "credit_over": over,
        "credit_effect": effect,
        "date_feasible": feasible,
        "ctp_date": ctp["date"],
        "suggested_date": max(order.requested_delivery_date, ctp["date"] or order.requested_delivery_date),
        "self_created": False,
        "clean": not waiting_for and not objections and not over and feasible,
    }


def review_queue(*, user, limit: int = 200):
    """The queue rows (order + needs) in a fixed number of queries."""
    from production.models import Workshop
    from production.selectors import workshop_occupancy

    today = timezone.localdate()
    qs = review_queue_queryset()
    orders = list(qs[:limit])
    total = len(orders) if len(orders) < limit else qs.count()
    # lead times and credit exposure for this page only: grouped queries, not per-row subqueries
    from orders.models import OrderLine

    leads = dict(
        OrderLine.objects.filter(order_id__in=[o.pk for o in orders]).order_by()
        .values_list("order").annotate(m=Max("product__lead_time_days"))
    )
    exposure = exposures_of({o.customer_id for o in orders})
    for order in orders:
        order.lead_days = leads.get(order.pk, 0)
        order.customer_exposure = exposure.get(order.customer_id, Decimal("0"))
    workshops_list = list(Workshop.objects.filter(is_active=True))
    occupancy = workshop_occupancy()
    cache: dict = {}
    rows = []
    for order in orders:
        needs = review_needs(order, ctp_cache=cache, today=today, occupancy=occupancy, workshops_list=workshops_list)
        needs["self_created"] = order.created_by_id == user.pk
        needs["clean"] = needs["clean"] and not needs["self_created"]
        rows.append({"order": order, **needs})
    return rows, total


# --- review page of one order ----------------------------------------------------------
def payment_record(customer) -> dict:
    """The customer's invoices: paid on time, paid late, outstanding and overdue (one query)."""
    from finance.models import Invoice

    today = timezone.localdate()
    invoices = Invoice.objects.filter(order__customer=customer).annotate(last_paid_on=Max("payments__received_on"))
    record = {"invoices": 0, "paid_on_time": 0, "paid_late": 0, "open": 0, "outstanding": Decimal("0.00"),
              "overdue": Decimal("0.00"), "overdue_count": 0}
    for inv in invoices.values("amount", "paid_amount", "due_date", "last_paid_on"):
        record["invoices"] += 1
        if inv["paid_amount"] >= inv["amount"]:
            if inv["last_paid_on"] and inv["last_paid_on"] <= inv["due_date"]:
                record["paid_on_time"] += 1
            else:
                record["paid_late"] += 1
        else:
            record["open"] += 1
            outstanding = inv["amount"] - inv["paid_amount"]
            record["outstanding"] += outstanding
            if inv["due_date"] < today:
                record["overdue"] += outstanding
                record["overdue_count"] += 1
    return record


def credit_position(order) -> dict:
    from orders.selectors import customer_open_exposure

    exposure = customer_open_exposure(customer=order.customer, exclude_order=order)
    limit = order.customer.credit_limit
    effect = exposure + order.total_amount
    return {
        "limit": limit,
        "exposure": exposure,
        "order_total": order.total_amount,
        "effect": effect,
        "headroom": limit - effect,
        "over_limit": effect > limit,
    }


def feasibility(order, *, today=None) -> dict:
    """The requested date against lead times (R4.2) and the plant's capable-to-promise date."""
    from orders.conditions import earliest_feasible_date
    from production.selectors import capable_to_promise

    today = today or timezone.localdate()
    lines = list(order.lines.all())
    lead = max((line.product.lead_time_days for line in lines), default=0)
    chosen = capable_to_promise(lead_days=lead, today=today, workshop=order.workshop) if order.workshop_id else None
    best = capable_to_promise(lead_days=lead, today=today)
    ctp = chosen or best
    requested = order.requested_delivery_date
    ctp_date = ctp["date"]
    return {
        "lead_days": lead,
        "lead_time_date": earliest_feasible_date(order),
        "ctp": ctp,
        "chosen": chosen,
        "best": best,
        "ctp_date": ctp_date,
        "requested": requested,
        "feasible": ctp_date is None or requested >= ctp_date,
        "suggested_date": max(requested, ctp_date) if ctp_date else requested,
    }


# --- joint review queues (R4.2) -----------------------------------------------------------
def signoff_department(user) -> str | None:
    user_roles = roles.roles_of(user)
    if Role.FINANCE_MANAGER in user_roles:
        return Signoff.Department.FINANCE
    if Role.PRODUCTION_SUPERVISOR in user_roles:
        return Signoff.Department.PRODUCTION
    return None


def signoff_queue(*, user, department: str):
    """Orders waiting for the department's joint-review sign-off in their current round (one query)."""
    from orders.selectors import joint_review_pending_q, visible_orders

    mine = Signoff.objects.filter(order=OuterRef("pk"), review_round=OuterRef("review_round"), department=department)
    return (
        visible_orders(user)
        .filter(joint_review_pending_q())
        .annotate(my_decision=Subquery(mine.order_by("-created_at", "-id").values("decision")[:1]))
        .select_related("customer", "assistant")
        .order_by("submitted_at", "id")
    )


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
    created = {_as_date(k): v for k, v in created.items()}
    approved = {_as_date(k): v for k, v in approved.items()}
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


# --- periodic checks (R6.1) ----------------------------------------------------------------
def check_population(*, assistant, start: datetime.date, end: datetime.date):
    """The orders a periodic check samples from: the assistant's orders submitted at least once, created in
    [start, end], in a stable order (by id) so that a stored seed draws the same sample again."""
    lo, hi = day_bounds(start, end)
    return (
        Order.objects.filter(assistant=assistant, created_at__gte=lo, created_at__lt=hi)
        .filter(Exists(_log_q("submit")))
        .order_by("pk")
    )


def periodic_checks():
    return PeriodicCheck.objects.select_related("assistant", "created_by").annotate(
        n_items=Count("items"),
        n_pending=Count("items", filter=Q(items__outcome=CheckItem.Outcome.PENDING)),
        n_errors=Count("items", filter=Q(items__outcome=CheckItem.Outcome.ERROR)),
        loss=Sum("items__loss_amount"),
    )


def get_check(check_id) -> PeriodicCheck:
    from orderdesk.errors import NotFound

    try:
        return periodic_checks().get(pk=check_id)
    except (PeriodicCheck.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def check_items(check):
    return check.items.select_related("order__customer", "responsible", "checked_by").order_by("order__number")


# --- internal audit (R6.1) -----------------------------------------------------------------
AUDIT_COLUMNS = ("kind", "order_ref", "user_ref", "at", "name", "before", "after", "note")


def audit_trail(*, order_id=None, user_id=None, start=None, end=None):
    """Every recorded change of every order, newest first, as one SQL UNION (paginated in the database).

    Rows: ``kind`` "transition" (django-fsm-log: ``name`` the transition, ``before`` →
    ``after`` the states, ``note`` the comment) or "change" (field history: ``name``
    the field, ``before`` → ``after`` its values). Filters: order, user, and the
    local dates ``start`` … ``end`` (inclusive).
    """
    from django.db.models import BigIntegerField, CharField, TextField, Value
    from django.db.models.functions import Cast, Coalesce

    text = TextField()
    transitions = StateLog.objects.filter(content_type=_order_ct()).annotate(
        kind=Value("transition", output_field=CharField()),
        order_ref=Cast("object_id", BigIntegerField()),
        user_ref=F("by_id"),
        at=F("timestamp"),
        name=Cast("transition", text),
        before=Coalesce(Cast("source_state", text), Value("", output_field=text)),
        after=Cast("state", text),
        note=Coalesce("description", Value("", output_field=text)),
    )
    changes = OrderChange.objects.annotate(
        kind=Value("change", output_field=CharField()),
        order_ref=F("order_id"),
        user_ref=F("user_id"),
        name=Cast("field", text),
        before=F("old_value"),
        after=F("new_value"),
        note=Value("", output_field=text),
    )
    if order_id is not None:
        transitions = transitions.filter(object_id=order_id)
        changes = changes.filter(order_id=order_id)
    if user_id is not None:
        transitions = transitions.filter(by_id=user_id)
        changes = changes.filter(user_id=user_id)
    if start is not None or end is not None:
        lo, hi = day_bounds(start or datetime.date(1970, 1, 1), end or timezone.localdate())
        transitions = transitions.filter(timestamp__gte=lo, timestamp__lt=hi)
        changes = changes.filter(at__gte=lo, at__lt=hi)
    return (
        transitions.order_by().values_list(*AUDIT_COLUMNS)
        .union(changes.order_by().values_list(*AUDIT_COLUMNS), all=True)
        .order_by("-at", "kind")
    )
