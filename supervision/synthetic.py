"""Synthetic order history for benchmarks and query-count tests — NEVER for real data.

It writes rows directly with ``bulk_create`` (orders in every state with their
django-fsm-log records, field changes, alerts and production plans) so that
100,000 orders take seconds; it bypasses the services on purpose, and everything
it makes is tagged (customer codes ``BENCH-…``, order numbers ``BENCH-…``) so that
:func:`cleanup` removes exactly it.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django_fsm_log.models import StateLog

from orderdesk.roles import Role
from orders.models import Alert, Customer, Order, OrderChange, State

User = get_user_model()
PREFIX = "BENCH-"
STATES = [State.RECEIVED, State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED,
          State.SETTLED, State.CANCELLED]
WEIGHTS = [15, 10, 10, 10, 10, 15, 25, 5]


def _assistants(n: int):
    from django.contrib.auth.models import Group

    group, _ = Group.objects.get_or_create(name=Role.SALES_ASSISTANT)
    users = []
    for i in range(n):
        user, _ = User.objects.get_or_create(username=f"{PREFIX.lower()}assistant{i}")
        user.groups.add(group)
        users.append(user)
    return users


@transaction.atomic
def generate(*, orders: int, assistants: int = 10, customers: int = 50, seed: int = 1, batch: int = 5000) -> int:
    """Bulk-create `orders` synthetic orders over the last year; returns how many."""
    rng = random.Random(seed)
    staff = _assistants(assistants)
    manager, _ = User.objects.get_or_create(username=f"{PREFIX.lower()}manager")
    start_no = Customer.objects.filter(code__startswith=PREFIX).count()
    Customer.objects.bulk_create([
        Customer(code=f"{PREFIX}{start_no + i:05d}", name=f"Benchmark customer {start_no + i}",
                 credit_limit=Decimal("1000000.00"))
        for i in range(customers)
    ])
    people = list(Customer.objects.filter(code__startswith=PREFIX).values_list("pk", flat=True))
    ct = ContentType.objects.get_for_model(Order)
    now = timezone.now()
    today = timezone.localdate()
    offset = Order.objects.filter(number__startswith=PREFIX).count()
    made = 0
    while made < orders:
        size = min(batch, orders - made)
        rows = []
        for i in range(size):
            state = rng.choices(STATES, WEIGHTS)[0]
            created = now - datetime.timedelta(days=rng.randint(0, 365), hours=rng.randint(0, 23))
            submitted = created + datetime.timedelta(hours=rng.randint(1, 48))
            decided = state not in (State.RECEIVED, State.CANCELLED)
            approved = submitted + datetime.timedelta(hours=rng.randint(1, 72)) if decided else None
            promised = (created + datetime.timedelta(days=rng.randint(20, 60))).date() if decided else None
            accepted = None
            if state in (State.ACCEPTED, State.SETTLED):
                accepted = timezone.make_aware(datetime.datetime.combine(
                    promised + datetime.timedelta(days=rng.randint(-5, 5)), datetime.time(10)))
            person = rng.choice(staff)
            rows.append(Order(
                number=f"{PREFIX}{offset + made + i:07d}", customer_id=rng.choice(people), channel="phone",
                contact_name="Bench", contact_phone="1", delivery_address="Bench road 1",
                requested_delivery_date=promised or today + datetime.timedelta(days=30),
                promised_delivery_date=promised, state=state,
                total_amount=Decimal(rng.randint(1000, 900000)), assistant=person, created_by=person,
                submitted_at=submitted if (decided or rng.random() < 0.5) else None,
                approved_by=manager if decided else None, approved_at=approved, accepted_at=accepted,
                created_at=created,
            ))
        for row in rows:
            row.first_submitted_at = row.submitted_at
        created_orders = Order.objects.bulk_create(rows)
        logs, changes, alerts = [], [], []
        for order in created_orders:
            if order.submitted_at:
                logs.append(StateLog(content_type=ct, object_id=order.pk, transition="submit", source_state="received",
                                     state="received", by=order.assistant, timestamp=order.submitted_at))
                if rng.random() < 0.1:
                    logs.append(StateLog(content_type=ct, object_id=order.pk, transition="return",
                                         source_state="received", state="received", by=manager,
                                         timestamp=order.submitted_at + datetime.timedelta(minutes=30)))
                if rng.random() < 0.05:
                    changes.append(OrderChange(order=order, user=order.assistant, field="contact_phone",
                                               old_value="1", new_value="2",
                                               at=order.submitted_at + datetime.timedelta(hours=1)))
            if order.approved_at:
                logs.append(StateLog(content_type=ct, object_id=order.pk, transition="approve", source_state="received",
                                     state="reviewed", by=manager, timestamp=order.approved_at))
            if order.state in (State.SCHEDULED, State.PRODUCING) and rng.random() < 0.1:
                alerts.append(Alert(order=order, kind=Alert.Kind.AT_RISK))
        StateLog.objects.bulk_create(logs, batch_size=batch)
        OrderChange.objects.bulk_create(changes, batch_size=batch)
        Alert.objects.bulk_create(alerts, batch_size=batch)
        made += size
    return made


@transaction.atomic
def cleanup() -> int:
    """Remove everything :func:`generate` made; returns the number of orders removed."""
    ids = list(Order.objects.filter(number__startswith=PREFIX).values_list("pk", flat=True))
    ct = ContentType.objects.get_for_model(Order)
    for start in range(0, len(ids), 10000):
        chunk = ids[start:start + 10000]
        StateLog.objects.filter(content_type=ct, object_id__in=chunk).delete()
        Order.objects.filter(pk__in=chunk).delete()
    Customer.objects.filter(code__startswith=PREFIX).delete()
    User.objects.filter(username__startswith=PREFIX.lower()).delete()
    return len(ids)
