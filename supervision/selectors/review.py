"""The review desk (R4.2): the manager's review queue, the review page of one order (credit position,
payment record, feasibility) and the joint-review sign-off queues. Aggregated in SQL, a fixed number of queries."""

from __future__ import annotations

from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import (
    Max,
    OuterRef,
    Subquery,
    Sum,
)
from django.utils import timezone
from django.utils.functional import cached_property

from orderdesk import roles
from orderdesk.roles import Role
from orders.models import Order, Signoff, State


# --- review queue (R4.2) ----------------------------------------------------------------
def _latest_signoff(department: str):
    return Subquery(
        Signoff.objects.filter(order=OuterRef("pk"), review_round=OuterRef("review_round"), department=department)
        .order_by("-created_at", "-id")
        .values("decision")[:1]
    )


def exposures_of(customer_ids) -> dict:
    """Open exposure (DESIGN §4) of the given customers, every one of them (0 where nothing is open), in one query
    whatever their number of orders: the running sums the database keeps (:class:`orders.models.CustomerExposure`,
    :func:`orders.selectors.exposures_of`), the same figure the credit check reads."""
    from orders.selectors import exposures_of as kept

    ids = list(customer_ids)
    found = kept(ids)
    return {pk: found.get(pk, Decimal("0.00")) for pk in ids}


#: what a queue row reads of an order (shown, or weighed by :func:`review_needs`): only these columns are read
REVIEW_ROW_FIELDS = (
    "number", "state", "submitted_at", "requested_delivery_date", "total_amount", "special_terms", "created_by",
    "customer__name", "customer__credit_limit",
    "assistant__username", "assistant__first_name", "assistant__last_name",
    "workshop__code", "workshop__name", "workshop__capacity", "workshop__is_active",
)


def review_queue_queryset():
    """Submitted orders waiting for the manager, oldest first, with the joint-review decisions of the round."""
    return (
        Order.objects.filter(state=State.RECEIVED, submitted_at__isnull=False)
        .select_related("customer", "assistant", "workshop")
        .only(*REVIEW_ROW_FIELDS)
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
    qs = review_queue_queryset()
    orders = list(qs[:limit])
    total = len(orders) if len(orders) < limit else qs.count()
    return _queue_rows(user, orders), total


def awaiting_review_count() -> int:
    """How many orders wait for review (received and submitted): a sum over the customers' tallies
    (:class:`orders.models.CustomerStateTally`), not a count of the waiting orders (thousands at 100,000 orders)."""
    from orders.models import CustomerStateTally

    total = CustomerStateTally.objects.filter(state=State.RECEIVED, submitted=True).aggregate(n=Sum("n"))["n"]
    return total or 0


class _QueuePaginator(Paginator):
    """The review queue's pages, numbered from the tallied count (:func:`awaiting_review_count`)."""

    @cached_property
    def count(self) -> int:
        return awaiting_review_count()


#: rows per page of the review queue page (`/supervision/review/?page=N`)
REVIEW_PAGE_SIZE = 50


def review_queue_page(*, user, page=None, per_page: int | None = None):
    """One page of the queue (``page``: the number as the request gives it; out of range: the last page):
    ``(rows, page)`` with a Django :class:`~django.core.paginator.Page` (its ``paginator.count``: the total)."""
    current = _QueuePaginator(review_queue_queryset(), per_page or REVIEW_PAGE_SIZE).get_page(page)
    return _queue_rows(user, list(current.object_list)), current


def _queue_rows(user, orders: list) -> list[dict]:
    """The needs of the given queue orders: lead times, exposure, workshops and occupancy in grouped queries."""
    from production.models import Workshop
    from production.selectors import workshop_occupancy

    today = timezone.localdate()
    if not orders:
        return []
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
    return rows


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
