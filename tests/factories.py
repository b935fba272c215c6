"""Factories for reference data and helpers that walk orders through the REAL services.

Reference data (customers, products, workshops, users) comes from plain factory-boy
model factories. Orders are never written directly: :func:`make_order` records an
order with :func:`orders.services.create_order` and then runs every transition and
every departmental service (plan, readiness, progress, shipment, invoice, payment)
as the user of the right role, exactly as the API would, until the requested state
is reached. ``ready_for=`` additionally prepares the conditions of one transition
from that state (e.g. ``make_order("producing", ready_for="ship")`` reports 100 %
and records a shipment), so a test can run it and expect 200.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from orderdesk.roles import ROLES
from orders import services
from orders.models import Customer, Order, Product, State
from production.models import Workshop

User = get_user_model()

PASSWORD = "test-password-123"
DEFAULT_LEAD_DAYS = 10
# Requested delivery date of a default order: beyond the longest lead time.
DEFAULT_REQUESTED_DAYS = 45


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


# --- reference data -----------------------------------------------------------------
class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        for name in extracted:
            self.groups.add(role_group(name))


def role_group(name: str) -> Group:
    """The group of a role. The migration creates them; a transactional test's flush removes them."""
    assert name in ROLES, name
    return Group.objects.get_or_create(name=name)[0]


def user_with_role(role: str, username: str | None = None):
    """The user `username` (default: the role's name, like `seed_demo`) holding `role`."""
    user = UserFactory(username=username or role, roles=[role])
    if not user.groups.filter(name=role).exists():
        user.groups.add(role_group(role))
    return User.objects.get(pk=user.pk)  # fresh object: no cached roles


def superuser():
    user, created = User.objects.get_or_create(
        username="admin", defaults={"is_superuser": True, "is_staff": True, "email": "admin@example.com"}
    )
    if created:
        user.set_password(PASSWORD)
        user.save()
    return User.objects.get(pk=user.pk)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n} Ltd.")
    contact_name = factory.Faker("name")
    contact_phone = factory.Sequence(lambda n: f"+86 21 5555 {n:04d}")
    email = factory.LazyAttribute(lambda c: f"{c.code.lower()}@customer.example.com")
    address = factory.Sequence(lambda n: f"{n} Industrial Road, Shanghai")
    credit_limit = Decimal("100000000.00")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    specification = "standard"
    unit = "pcs"
    standard_price = Decimal("100.00")
    lead_time_days = DEFAULT_LEAD_DAYS


class WorkshopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workshop

    code = factory.Sequence(lambda n: f"WS{n:03d}")
    name = factory.Sequence(lambda n: f"Workshop {n}")
    capacity = 5


# --- orders through the services -------------------------------------------------------
# The lifecycle path, in order: each state and the transition that reaches it.
PATH = [State.RECEIVED, State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED, State.SETTLED]


class Cast:
    """The users acting on an order; defaults are the role-named users (the conftest fixtures)."""

    def __init__(self, **users):
        self._users = users

    def __getattr__(self, role):
        if role.startswith("_"):
            raise AttributeError(role)
        if role not in self._users:
            self._users[role] = user_with_role(role)
        return self._users[role]


def order_payload(
    *,
    customer=None,
    products=None,
    lines=None,
    requested_delivery_date=None,
    special_terms="",
    quantity=Decimal("10"),
    unit_price=Decimal("100.00"),
) -> dict:
    """Keyword arguments of `create_order` (without the user)."""
    customer = customer or CustomerFactory()
    if lines is None:
        products = products or [ProductFactory()]
        lines = [
            {"product": p, "specification": f"spec of {p.sku}", "quantity": quantity, "unit_price": unit_price}
            for p in products
        ]
    return {
        "customer": customer,
        "channel": "phone",
        "contact_name": customer.contact_name or "Contact",
        "contact_phone": customer.contact_phone or "123",
        "delivery_address": customer.address or "Somewhere 1",
        "requested_delivery_date": requested_delivery_date or days(DEFAULT_REQUESTED_DAYS),
        "special_terms": special_terms,
        "lines": lines,
    }


def plan_order(order, cast, *, workshop=None, milestones=None):
    from production import services as production

    workshop = workshop or WorkshopFactory()
    promised = order.promised_delivery_date or order.requested_delivery_date
    if milestones is None:
        milestones = [
            {"name": "materials", "due_date": min(days(3), promised), "responsible": cast.production_worker},
            {
                "name": "assembly",
                "due_date": promised - datetime.timedelta(days=2),
                "responsible": cast.production_supervisor,
            },
        ]
    return production.create_plan(
        user=cast.production_supervisor, order_id=order.pk, workshop=workshop, milestones=milestones
    )


def make_ready(order, cast):
    from production import services as production

    plan = order.production_plan
    production.update_readiness(
        user=cast.production_supervisor, plan_id=plan.pk, materials_ready=True, equipment_ready=True
    )


def complete_production(order, cast):
    from production import services as production

    production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=50, note="half")
    production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=100, note="done")


def record_shipment(order, cast, *, lines=None, **extra):
    """A shipment of `order` (``lines``: [{"order_line", "quantity"}]; none: all that remains)."""
    from logistics import services as logistics

    return logistics.create_shipment(
        user=cast.logistics_specialist,
        order_id=order.pk,
        carrier="SF Express",
        tracking_number=f"SF{order.pk:010d}",
        expected_arrival=days(5),
        lines=lines,
        **extra,
    )


def part_of(order, quantity, *, position: int = 1) -> list[dict]:
    """Shipment lines carrying `quantity` of the order's line at `position`."""
    line = order.lines.get(position=position)
    return [{"order_line": line.pk, "quantity": Decimal(str(quantity))}]


def receipt_data(**overrides) -> dict:
    data = {"signed_by": "Mr. Receiver", "signed_on": today(), "receipt_reference": "RCPT-001"}
    data.update(overrides)
    return data


def invoice_and_pay(order, cast, *, pay=True, amount=None):
    from finance import services as finance

    invoice = finance.create_invoice(
        user=cast.finance_specialist, order_id=order.pk, amount=amount or order.total_amount, due_date=days(30)
    )
    if pay:
        finance.record_payment(
            user=cast.finance_specialist,
            invoice_id=invoice.pk,
            amount=invoice.amount,
            received_on=today(),
            reference=f"BANK-{invoice.pk}",
        )
    return invoice


def run(order, name, user, comment="", **data):
    return services.run_transition(user=user, order_id=order.pk, name=name, comment=comment, data=data)


def prepare(order, name: str, cast) -> Order:
    """Make the conditions of transition `name` hold for `order` in its current state."""
    state = order.state
    if name in ("return", "approve") and state == State.RECEIVED and order.submitted_at is None:
        run(order, "submit", cast.owner)
    elif name == "schedule" and state == State.REVIEWED:
        plan_order(order, cast)
    elif name == "start_production" and state in (State.REVIEWED, State.SCHEDULED):
        if state == State.REVIEWED:
            plan_order(order, cast)
        make_ready(order, cast)
    elif name == "ship" and state == State.PRODUCING:
        complete_production(order, cast)
        record_shipment(order, cast)
    elif name == "settle" and state in (State.ACCEPTED, State.SHIPPED, State.PRODUCING):
        invoice_and_pay(order, cast)
    return Order.objects.get(pk=order.pk)


def make_order(
    state: str = State.RECEIVED,
    *,
    assistant=None,
    submitted: bool = False,
    ready_for: str | None = None,
    cast: Cast | None = None,
    **payload,
) -> Order:
    """An order in `state`, reached through the services as the right users.

    ``assistant``: the owning sales assistant (default: user `sales_assistant`).
    ``submitted``: for `received`, also run `submit`.
    ``ready_for``: also prepare the conditions of that transition (see :func:`prepare`).
    ``payload``: overrides of :func:`order_payload` (customer, products, lines, special_terms, ...).
    """
    cast = cast or Cast()
    if assistant is not None:
        cast._users["owner"] = assistant
    elif "owner" not in cast._users:
        cast._users["owner"] = cast.sales_assistant
    owner = cast.owner
    order = services.create_order(user=owner, **order_payload(**payload))
    if state == State.CANCELLED:
        run(order, "cancel", cast.sales_manager, comment="customer withdrew")
        return Order.objects.get(pk=order.pk)
    target = PATH.index(State(state))
    if target >= 1 or submitted:
        run(order, "submit", owner)
    if target >= 1:
        if order.requires_joint_review:
            from orders.services import record_signoff

            record_signoff(user=cast.finance_manager, order_id=order.pk, decision="approve", comment="ok")
            record_signoff(user=cast.production_supervisor, order_id=order.pk, decision="approve", comment="ok")
        run(order, "approve", cast.sales_manager, comment="approved")
    if target >= 2:
        plan_order(order, cast)
        run(order, "schedule", cast.production_supervisor, comment="scheduled")
    if target >= 3:
        make_ready(order, cast)
        run(order, "start_production", cast.production_supervisor, comment="started")
    if target >= 4:
        complete_production(order, cast)
        record_shipment(order, cast)
        run(order, "ship", cast.logistics_specialist, comment="shipped")
    if target >= 5:
        run(order, "accept", owner, comment="accepted", **receipt_data())
    if target >= 6:
        invoice_and_pay(order, cast)
        run(order, "settle", cast.finance_specialist, comment="settled")
    order = Order.objects.get(pk=order.pk)
    assert order.state == state, (order.state, state)
    if ready_for:
        order = prepare(order, ready_for, cast)
    return order
