"""Customers, products and orders: the order desk (R4.1, R4.2) and the lifecycle (DESIGN §4).

The lifecycle is declared here once, on :class:`Order`: each transition with its
source, target, conditions and permission (read from :mod:`orderdesk.roles`).
Nothing calls these methods but :func:`orders.services.run_transition`, which
locks the row, checks permission and conditions, runs the transition, saves,
records and notifies after commit.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMFieldMixin, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from orderdesk import roles
from orderdesk.choices import ChoiceLabelsMixin
from orderdesk.pages import id_url
from orders import conditions as c, lifecycle

ZERO = Decimal("0.00")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    ONLINE = "online", _("Online platform")
    FAX = "fax", _("Fax")
    VISIT = "visit", _("Visit")
    OTHER = "other", _("Other")


class State(models.TextChoices):
    RECEIVED = "received", _("Received")
    REVIEWED = "reviewed", _("Reviewed")
    SCHEDULED = "scheduled", _("Scheduled")
    PRODUCING = "producing", _("Producing")
    SHIPPED = "shipped", _("Shipped")
    ACCEPTED = "accepted", _("Accepted")
    SETTLED = "settled", _("Settled")
    CANCELLED = "cancelled", _("Cancelled")


# States in which an approved order is still open (it counts against credit).
OPEN_APPROVED_STATES = (State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED)
# States after which an order no longer waits for delivery.
DELIVERED_STATES = (State.ACCEPTED, State.SETTLED)


class Customer(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=14, decimal_places=2, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    is_key_account = models.BooleanField(_("key account"), default=False)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    # The customer's default payment terms (finance's templates); an order takes them unless intake chooses others.
    payment_terms = models.ForeignKey(
        "finance.PaymentTerms", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("default payment terms"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    specification = models.CharField(_("standard specification"), max_length=300, blank=True)
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    standard_price = models.DecimalField(
        _("standard price"), max_digits=14, decimal_places=2, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    lead_time_days = models.PositiveIntegerField(_("standard lead time (days)"), default=14)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class OrderNumberSequence(models.Model):
    """One counter row per year; taken under a row lock so numbers are unique and never reused."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("order number sequence")
        verbose_name_plural = _("order number sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class OrderStateTally(models.Model):
    """How many orders are in each state with each promised date, kept by the database (issue 14).

    A trigger on the orders table (migration ``orders/0011``) appends ``+1`` for the row an insert or update
    leaves and ``-1`` for the row an update or delete takes away, whenever the state or the promised date
    changes: every write counts, the transition service's, a bulk update's, an import's, raw SQL's. Rows are
    only ever inserted (concurrent transitions never wait on one counter row);
    :func:`orders.services.compact_state_tallies` (beat) folds them into one row per (state, date).
    The fields carry the order's names, so the order's own filters (``selectors.overdue_q``) apply to them.
    The dashboard of a caller who sees every order reads it instead of counting the orders table.
    """

    state = models.CharField(max_length=20)
    promised_delivery_date = models.DateField(null=True)
    n = models.IntegerField()

    class Meta:
        verbose_name = _("order count by state")
        verbose_name_plural = _("order counts by state")

    def __str__(self) -> str:
        return f"{self.state} {self.promised_delivery_date}: {self.n:+d}"


class CustomerExposure(models.Model):
    """A customer's open exposure (DESIGN §4's credit check), kept by the database as amounts to add up (issue 14).

    The open exposure is, over the customer's approved and not yet settled orders (``OPEN_APPROVED_STATES``), their
    totals less what has been paid against their invoices. Triggers (migration ``orders/0013``) append what each
    write changes: on the orders table, an order entering, leaving or changing its total (or customer) while open
    adds or takes away ``total − paid``; on finance's invoices, a payment recorded against an open order's invoice
    takes its amount away. So the credit check reads a handful of rows per customer however many orders are
    open, instead of summing them all (approvals slowed down as a customer's open orders grew). Like the state
    tallies, rows are only ever inserted; :func:`orders.services.compact_state_tallies` folds them per customer.
    :func:`orders.selectors.live_open_exposure` computes the same figure from the orders themselves (the tests'
    oracle and ``manage.py check_exposure``).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    amount = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("open exposure entry")
        verbose_name_plural = _("open exposure entries")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.amount:+}"


class CustomerStateTally(models.Model):
    """How many orders each customer has in each state, submitted or not, and what they amount to, kept by the
    database (issue 14).

    Like :class:`OrderStateTally`: a trigger on the orders table (migration ``orders/0013``) appends ``+1`` and the
    order's total for the row an insert or update leaves and ``-1`` and minus the total for the row an update or
    delete takes away, whenever the state, the customer, the total or whether it is submitted changes; beat folds
    the rows (:func:`orders.services.compact_state_tallies`). The number of orders waiting for review (the review
    queue's pages) is then a sum over a few rows instead of a count of the orders; the amounts are each customer's
    orders' totals by state (the credit exposure, which also takes payments off, is :class:`CustomerExposure`'s)."""

    customer = models.ForeignKey(Customer, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                                 related_name="+")
    state = models.CharField(max_length=20)
    submitted = models.BooleanField()  # the order's submitted_at is set
    n = models.IntegerField()
    amount = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("order total by customer and state")
        verbose_name_plural = _("order totals by customer and state")
        indexes = [models.Index(fields=["customer", "state"], name="customer_state_tally")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.state}{' submitted' if self.submitted else ''}: {self.n:+d} {self.amount:+}"


@dataclass
class TransitionContext:
    """What a transition is run with: set by the service before conditions are checked."""

    user: object = None
    comment: str = ""
    data: dict = field(default_factory=dict)
    # Each condition's answer for this run (orders.conditions: evaluated once per transition).
    results: dict = field(default_factory=dict)
    # The id of the state log's record of this run (set when django-fsm-log saves it: orders.apps).
    log_id: int | None = None
    # Writes the service sends with the order's update (orders.fsm_log: the state log's record), or None: each
    # is written at once.
    deferred: list | None = None


def named(name: str):
    """Give a transition its public name where that name is a Python keyword (`return`)."""

    def deco(func):
        func.__name__ = name
        return func

    return deco


@functools.cache
def _state_fields(model) -> tuple:
    return tuple(f for f in model._meta.fields if isinstance(f, FSMFieldMixin))


@functools.lru_cache(maxsize=8)
def _tracking_url_parts(site_url: str, script_prefix: str) -> tuple[str, str]:
    """The tracking link around its token, reversed once (a list serialises one link per row)."""
    marker = "TOKEN"
    head, _marker, tail = reverse("track", args=[marker]).partition(marker)
    return site_url.rstrip("/") + head, tail


class Order(ChoiceLabelsMixin, ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True, editable=False)
    # no index of its own: (customer, state) below serves every lookup by customer (issue 14: each index is
    # written on every insert and on every change of state)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer"),
                                 db_index=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    contact_name = models.CharField(_("contact name"), max_length=100)
    contact_phone = models.CharField(_("contact phone"), max_length=50)
    delivery_address = models.CharField(_("delivery address"), max_length=300)
    requested_delivery_date = models.DateField(_("requested delivery date"))
    promised_delivery_date = models.DateField(_("promised delivery date"), null=True, blank=True)
    special_terms = models.TextField(_("special terms"), blank=True)
    # The order's payment terms (DESIGN §6b): default the customer's; invoices are drawn from them.
    payment_terms = models.ForeignKey(
        "finance.PaymentTerms", on_delete=models.PROTECT, null=True, blank=True, related_name="orders",
        verbose_name=_("payment terms"),
    )
    # indexed by (state, promised date) below, which serves every lookup by state
    state = FSMField(_("state"), default=State.RECEIVED, choices=State.choices, protected=True)
    total_amount = models.DecimalField(_("total amount"), max_digits=16, decimal_places=2, default=ZERO)

    assistant = models.ForeignKey(  # indexed by (assistant, state) below
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assisted_orders", verbose_name=_("assistant"),
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_orders", verbose_name=_("created by")
    )
    workshop = models.ForeignKey(
        "production.Workshop", on_delete=models.PROTECT, null=True, blank=True, related_name="orders",
        verbose_name=_("workshop"),
    )

    # review (R4.2)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # The first submission's time (issue 14): the KPIs' accuracy cohort is "first submitted in the period".
    # It was read per order from the first `submit` record of the state log (a correlated subquery per
    # order: 0.55 s over a year of 100,000 orders); the submit transition sets it once and it never changes
    # (a withdrawal or a return clears `submitted_at`, not this). Migration 0010 filled it from the log.
    first_submitted_at = models.DateTimeField(_("first submitted at"), null=True, blank=True, editable=False,
                                              db_index=True)
    review_round = models.PositiveIntegerField(_("review round"), default=1)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    credit_override_reason = models.TextField(_("credit override reason"), blank=True)
    schedule_delay_reason = models.TextField(_("acknowledged schedule delay"), blank=True)

    # delivery (R4.5)
    receipt_signed_by = models.CharField(_("receipt signed by"), max_length=100, blank=True)
    receipt_signed_on = models.DateField(_("receipt signed on"), null=True, blank=True)
    receipt_reference = models.CharField(_("receipt reference"), max_length=100, blank=True)
    receipt_scan = models.FileField(_("receipt scan"), upload_to="receipts/%Y/%m/", blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    # the customer's tracking link (R5.3): re-issuing it draws a new key, which revokes the old link
    tracking_key = models.CharField(_("tracking link key"), max_length=32, blank=True, default="", editable=False)
    tracking_issued_at = models.DateTimeField(_("tracking link issued at"), null=True, blank=True, editable=False)

    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["state", "promised_delivery_date"]),
            models.Index(fields=["assistant", "state"]),
            models.Index(fields=["customer", "state"]),
            # issue 14: the dashboard's overdue list (open orders by promised date) and the review queue
            # (submitted orders, oldest first) read the first rows of these in order, whatever the table's size
            models.Index(fields=["promised_delivery_date", "id"], name="order_open_by_promise",
                         condition=~models.Q(state__in=[State.ACCEPTED, State.SETTLED, State.CANCELLED])),
            models.Index(fields=["submitted_at", "id"], name="order_awaiting_review",
                         condition=models.Q(state=State.RECEIVED, submitted_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return id_url("orders:detail", self.pk)

    # --- derived facts -----------------------------------------------------
    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def requires_joint_review(self) -> bool:
        return self.total_amount >= settings.JOINT_REVIEW_THRESHOLD or bool(self.special_terms.strip())

    @property
    def tracking_token(self) -> str:
        """The signed token of the current link: the order and its link key (a first link, never re-issued,
        signs the order alone). See :func:`orders.selectors.order_for_tracking_token`."""
        value = [self.pk, self.tracking_key] if self.tracking_key else self.pk
        return signing.dumps(value, salt=settings.TRACKING_SALT)

    @property
    def tracking_expires_at(self):
        """When the link stops working: TRACKING_LINK_DAYS after settlement (or cancellation); None while open."""
        closed = self.settled_at or self.cancelled_at
        if closed is None:
            return None
        return closed + datetime.timedelta(days=settings.TRACKING_LINK_DAYS)

    @property
    def tracking_url(self) -> str:
        head, tail = _tracking_url_parts(settings.SITE_URL, get_script_prefix())
        return head + self.tracking_token + tail

    @property
    def is_overdue(self) -> bool:
        return (
            self.promised_delivery_date is not None
            and self.state not in (*DELIVERED_STATES, State.CANCELLED)
            and self.promised_delivery_date < timezone.localdate()
        )

    # The transition currently being run (set by the service, read by conditions).
    _ctx: TransitionContext | None = None

    @property
    def state_fields(self):
        """The FSM fields django-fsm's concurrency guard remembers on every order made (its own property filters
        every field of the model each time: a page of 50 orders made 1,700 checks)."""
        return _state_fields(type(self))

    @property
    def ctx(self) -> TransitionContext:
        return self._ctx or TransitionContext()

    # --- the lifecycle (DESIGN §4) -----------------------------------------
    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state, source=State.RECEIVED, target=State.RECEIVED,
        conditions=[c.not_yet_submitted, c.elements_complete, c.lines_specified, c.delivery_date_feasible,
                    c.no_open_clarification],
        permission=roles.transition_permission("submit"),
    )
    def submit(self, by=None, description=None):
        self.submitted_at = timezone.now()
        if self.first_submitted_at is None:
            self.first_submitted_at = self.submitted_at

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state, source=State.RECEIVED, target=State.RECEIVED,
        conditions=[c.is_submitted, c.comment_given],
        permission=roles.transition_permission("return"),
    )
    @named("return")
    def return_order(self, by=None, description=None):
        self.submitted_at = None
        self.review_round += 1

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state, source=State.RECEIVED, target=State.REVIEWED,
        conditions=[c.is_submitted, c.approver_not_creator, c.credit_ok_or_overridden, c.joint_review_complete,
                    c.promised_date_valid],
        permission=roles.transition_permission("approve"),
    )
    def approve(self, by=None, description=None):
        self.approved_by = by
        self.approved_at = timezone.now()
        self.promised_delivery_date = self.ctx.data.get("promised_delivery_date") or self.requested_delivery_date
        if self.ctx.data.get("override_credit"):
            self.credit_override_reason = self.ctx.comment

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state, source=State.REVIEWED, target=State.SCHEDULED,
        conditions=[c.workshop_assigned, c.plan_has_milestones, c.milestones_complete, c.plan_meets_promise,
                    c.within_capacity],
        permission=roles.transition_permission("schedule"),
    )
    def schedule(self, by=None, description=None):
        if self.ctx.data.get("acknowledge_delay"):
            self.schedule_delay_reason = self.ctx.comment

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state, source=State.SCHEDULED, target=State.PRODUCING,
        conditions=[c.materials_ready, c.equipment_ready, c.deposit_paid_or_waived],
        permission=roles.transition_permission("start_production"),
    )
    def start_production(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state, source=State.PRODUCING, target=State.SHIPPED,
        conditions=[c.production_complete, c.rework_reported, c.no_open_quality_issue, c.active_shipment,
                    c.fully_shipped],
        permission=roles.transition_permission("ship"),
    )
    def ship(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state, source=State.SHIPPED, target=State.ACCEPTED,
        conditions=[c.inspection_passed, c.receipt_recorded],
        permission=roles.transition_permission("accept"),
    )
    def accept(self, by=None, description=None):
        data = self.ctx.data
        self.receipt_signed_by = data["signed_by"].strip()
        self.receipt_signed_on = data["signed_on"]
        self.receipt_reference = (data.get("receipt_reference") or "").strip()
        if data.get("receipt_scan"):
            self.receipt_scan = data["receipt_scan"]
        self.accepted_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state, source=State.SHIPPED, target=State.PRODUCING,
        conditions=[c.comment_given],
        permission=roles.transition_permission("reject_delivery"),
    )
    def reject_delivery(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state, source=State.ACCEPTED, target=State.SETTLED,
        conditions=[c.invoices_cover_total, c.invoices_paid],
        permission=roles.transition_permission("settle"),
    )
    def settle(self, by=None, description=None):
        self.settled_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state, source=[State.RECEIVED, State.REVIEWED, State.SCHEDULED], target=State.CANCELLED,
        conditions=[c.comment_given],
        permission=roles.transition_permission("cancel"),
    )
    def cancel(self, by=None, description=None):
        self.cancelled_at = timezone.now()


# Public transition name → model method (DESIGN §4 order), from the lifecycle registry.
TRANSITION_METHODS: dict[str, str] = {name: entry.method for name, entry in lifecycle.TRANSITIONS.items()}


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    position = models.PositiveIntegerField(_("position"), default=1)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    specification = models.CharField(_("specification"), max_length=300)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )

    class Meta:
        ordering = ["order", "position", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self) -> str:
        return f"{self.order_id}#{self.position} {self.product_id}"

    @property
    def line_total(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class Clarification(models.Model):
    """A doubtful point clarified with the customer (R4.2); an open one blocks `submit`."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="clarifications", verbose_name=_("order"))
    question = models.TextField(_("question"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "id"]
        verbose_name = _("clarification")
        verbose_name_plural = _("clarifications")

    def __str__(self) -> str:
        return self.question[:60]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class Signoff(models.Model):
    """A joint-review sign-off (R4.2) by finance or production, valid for one review round."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        OBJECT = "object", _("Object")

    class Department(models.TextChoices):
        FINANCE = "finance", _("Finance")
        PRODUCTION = "production", _("Production")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="signoffs", verbose_name=_("order"))
    review_round = models.PositiveIntegerField(_("review round"))
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("joint review sign-off")
        verbose_name_plural = _("joint review sign-offs")

    def __str__(self) -> str:
        return f"{self.order_id} {self.department} {self.decision}"


class OrderChange(models.Model):
    """Field-level history of an order: who changed what, from what, to what."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="changes", verbose_name=_("order"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    field = models.CharField(_("field"), max_length=100)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("order change")
        verbose_name_plural = _("order changes")

    def __str__(self) -> str:
        return f"{self.order_id}.{self.field}"


class PromiseChange(models.Model):
    """A revision of the promised delivery date (R5.3): who, old, new, why. The reason is told to the
    customer (e-mail, tracking page); the matching field change (``change``) puts it in the history."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="promise_changes",
                              verbose_name=_("order"))
    change = models.OneToOneField(OrderChange, on_delete=models.CASCADE, related_name="promise",
                                  verbose_name=_("order change"))
    old_date = models.DateField(_("previous promised date"), null=True, blank=True)
    new_date = models.DateField(_("new promised date"))
    reason = models.TextField(_("reason"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("changed by"))
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("promise change")
        verbose_name_plural = _("promise changes")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.old_date} → {self.new_date}"


class Alert(models.Model):
    """A scheduled check that fired for an order: each condition fires once per order."""

    class Kind(models.TextChoices):
        OVERDUE = "overdue", _("Overdue")
        AT_RISK = "at_risk", _("At risk")
        STALE = "stale", _("No progress reported")
        PAYMENT_OVERDUE = "payment_overdue", _("Payment overdue")
        REVIEW_WAITING = "review_waiting", _("Review waiting")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    fired_at = models.DateTimeField(_("fired at"), default=timezone.now)
    # When an alert stays unresolved its escalation to the manager is sent once.
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [models.UniqueConstraint(fields=["order", "kind"], name="alert_once_per_order_kind")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class Communication(models.Model):
    """One contact with the customer about an order (R4.2 clarifications, R4.4 reporting): who, when, what."""

    class Channel(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("Email")
        VISIT = "visit", _("Visit")
        OTHER = "other", _("Other")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="communications", verbose_name=_("order"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    with_whom = models.CharField(_("with whom"), max_length=100)
    summary = models.TextField(_("what was said or agreed"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("communication")
        verbose_name_plural = _("communications")

    def __str__(self) -> str:
        return f"{self.order_id} {self.channel} {self.with_whom}"


class Escalation(models.Model):
    """A problem the assistant escalates to the sales manager (R5.1)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="escalations", verbose_name=_("order"))
    reason = models.TextField(_("reason"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("raised by"))
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("resolved by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self) -> str:
        return self.reason[:60]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ImportJob(models.Model):
    """An upload of orders from a CSV or Excel sheet (R4.1): validated, previewed, then committed all at once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        VALIDATING = "validating", _("Checking")
        INVALID = "invalid", _("Has errors")
        READY = "ready", _("Ready to import")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    # [{"row": n, "field": name, "message": text}]
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # [{"ref", "customer", "lines", "total"}]: what would be created
    preview = models.JSONField(_("preview"), default=list, blank=True)
    order_ids = models.JSONField(_("created orders"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (self.Status.DONE, self.Status.INVALID, self.Status.READY) else 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))
