"""The KPIs (R6.1, R6.3): accuracy, on-time delivery, review turnaround, feedback and recorded losses.

Everything here aggregates in SQL (``annotate``/``aggregate`` with filtered
``Count``/``Sum``, ``TruncWeek``/``TruncMonth``) and answers in a fixed number of
queries whatever the number of orders; Python only arranges the grouped rows.

**The order cohorts come from a rollup (issue 14).** Accuracy, delivery and review turnaround each scanned
every order of the period (a year of 100,000 orders: ~90,000 rows each, 104 + 47 + 26 ms of a 205 ms request;
even a bare grouped scan of them costs ~55 ms, so no column or index on the orders table gets the request
within 5× a bare list of 50). They are read instead from :class:`supervision.models.KpiDay`: per assistant and
local day, the counts each cohort needs — accuracy on the day of first submission (submitted, decided,
accurate, returned, corrected), delivery on the promised day (promised and not cancelled, accepted, on time,
on time in full) and turnaround on the day of approval (approved, microseconds waited). A year is ~3,650 rows:
one grouped query sums them per assistant and week or month (the week or month of a local day is the one the
live query truncates the timestamp to). *Due* depends on today, so the days keep both counts it is made of:
a day before today counts every order promised for it, today and later only the accepted ones.

The rollup is exact at every read, not eventually: database triggers (PostgreSQL and SQLite) mark an order
whenever a write to the orders, the state log, the field history or the check items can change what it counts
for — whoever writes, the services, a bulk update, the admin, raw SQL — and :func:`kpis` first folds the marked
orders (subtracting each one's last stored fact, adding its new one) before it sums; beat folds too, so a read
seldom has much to fold. How and why it is safe with concurrent writers and readers:
:mod:`supervision.kpi_rollup`. Feedback, losses and receivables are small tables and stay live queries.
``kpis(live=True)`` computes the cohorts from the orders as before — the oracle of the tests and of
``manage.py kpi_rollup --verify``.

Why not the alternatives: a materialised view or a periodic rebuild would be stale until refreshed (tests and
managers read KPIs right after acting); counters incremented by the services would miss any write that bypasses
them (bulk updates, the admin, imports, raw SQL) and cannot subtract what an order counted for before; a trigger
that updates the day rows directly would make concurrent transitions queue on one row per assistant and day.
Marks are only appended (writers never wait), and the fold reads each marked order whole, so its answer is a
function of the order's rows, the same one the live query computes. Measured in process, a year over 100,000
orders: 205 ms and 12 queries → 19 ms and 11 queries plus the transaction around the fold (a bare DRF list of 50:
11 ms); a read right after one write folds it in four more statements (~25 ms).

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
- **dso_days** (days sales outstanding) = open amount of the invoices issued by the period's end ÷ amount
  invoiced in the period × the period's days; **overdue_amount**: open and past due at the period's end (or
  today). Per assistant: the invoices of their orders (:func:`finance.selectors.receivable_figures`).
- **recorded_loss**: the sum of loss amounts recorded by periodic checks checked within
  the period against the person responsible (R6.3).

Rates are ``null`` when their denominator is zero (nothing to rate), never 0.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    When,
)
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm_log.models import StateLog

from orderdesk.roles import Role
from orders.models import Order, OrderChange, State
from supervision import kpi_rollup
from supervision.models import CheckItem, KpiDay, LossIncident
from supervision.selectors.common import (
    CORRECTION_FIELDS,
    User,
    as_date,
    day_bounds,
    delivery_rejected,
    duration,
    hours,
    order_ct,
    rate,
)

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
        "Mean score (1–5) over both sources: the overall rating of the questionnaires sent in the period (each "
        "accepted delivery invites the customer) and the scores of the phone follow-ups recorded in it.")),
    ("survey_satisfaction", _("Satisfaction (questionnaires)"), _(
        "Mean overall rating (1–5) of the questionnaires sent in the period and answered.")),
    ("followup_satisfaction", _("Satisfaction (phone follow-ups)"), _(
        "Mean score (1–5) of the phone follow-ups recorded in the period.")),
    ("complaint_handling_hours", _("Complaint handling (hours)"), _(
        "Mean hours from a complaint or suggestion being recorded to its resolution, over those resolved in "
        "the period.")),
    ("survey_response_rate", _("Survey response rate"), _(
        "Questionnaires answered divided by questionnaires sent in the period.")),
    ("complaint_count", _("Complaints"), _(
        "Complaints (not suggestions) recorded in the period about the orders.")),
    ("review_turnaround_hours", _("Review turnaround (hours)"), _(
        "Mean hours from submission to the manager's approval, over orders approved in the period.")),
    ("recorded_loss", _("Recorded losses"), _(
        "Losses recorded against the person responsible in the period: errors found by periodic checks, and "
        "loss incidents a sales manager confirmed.")),
    ("dso_days", _("Days sales outstanding"), _(
        "What is still open of the invoices issued by the period's end, divided by what was invoiced in the "
        "period, times the period's days.")),
    ("overdue_amount", _("Overdue receivables"), _(
        "The open amount of invoices past their due date at the period's end (or today).")),
]



# --- the KPI cohorts ------------------------------------------------------------------
def accuracy_cohort(orders, lo, hi):
    """Orders first submitted in [lo, hi), with `returned`, `corrected`, `check_error` annotated."""
    # The cohort is a range of the order's own `first_submitted_at` (set once by the submit transition,
    # indexed), not the first `submit` record of the state log read per order. `returned`, `corrected`
    # and `check_error` are semi-joins (``pk IN (…)``, hashed once by the database), not subqueries
    # correlated with each of the cohort's orders.
    corrected = OrderChange.objects.filter(field__in=CORRECTION_FIELDS, at__gt=F("order__first_submitted_at"))
    returned = StateLog.objects.filter(content_type=order_ct(), transition="return")
    check_error = CheckItem.objects.filter(outcome=CheckItem.Outcome.ERROR)
    return (
        orders.filter(first_submitted_at__gte=lo, first_submitted_at__lt=hi)
        .annotate(
            returned=ExpressionWrapper(Q(pk__in=returned.values("object_id")), output_field=BooleanField()),
            corrected=ExpressionWrapper(Q(pk__in=corrected.values("order_id")), output_field=BooleanField()),
            check_error=ExpressionWrapper(Q(pk__in=check_error.values("order_id")), output_field=BooleanField()),
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
        turnaround=duration(F("approved_at") - F("submitted_at"))
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
    from feedback.models import Complaint, FollowUp, Survey

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
    # complaints and suggestions resolved in the period, with their handling time (recorded → resolved)
    handled = (
        Complaint.objects.filter(order__in=orders.values("pk"), resolved_at__gte=lo, resolved_at__lt=hi)
        .annotate(handling=duration(F("resolved_at") - F("created_at")))
        .values(key)
        .annotate(n=Count("pk"), total=Sum("handling"))
    )
    for row in handled:
        result[row[key]].update(resolved=row["n"], handling_total=row["total"])
    followups = (
        FollowUp.objects.filter(order__in=orders.values("pk"), created_at__gte=lo, created_at__lt=hi)
        .values(key)
        .annotate(n=Count("pk"), total=Sum("score"))
    )
    for row in followups:
        result[row[key]].update(followups=row["n"], followup_sum=row["total"] or 0)
    return result


def feedback_figures(raw: dict) -> dict:
    """Satisfaction from both sources (R6.2): the questionnaires' overall score and the phone follow-ups'
    score, each shown (``survey_satisfaction``, ``followup_satisfaction``) and together (``satisfaction``,
    the mean over every score of both); response rate (answered / sent); complaint count and handling time."""
    answered = raw.get("answered", 0)
    followups = raw.get("followups", 0)
    scores = answered + followups
    resolved = raw.get("resolved", 0)
    return {
        "satisfaction": round((raw.get("score_sum", 0) + raw.get("followup_sum", 0)) / scores, 2) if scores else None,
        "survey_satisfaction": round(raw.get("score_sum", 0) / answered, 2) if answered else None,
        "followup_satisfaction": round(raw.get("followup_sum", 0) / followups, 2) if followups else None,
        "followup_count": followups,
        "survey_response_rate": rate(answered, raw.get("sent", 0)),
        "complaint_count": raw.get("complaints", 0),
        "complaints_resolved": resolved,
        "complaint_handling_hours": hours(raw["handling_total"] / resolved) if resolved and raw.get("handling_total")
        else None,
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
        "loss_incidents": loss.get("incidents", 0),
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


def _grouped(qs, aggregates, key="assistant"):
    return {row[key]: row for row in qs.order_by().values(key).annotate(**aggregates)}


def _live_cohorts(orders, start, end, today, trunc):
    """Accuracy, delivery and turnaround computed from the orders themselves (the oracle of the rollup): per
    assistant and per period (accuracy, delivery) or per assistant (turnaround). Three scans of the period."""
    lo, hi = day_bounds(start, end)

    def by_assistant_and_period(qs, aggregates, bucket_expr):
        """One grouped query by (assistant, period); per-assistant and per-period sums are added up here."""
        rows = list(qs.annotate(bucket=bucket_expr).order_by().values("assistant", "bucket").annotate(**aggregates))
        per_person: dict = defaultdict(list)
        per_bucket: dict = defaultdict(list)
        for row in rows:
            values = {k: row[k] for k in aggregates}
            per_person[row["assistant"]].append(values)
            per_bucket[as_date(row["bucket"])].append(values)
        return ({k: _sum_rows(v) for k, v in per_person.items()}, {k: _sum_rows(v) for k, v in per_bucket.items()})

    acc, acc_by = by_assistant_and_period(accuracy_cohort(orders, lo, hi), ACCURACY_AGGREGATES,
                                          trunc("first_submitted_at"))
    dlv, dlv_by = by_assistant_and_period(delivery_cohort(orders, start, end, today), DELIVERY_AGGREGATES,
                                          trunc("promised_delivery_date"))
    trn = _grouped(turnaround_cohort(orders, lo, hi), TURNAROUND_AGGREGATES)
    return acc, acc_by, dlv, dlv_by, trn


#: the rollup's sums per (assistant, period), named as the live cohorts' aggregates
_ROLLED_UP = {
    "submitted": Sum("submitted"), "decided": Sum("decided"), "accurate": Sum("accurate"),
    "returned": Sum("returned"), "corrected": Sum("corrected"),
    "on_time": Sum("on_time"), "on_time_in_full": Sum("on_time_in_full"),
    "approved": Sum("approved"), "turnaround_us": Sum("turnaround_us"),
}
_COHORTS = (
    # (what it counts, the count that says an order is in it, its aggregates)
    ("accuracy", "submitted", tuple(ACCURACY_AGGREGATES)),
    ("delivery", "due", tuple(DELIVERY_AGGREGATES)),
    ("turnaround", "approved", ("approved", "turnaround_us")),
)


def _rolled_up_cohorts(start, end, assistant, today, trunc):
    """The same as :func:`_live_cohorts`, summed from the rollup (:class:`supervision.models.KpiDay`) after folding
    the orders written since the last fold: one query when nothing was written, six at most otherwise.

    Only assistants (and periods) with an order in a cohort appear in it, as in the grouped live queries."""
    kpi_rollup.fold()
    days = KpiDay.objects.filter(day__gte=start, day__lte=end)
    if assistant is not None:
        days = days.filter(assistant_id=assistant.pk)
    rows = (
        days.annotate(bucket=trunc("day")).order_by().values("assistant_id", "bucket")
        # due: every order promised for a day before today, only the accepted ones from today on
        .annotate(due=Sum(Case(When(day__lt=today, then=F("promised")), default=F("accepted"))), **_ROLLED_UP)
    )
    per_person: dict = {name: defaultdict(list) for name, *_rest in _COHORTS}
    per_bucket: dict = {name: defaultdict(list) for name, *_rest in _COHORTS}
    for row in rows:
        for name, member, aggregates in _COHORTS:
            if row[member]:
                values = {k: row[k] for k in aggregates}
                per_person[name][row["assistant_id"]].append(values)
                per_bucket[name][as_date(row["bucket"])].append(values)
    acc, dlv, trn = ({k: _sum_rows(v) for k, v in per_person[name].items()} for name, *_rest in _COHORTS)
    acc_by, dlv_by = ({k: _sum_rows(v) for k, v in per_bucket[name].items()} for name in ("accuracy", "delivery"))
    for row in trn.values():
        row["turnaround_total"] = datetime.timedelta(microseconds=row.pop("turnaround_us"))
    return acc, acc_by, dlv, dlv_by, trn


def kpis(*, start: datetime.date, end: datetime.date, assistant=None, series: str = "month",
         today: datetime.date | None = None, live: bool = False) -> dict:
    """The KPIs of the team (or of one assistant) for [start, end], per assistant and per period.

    A fixed number of queries whatever the number of orders: the cohorts (one query from the rollup after its
    fold, or three scans of the orders with ``live=True``), losses, feedback, receivables and the assistants.
    """
    today = today or timezone.localdate()
    lo, hi = day_bounds(start, end)
    orders = Order.objects.all()
    if assistant is not None:
        orders = orders.filter(assistant=assistant)

    trunc = TruncWeek if series == "week" else TruncMonth
    if live:
        acc, acc_by, dlv, dlv_by, trn = _live_cohorts(orders, start, end, today, trunc)
    else:
        acc, acc_by, dlv, dlv_by, trn = _rolled_up_cohorts(start, end, assistant, today, trunc)
    losses = CheckItem.objects.filter(outcome=CheckItem.Outcome.ERROR, checked_at__gte=lo, checked_at__lt=hi)
    if assistant is not None:
        losses = losses.filter(responsible=assistant)
    loss = _grouped(losses, {"loss": Sum("loss_amount"), "errors": Count("pk")}, key="responsible")
    # confirmed loss incidents (R6.3), by the person responsible, in the period they were confirmed
    incidents = LossIncident.objects.filter(status=LossIncident.Status.CONFIRMED, decided_at__gte=lo, decided_at__lt=hi)
    if assistant is not None:
        incidents = incidents.filter(responsible=assistant)
    for pk, row in _grouped(incidents, {"incident_loss": Sum("amount"), "incidents": Count("pk")},
                           key="responsible").items():
        target = loss.setdefault(pk, {"loss": None, "errors": 0})
        target["loss"] = (target.get("loss") or Decimal("0.00")) + (row["incident_loss"] or Decimal("0.00"))
        target["incidents"] = row["incidents"]
    fb = feedback_metrics(orders, lo, hi, group="assistant")

    ids = set(acc) | set(dlv) | set(trn) | {k for k in loss if k is not None}
    assistants_qs = User.objects.filter(Q(groups__name=Role.SALES_ASSISTANT) | Q(pk__in=ids)).distinct()
    if assistant is not None:
        assistants_qs = assistants_qs.filter(pk=assistant.pk)
    people = {u.pk: u for u in assistants_qs.order_by("username")}

    # finance's receivables (issue 11): days sales outstanding and the overdue amount, one grouped query
    from finance.selectors import receivable_figures

    money = receivable_figures(start=start, end=end, assistant=assistant, today=today)
    no_money = {"dso_days": None, "overdue_amount": "0.00"}

    by_assistant = []
    for pk, person in people.items():
        row = _metrics(acc.get(pk, {}), dlv.get(pk, {}), trn.get(pk, {}), fb.get(pk, {}), loss.get(pk, {}))
        by_assistant.append({"assistant": pk, "username": person.username,
                             "full_name": person.get_full_name() or person.username, **row,
                             **money["per_assistant"].get(pk, no_money)})
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
        **money["team"],
        "by_assistant": by_assistant,
        "series": timeline,
        "series_unit": "week" if series == "week" else "month",
    }
