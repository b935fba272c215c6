"""Reads of finance, scoped: invoices, payments and receivables are price records (orderdesk.roles.FIELD_CLASSES).

Receivables (R4.5, DESIGN §6b): the open invoices (something outstanding) with their ``days_overdue`` and
ageing ``bucket`` (``current``, ``1-30``, ``31-60``, ``61-90``, ``90+``) computed in SQL from the due date and
today, so the report, its totals per bucket, per customer and per assistant are each one query whatever the
number of invoices.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Case, CharField, DateField, DecimalField, ExpressionWrapper, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from finance.models import FollowUp, Invoice, Payment, PaymentTerms
from orderdesk import roles
from orders.models import State
from orders.selectors import visible_orders

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
MONEY = DecimalField(max_digits=16, decimal_places=2)


def visible_invoices(user):
    if roles.is_record_hidden(user, Invoice):
        return Invoice.objects.none()
    return Invoice.objects.filter(order__in=visible_orders(user)).select_related("order")


def visible_payments(user):
    if roles.is_record_hidden(user, Payment):
        return Payment.objects.none()
    return Payment.objects.filter(invoice__order__in=visible_orders(user)).select_related("invoice")


def visible_terms(user):
    if roles.is_record_hidden(user, PaymentTerms):
        return PaymentTerms.objects.none()
    return PaymentTerms.objects.prefetch_related("installments")


def visible_follow_ups(user):
    if roles.is_record_hidden(user, FollowUp):
        return FollowUp.objects.none()
    return FollowUp.objects.filter(invoice__order__in=visible_orders(user)).select_related(
        "invoice__order", "recorded_by"
    )


def _bucket_case(today: datetime.date):
    def before(n):
        return today - datetime.timedelta(days=n)

    return Case(
        When(due_date__gte=today, then=Value("current")),
        When(due_date__gte=before(30), then=Value("1-30")),
        When(due_date__gte=before(60), then=Value("31-60")),
        When(due_date__gte=before(90), then=Value("61-90")),
        default=Value("90+"),
        output_field=CharField(),
    )


def _bucket_q(bucket: str, today: datetime.date) -> Q:
    def before(n):
        return today - datetime.timedelta(days=n)

    return {
        "current": Q(due_date__gte=today),
        "1-30": Q(due_date__lt=today, due_date__gte=before(30)),
        "31-60": Q(due_date__lt=before(30), due_date__gte=before(60)),
        "61-90": Q(due_date__lt=before(60), due_date__gte=before(90)),
        "90+": Q(due_date__lt=before(90)),
    }[bucket]


def receivables(user, *, customer=None, assistant=None, bucket: str | None = None, today=None):
    """The caller's open invoices, annotated with ``open_amount``, ``days_overdue`` and ``bucket``.

    A sales assistant sees those of their own orders (the scope of :func:`visible_orders`)."""
    today = today or timezone.localdate()
    qs = visible_invoices(user).filter(paid_amount__lt=F("amount") - F("credited_amount"))
    if customer:
        qs = qs.filter(order__customer_id=customer)
    if assistant:
        qs = qs.filter(order__assistant_id=assistant)
    if bucket:
        qs = qs.filter(_bucket_q(bucket, today))
    return (
        qs.annotate(
            open_amount=ExpressionWrapper(F("amount") - F("credited_amount") - F("paid_amount"), output_field=MONEY),
            # the day the ageing is read on (Invoice.days_overdue counts from it)
            as_of=Value(today, output_field=DateField()),
            bucket=_bucket_case(today),
        )
        .select_related("order__customer", "order__assistant")
        .order_by("due_date", "id")
    )


def bucket_totals(queryset, *, today=None) -> dict[str, Decimal]:
    """The open amount of each bucket and in all (one query)."""
    today = today or timezone.localdate()
    open_amount = F("amount") - F("credited_amount") - F("paid_amount")
    sums = {
        name: Coalesce(
            Sum(open_amount, filter=_bucket_q(name, today), output_field=MONEY),
            Value(Decimal("0.00")),
            output_field=MONEY,
        )
        for name in BUCKETS
    }
    row = queryset.order_by().aggregate(
        **{f"b_{i}": s for i, s in enumerate(sums.values())},
        total=Coalesce(Sum(open_amount, output_field=MONEY), Value(Decimal("0.00")), output_field=MONEY),
    )
    totals = {name: row[f"b_{i}"] for i, name in enumerate(BUCKETS)}
    totals["total"] = row["total"]
    return totals


def ageing_by(queryset, key: str, *, today=None) -> list[dict]:
    """Bucket totals grouped by ``customer`` or ``assistant`` (one query)."""
    today = today or timezone.localdate()
    open_amount = F("amount") - F("credited_amount") - F("paid_amount")
    fields = {
        "customer": ("order__customer_id", "order__customer__code", "order__customer__name"),
        "assistant": ("order__assistant_id", "order__assistant__username", "order__assistant__first_name"),
    }[key]
    sums = {
        f"b_{i}": Coalesce(
            Sum(open_amount, filter=_bucket_q(name, today), output_field=MONEY),
            Value(Decimal("0.00")),
            output_field=MONEY,
        )
        for i, name in enumerate(BUCKETS)
    }
    rows = (
        queryset.order_by()
        .values(*fields)
        .annotate(**sums, total=Sum(open_amount, output_field=MONEY))
        .order_by("-total")
    )
    result = []
    for row in rows:
        result.append(
            {
                "id": row[fields[0]],
                "code": row[fields[1]],
                "name": row[fields[2]] or row[fields[1]],
                "buckets": {name: row[f"b_{i}"] for i, name in enumerate(BUCKETS)},
                "total": row["total"],
            }
        )
    return result


def bars(totals: dict) -> list[dict]:
    """The bucket chart's bars (server-rendered SVG): label, amount, width in percent of the largest."""
    largest = max((totals[name] for name in BUCKETS), default=Decimal("0")) or Decimal("1")
    return [
        {
            "bucket": name,
            "amount": totals[name],
            "width": int(totals[name] * 300 / largest),
            "y": 4 + i * 28,
            "ty": 20 + i * 28,
        }
        for i, name in enumerate(BUCKETS)
    ]


def invoices_to_issue(user):
    """Orders whose terms or total still leave something to invoice by hand (finance's work queue)."""
    invoiced = Coalesce(Sum("invoices__amount"), Value(Decimal("0.00")), output_field=MONEY)
    return (
        visible_orders(user)
        .filter(
            state__in=(State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED),
            payment_terms__isnull=True,
        )
        .annotate(invoiced=invoiced, left=ExpressionWrapper(F("total_amount") - invoiced, output_field=MONEY))
        .filter(left__gt=0)
        .select_related("customer", "assistant")
        .order_by("promised_delivery_date", "id")
    )


def payments_to_record(user, *, today=None):
    """Open invoices, the ones due first at the top (where payments are expected)."""
    return receivables(user, today=today)


def orders_ready_to_settle(user):
    """Accepted orders whose invoices cover the total and are paid in full."""
    invoiced = Coalesce(Sum("invoices__amount"), Value(Decimal("0.00")), output_field=MONEY)
    open_part = Coalesce(
        Sum(F("invoices__amount") - F("invoices__credited_amount") - F("invoices__paid_amount"), output_field=MONEY),
        Value(Decimal("0.00")),
        output_field=MONEY,
    )
    return (
        visible_orders(user)
        .filter(state=State.ACCEPTED)
        .annotate(invoiced=invoiced, open_part=open_part)
        .filter(invoiced__gte=F("total_amount"), open_part__lte=0)
        .select_related("customer", "assistant")
        .order_by("accepted_at", "id")
    )


def receivable_figures(*, start: datetime.date, end: datetime.date, assistant=None, today=None) -> dict:
    """Per assistant (the order's) and for the team: ``dso_days`` (days sales outstanding: what is open of the
    invoices issued by the period's end ÷ what was invoiced in the period × the period's days; None when nothing
    was invoiced) and ``overdue_amount`` (open and past due on the period's end, or today if earlier).
    One grouped query."""
    today = today or timezone.localdate()
    cutoff = min(end, today)
    lo = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    hi = timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min))
    open_amount = F("amount") - F("credited_amount") - F("paid_amount")
    invoices = Invoice.objects.filter(issued_at__lt=hi)
    if assistant is not None:
        invoices = invoices.filter(order__assistant=assistant)
    rows = list(
        invoices.order_by()
        .values("order__assistant")
        .annotate(
            billed=Sum("amount", filter=Q(issued_at__gte=lo), output_field=MONEY),
            open=Sum(open_amount, output_field=MONEY),
            overdue=Sum(open_amount, filter=Q(due_date__lt=cutoff), output_field=MONEY),
        )
    )
    period_days = (end - start).days + 1

    def figures(billed, open_, overdue):
        billed, open_, overdue = billed or Decimal("0"), open_ or Decimal("0"), overdue or Decimal("0")
        dso = None if billed <= 0 else float(round(open_ / billed * period_days, 1))
        return {"dso_days": dso, "overdue_amount": str(overdue.quantize(Decimal("0.01")))}

    per = {r["order__assistant"]: figures(r["billed"], r["open"], r["overdue"]) for r in rows}
    team = figures(
        sum((r["billed"] or 0 for r in rows), Decimal("0")),
        sum((r["open"] or 0 for r in rows), Decimal("0")),
        sum((r["overdue"] or 0 for r in rows), Decimal("0")),
    )
    return {"per_assistant": per, "team": team}
