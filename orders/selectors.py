"""Reads of the order desk, scoped to the caller (DESIGN §5, R5.2).

Every page, endpoint, admin view and export starts from :func:`visible_orders`;
an order outside it answers 404.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, Sum

from orderdesk import roles
from orderdesk.errors import NotFound
from orderdesk.prepared import PreparedQuery
from orderdesk.roles import Role
from orders.models import OPEN_APPROVED_STATES, Clarification, Customer, Order, OrderLine, Product, Signoff, State

User = get_user_model()


def order_scope_q(user) -> Q | None:
    """The filter of orders the user may see; None means all of them."""
    user_roles = roles.roles_of(user)
    if user.is_superuser or user_roles & roles.SEES_ALL_ORDERS:
        return None
    q = Q(pk__in=[])
    if Role.SALES_ASSISTANT in user_roles:
        q |= Q(assistant=user)
    if user_roles & roles.PRODUCTION:
        q |= Q(state__in=roles.PRODUCTION_VISIBLE_STATES)
        if Role.PRODUCTION_SUPERVISOR in user_roles:
            # orders waiting for production's joint-review sign-off
            q |= joint_review_pending_q()
    if user_roles & roles.LOGISTICS:
        q |= Q(state__in=roles.LOGISTICS_VISIBLE_STATES)
    return q


def joint_review_pending_q() -> Q:
    return Q(state=State.RECEIVED, submitted_at__isnull=False) & (
        Q(total_amount__gte=settings.JOINT_REVIEW_THRESHOLD) | ~Q(special_terms="")
    )


def visible_orders(user):
    qs = Order.objects.all()
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    q = order_scope_q(user)
    return qs if q is None else qs.filter(q)


def order_list(user):
    """The caller's orders with what a list row shows, in a fixed number of queries."""
    return visible_orders(user).select_related("customer", "assistant", "workshop")


def lines_prefetch() -> Prefetch:
    """An order's lines with their products, as every answer about one order shows them."""
    return Prefetch("lines", queryset=OrderLine.objects.select_related("product"))


def with_lines(order: Order) -> Order:
    """`order` with its lines read (one query), unless they already are."""
    if "lines" not in getattr(order, "_prefetched_objects_cache", {}):
        attach_lines(order, _ORDER_LINES.fetch(order=order.pk))
    return order


def order_detail_queryset(user):
    return order_list(user).prefetch_related(lines_prefetch())


def get_visible_order(user, order_id) -> Order:
    """One order in the caller's scope with what its answer shows (customer, assistant, workshop, lines);
    404 outside it. The same rows as :func:`order_detail_queryset`, read through prepared statements."""
    order = _one_order(user, order_id, related=("customer", "assistant", "workshop"), lock=False)
    attach_lines(order, _ORDER_LINES.fetch(order=order.pk))
    return order


def lock_visible_order(user, order_id, *, related: tuple[str, ...] = (), reads: tuple[str, ...] = ()) -> Order:
    """The order's row, locked for the caller's transaction (``select_for_update``); 404 if the user may not
    see it. Every service that writes to an order or to what hangs off it (plans, shipments, invoices,
    complaints) starts here, so scope is decided in one place for writes as :func:`visible_orders` does for
    reads. Call it inside ``transaction.atomic``. ``related``: relations read with it (only the order's row is
    locked); ``reads``: facts of :data:`ORDER_READS` read with it, each kept on the order under its name (a
    transition's conditions name those they ask: orders.conditions)."""
    return _one_order(user, order_id, related=tuple(related), lock=True, reads=tuple(reads))


#: Facts about an order that can be read with its row (an annotation each), by name: what a transition's
#: conditions ask (``condition(reads=…)``) comes with the locked row instead of a query of its own.
ORDER_READS = {
    "has_open_clarification": lambda: Exists(Clarification.objects.filter(order=OuterRef("pk"),
                                                                          resolved_at__isnull=True)),
    # the customer's running sum and its number of entries (credit_position_of): approve's credit check
    "customer_exposure": lambda: _exposure_sum(OuterRef("customer_id")),
    "customer_exposure_entries": lambda: _exposure_sum(OuterRef("customer_id"), rows=True),
}


def _scope_shape(user) -> tuple:
    """What decides the SQL of the caller's scope (:func:`order_scope_q`) besides their id."""
    return (roles.roles_of(user), bool(user.is_superuser))


def _order_by_id(shape, *, pk, user):
    """The query of :func:`_one_order` for a shape: the scope of a stand-in user with the shape's roles."""
    (role_names, superuser), related, lock, reads = shape
    stand_in = User(pk=user, is_superuser=superuser)
    roles.remember_roles(stand_in, role_names)
    orders = visible_orders(stand_in).select_related(*related) if related else visible_orders(stand_in)
    if reads:
        orders = orders.annotate(**{name: ORDER_READS[name]() for name in reads})
    if lock:
        orders = orders.select_for_update(of=("self",))
    return orders.filter(pk=pk)


# One order by id in the caller's scope, and an order's lines: every answer about one order reads them, so
# their SQL is compiled once per process (orderdesk.prepared, issue 14).
_ORDER_BY_ID = PreparedQuery("order in scope by id", _order_by_id,
                             params={"pk": Order._meta.pk, "user": User._meta.pk}, optional=("user",))
_ORDER_LINES = PreparedQuery(
    "an order's lines with their products",
    lambda shape, *, order: OrderLine.objects.select_related("product").filter(order=order),
    params={"order": OrderLine._meta.get_field("order")},
)


def _one_order(user, order_id, *, related: tuple[str, ...], lock: bool, reads: tuple[str, ...] = ()) -> Order:
    if not getattr(user, "is_authenticated", False):
        raise NotFound()
    try:
        found = _ORDER_BY_ID.fetch((_scope_shape(user), related, lock, reads), pk=order_id, user=user.pk)
    except (ValueError, TypeError):
        found = []
    if not found:
        raise NotFound()
    return found[0]


_OPEN_CLARIFICATION = PreparedQuery(
    "an open clarification of an order",
    lambda shape, *, order: Clarification.objects.filter(order=order, resolved_at__isnull=True).values_list("pk")[:1],
    params={"order": Clarification._meta.get_field("order")},
)


def has_open_clarification(order_id) -> bool:
    """Whether a clarification with the customer about the order is still open (submit's condition)."""
    return bool(_OPEN_CLARIFICATION.fetch(order=order_id))


def attach_lines(order: Order, lines: list) -> Order:
    """Keep `lines` (the order's, with their products) on the order as a prefetch of ``order.lines`` would."""
    field = OrderLine._meta.get_field("order")
    for line in lines:
        field.set_cached_value(line, order)
    cached = order.lines.all()
    cached._result_cache, cached._prefetch_done = list(lines), True
    order._prefetched_objects_cache = {**getattr(order, "_prefetched_objects_cache", {}), "lines": cached}
    return order


def live_open_exposure(*, customer, exclude_order=None) -> Decimal:
    """Unpaid invoices plus open orders not yet invoiced (DESIGN §4 credit check), added up from the orders.

    For every approved, not yet settled order of the customer that is its total
    less what has been paid against it: the unpaid part of its invoices plus the
    part not yet invoiced. (Finance's invoices are read through the order's reverse relation: `orders`
    imports no department.) The pages and the credit check read the same figure from the database's
    running sum (:class:`orders.models.CustomerExposure`); this is its definition, kept for the tests and
    ``manage.py check_exposure``.
    """
    orders = Order.objects.filter(customer=customer, state__in=OPEN_APPROVED_STATES)
    if exclude_order is not None and exclude_order.pk:
        orders = orders.exclude(pk=exclude_order.pk)
    total = orders.aggregate(s=Sum("total_amount"))["s"] or Decimal("0")
    paid = orders.aggregate(s=Sum("invoices__paid_amount"))["s"] or Decimal("0")
    return (total - paid).quantize(Decimal("0.01"))


def _own_exposure(order) -> Decimal:
    """What `order` itself adds to its customer's exposure (as it stands in the database): open, its total less
    what was paid on its invoices; else nothing."""
    if order is None or not order.pk or order.state not in OPEN_APPROVED_STATES:
        return Decimal("0")  # (approve's credit check: the order is still received, no query)
    row = (Order.objects.filter(pk=order.pk, state__in=OPEN_APPROVED_STATES)
           .annotate(paid=Sum("invoices__paid_amount")).values_list("total_amount", "paid").first())
    return (row[0] - (row[1] or Decimal("0"))) if row else Decimal("0")


def customer_open_exposure(*, customer, exclude_order=None) -> Decimal:
    """The customer's open exposure (:func:`live_open_exposure`'s figure) from its running sum, less what
    `exclude_order` adds to it."""
    customer_id = getattr(customer, "pk", customer)
    return credit_position_of(customer_id=customer_id, exclude_order=exclude_order)[1]


def _exposure_sum(customer_ref, *, rows: bool = False):
    from django.db.models import Count, DecimalField, IntegerField, Subquery

    from orders.models import CustomerExposure

    entries = CustomerExposure.objects.filter(customer=customer_ref).order_by().values("customer")
    if rows:
        return Subquery(entries.annotate(n=Count("*")).values("n"), output_field=IntegerField())
    money = DecimalField(max_digits=18, decimal_places=2)
    return Subquery(entries.annotate(s=Sum("amount")).values("s"), output_field=money)


_CREDIT_POSITION = PreparedQuery(
    "credit limit and open exposure",
    lambda shape, *, customer: Customer.objects.filter(pk=customer).annotate(
        exposure=_exposure_sum(OuterRef("pk")), entries=_exposure_sum(OuterRef("pk"), rows=True))
    .values_list("credit_limit", "exposure", "entries"),
    params={"customer": Customer._meta.pk},
)

# Entries a customer's exposure may gather before a writing transaction folds them into one: beat folds every
# five minutes, but a customer approved hundreds of times in between would make each credit check add them all.
EXPOSURE_FOLD_AT = 32


def credit_position_of(*, customer_id, exclude_order=None, known: tuple | None = None) -> tuple[Decimal, Decimal]:
    """The customer's credit limit and open exposure (:func:`live_open_exposure`'s figure) in one query, read
    from the running sum the database keeps (:class:`orders.models.CustomerExposure`): a handful of rows
    however many orders are open. An `exclude_order` that is itself open is taken out (one query more).
    ``known``: the limit, the running sum and its number of entries, read already (with the locked order:
    :data:`ORDER_READS`), in place of the query."""
    if known is not None:
        rows = [known]
    else:
        try:
            rows = _CREDIT_POSITION.fetch(customer=customer_id)
        except (ValueError, TypeError):
            rows = []
    if not rows:
        return Decimal("0"), Decimal("0")
    limit, exposure, entries = rows[0]
    from django.db import connection

    if (entries or 0) > EXPOSURE_FOLD_AT and connection.in_atomic_block:
        # a writing transaction (approve) tidies the running sum it read, so the next check reads one entry
        from orders.services import fold_customer_exposure

        fold_customer_exposure(customer_id)
    exposure = (exposure or Decimal("0")) - _own_exposure(exclude_order)
    return limit, exposure.quantize(Decimal("0.01"))


def customers_with_exposure():
    """Customers annotated with `open_exposure` from their running sums, in one query (no N+1)."""
    from django.db.models import DecimalField, F, Value
    from django.db.models.functions import Coalesce

    money = DecimalField(max_digits=18, decimal_places=2)
    return Customer.objects.annotate(
        open_exposure=Coalesce(_exposure_sum(OuterRef("pk")), Value(Decimal("0")), output_field=money)
    ).order_by(F("name").asc())


def exposures_of(customer_ids) -> dict[int, Decimal]:
    """The open exposure of each of the customers, from their running sums (one query)."""
    from orders.models import CustomerExposure

    rows = (CustomerExposure.objects.filter(customer_id__in=list(customer_ids)).order_by().values("customer_id")
            .annotate(s=Sum("amount")).values_list("customer_id", "s"))
    return {customer_id: (total or Decimal("0")).quantize(Decimal("0.01")) for customer_id, total in rows}


def joint_review_status(order) -> dict[str, str | None]:
    """The latest decision of finance and of production in the order's current review round."""
    status: dict[str, str | None] = {d.value: None for d in Signoff.Department}
    for signoff in order.signoffs.filter(review_round=order.review_round).order_by("created_at", "id"):
        status[signoff.department] = signoff.decision
    return status


def products():
    return Product.objects.filter(is_active=True)


def users_directory(role: str | None = None):
    qs = User.objects.filter(is_active=True).prefetch_related("groups").order_by("username")
    if role:
        qs = qs.filter(groups__name=role)
    return qs


def order_total() -> int:
    """How many orders there are, from the running tallies (:class:`orders.models.OrderStateTally`)."""
    from orders.models import OrderStateTally

    return OrderStateTally.objects.aggregate(n=Sum("n"))["n"] or 0


def state_counts(user, today) -> tuple[dict[str, int], int]:
    """How many of the caller's orders are in each state, and how many of them are overdue.

    A caller who sees every order reads the tallies the database keeps (:class:`orders.models.OrderStateTally`,
    a few thousand rows) instead of counting the orders table; anyone else counts their visible orders (one
    scan). Both apply the same :func:`overdue_q`."""
    from django.db.models import Count

    from orders.models import OrderStateTally

    if getattr(user, "is_authenticated", False) and order_scope_q(user) is None:
        rows = OrderStateTally.objects.order_by().values_list("state").annotate(
            total=Sum("n"), late=Sum("n", filter=overdue_q(today)))
    else:
        rows = visible_orders(user).order_by().values_list("state").annotate(
            total=Count("*"), late=Count("promised_delivery_date", filter=overdue_q(today)))
    counts, overdue = {}, 0
    for state, n, late in rows:
        if n:
            counts[state] = n
        overdue += late or 0
    return counts, overdue


def overdue_q(today) -> Q:
    return Q(promised_delivery_date__lt=today) & ~Q(state__in=[State.ACCEPTED, State.SETTLED, State.CANCELLED])


def has_open_clarification_q():
    from orders.models import Clarification

    return Exists(Clarification.objects.filter(order=OuterRef("pk"), resolved_at__isnull=True))


# --- the intake form (R4.1) ---------------------------------------------------------------------
DUPLICATE_WINDOW_DAYS = 3


def likely_duplicates(user, *, customer_id, product_ids, around=None, exclude_id=None):
    """Visible, not cancelled orders of the same customer with the same set of products, created within
    :data:`DUPLICATE_WINDOW_DAYS` days of ``around`` (default: now): probably the same order entered twice."""
    import datetime

    from django.db.models import Count
    from django.utils import timezone

    wanted = sorted({int(p) for p in product_ids})
    if not customer_id or not wanted:
        return []
    around = around or timezone.now()
    window = datetime.timedelta(days=DUPLICATE_WINDOW_DAYS)
    candidates = (
        visible_orders(user)
        .filter(customer_id=customer_id, created_at__gte=around - window, created_at__lte=around + window)
        .exclude(state=State.CANCELLED)
        .annotate(n_products=Count("lines__product", distinct=True))
        .filter(n_products=len(wanted))
        .order_by("-created_at")[:20]
    )
    candidates = [o for o in candidates if o.pk != exclude_id]
    products_of: dict[int, set] = {}
    for order_id, product_id in OrderLine.objects.filter(order__in=[o.pk for o in candidates]).values_list(
        "order_id", "product_id"
    ):
        products_of.setdefault(order_id, set()).add(product_id)
    return [o for o in candidates if sorted(products_of.get(o.pk, ())) == wanted]


def submit_checklist(order) -> list[dict]:
    """The assistant's check (R4.2): each `submit` condition with whether it holds and its message."""
    from orders.models import TransitionContext

    meta = order.submit._django_fsm
    spec = meta.get_transition(State.RECEIVED)
    order._ctx = TransitionContext()
    try:
        items = []
        for cond in spec.conditions:
            if cond.code == "already_submitted":
                continue
            ok = bool(cond(order))
            # each item reads as what holds (✓) or what is still wrong (✗)
            items.append({"code": cond.code, "message": str(cond.met if ok else cond.message), "ok": ok})
        return items
    finally:
        order._ctx = None


# --- the order list (filters, sorting) -----------------------------------------------------------
def at_risk_exists() -> Exists:
    """Whether an order has an unresolved at-risk alert (for annotations)."""
    from orders.models import Alert

    return Exists(Alert.objects.filter(order=OuterRef("pk"), kind=Alert.Kind.AT_RISK, resolved_at__isnull=True))


def at_risk_q() -> Q:
    return Q(at_risk_exists())


# Sortable columns of the list page: public key → model ordering (amount only for roles that see prices).
LIST_SORTS = {
    "number": "number",
    "customer": "customer__name",
    "state": "state",
    "requested": "requested_delivery_date",
    "promised": "promised_delivery_date",
    "created": "created_at",
    "total": "total_amount",
}


# --- the caller's work (the dashboard's "your work" lists) -----------------------------------
#: what a dashboard row shows of an order (its lists read only these columns)
DASHBOARD_ROW_FIELDS = ("number", "state", "requested_delivery_date", "promised_delivery_date", "customer__name")


def work_queues(user) -> list[dict]:
    """What waits for the caller's role now: one entry per queue with its orders (oldest first).

    The queues are declared in the lifecycle registry (:func:`orders.lifecycle.work_queues`):
    the next transition each role runs (``roles.TRANSITION_ROLES``), in the transition's
    source states, applied to the orders the caller may see.
    """
    from orders import lifecycle

    if roles.is_read_only(user):
        return []
    base = visible_orders(user).select_related("customer").only(*DASHBOARD_ROW_FIELDS).order_by("created_at", "id")
    queues = []
    for spec in lifecycle.work_queues(roles.roles_of(user)):
        q = Q(state__in=spec["states"])
        if spec["own"]:
            q &= Q(assistant=user)
        if spec["where"] is not None:
            q &= spec["where"](user)
        orders = base.filter(q)
        shown = list(orders[:8])
        queues.append({"key": spec["key"], "title": spec["title"], "orders": shown,
                       "count": orders.count() if len(shown) == 8 else len(shown)})
    return queues


# --- uploaded files (served by orderdesk.media, which asks these) ------------------------------------------
def may_read_receipt(user, name: str) -> bool:
    """A receipt scan: for a user who sees its order and the contact field class (the signer is contact data)."""
    return roles.sees_customer_contact(user) and visible_orders(user).filter(receipt_scan=name).exists()


def may_read_import_sheet(user, name: str) -> bool:
    """An import sheet: for the user who uploaded it (and superusers)."""
    from orders.models import ImportJob

    jobs = ImportJob.objects.filter(file=name)
    return jobs.exists() if user.is_superuser else jobs.filter(user=user).exists()


def order_for_tracking_token(token: str) -> Order:
    """The order behind a customer's tracking link, or NotFound (404) when the link is forged, was replaced
    by a re-issued one, or expired (TRACKING_LINK_DAYS after settlement or cancellation)."""
    from django.core import signing
    from django.utils import timezone

    try:
        value = signing.loads(token, salt=settings.TRACKING_SALT)
        if isinstance(value, list) and len(value) == 2:
            order_id, key = int(value[0]), str(value[1])
        else:
            order_id, key = int(value), ""
        order = Order.objects.select_related("customer", "assistant", "assistant__staff_profile").get(pk=order_id)
    except (signing.BadSignature, Order.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    if key != order.tracking_key or not key and order.tracking_key:
        raise NotFound()
    expires = order.tracking_expires_at
    if expires is not None and timezone.now() >= expires:
        raise NotFound()
    return order
