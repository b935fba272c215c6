"""Races (DESIGN §4): two concurrent transitions on one order → exactly one wins, the others get 409.

Real threads, each with its own database connection, released together by a
barrier; the data is committed (`transaction=True`). Runs on PostgreSQL (CI) and
on the embedded SQLite default (IMMEDIATE transactions + busy timeout serialize
the writers; the test database is a file there, see conftest).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from orders import services
from orders.models import Order, OrderLine, State
from tests import factories
from tests.factories import Cast, make_order
from tests.utils import run_via_service, state_logs, transition_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

THREADS = 8


def race(n, work):
    """Run work(i) in n threads started together; returns the results (exceptions are re-raised)."""
    barrier = threading.Barrier(n, timeout=30)
    out: list = [None] * n
    errors: list = []

    def runner(i):
        try:
            barrier.wait()
            out[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return out


def assert_one_winner(statuses, order, name, target):
    counts = Counter(statuses)
    assert counts[200] == 1, counts
    assert counts[409] == len(statuses) - 1, counts
    order.refresh_from_db()
    assert order.state == target
    assert state_logs(order.pk).filter(transition=name).count() == 1


@pytest.mark.parametrize("name", ["approve", "cancel"])
def test_parallel_transition_via_service_has_one_winner(name):
    cast = Cast()
    order = make_order("received", cast=cast, submitted=True)
    managers = [factories.user_with_role("sales_manager", f"manager{i}") for i in range(THREADS)]

    statuses = [o.status for o in race(THREADS, lambda i: run_via_service(managers[i], order.pk, name, f"by {i}"))]
    assert_one_winner(statuses, order, name, State.REVIEWED if name == "approve" else State.CANCELLED)


def test_parallel_cancel_via_api_has_one_winner():
    cast = Cast()
    order = make_order("scheduled", cast=cast)
    manager = cast.sales_manager

    def work(i):
        client = APIClient()
        client.force_authenticate(manager)
        response = client.post(transition_url(order.pk, "cancel"), {"comment": f"race {i}"}, format="json")
        if response.status_code != 200:
            assert response.json()["code"], response.content
        return response.status_code

    statuses = race(THREADS, work)
    assert_one_winner(statuses, order, "cancel", State.CANCELLED)


def test_racing_different_transitions_keeps_one_consistent_outcome():
    """approve and cancel race on one order: one wins, the other sees the new state (409), one log."""
    cast = Cast()
    order = make_order("received", cast=cast, submitted=True)
    managers = [factories.user_with_role("sales_manager", f"manager{i}") for i in range(THREADS)]
    names = ["approve" if i % 2 else "cancel" for i in range(THREADS)]

    outcomes = race(THREADS, lambda i: run_via_service(managers[i], order.pk, names[i], f"by {i}"))
    statuses = [o.status for o in outcomes]
    assert Counter(statuses)[200] >= 1
    order.refresh_from_db()
    logs = list(state_logs(order.pk).exclude(transition="submit").order_by("id"))
    # approve then cancel is a legal sequence (reviewed → cancelled); anything else loses with 409
    assert [log.transition for log in logs] in (["cancel"], ["approve"], ["approve", "cancel"])
    assert Counter(statuses)[200] == len(logs)
    assert all(s in (200, 409) for s in statuses), statuses
    assert order.state == logs[-1].state


def test_parallel_creation_gives_unique_numbers():
    cast = Cast()
    assistants = [factories.user_with_role("sales_assistant", f"assistant{i}") for i in range(10)]
    payloads = [factories.order_payload() for _ in range(10)]

    def work(i):
        return services.create_order(user=assistants[i], **payloads[i]).number

    numbers = race(10, work)
    assert len(set(numbers)) == 10, numbers
    assert Order.objects.count() == 10
    assert OrderLine.objects.count() == 10
    assert sorted(Order.objects.values_list("number", flat=True)) == sorted(numbers)
    # numbers are consecutive within the year: none skipped, none reused
    tails = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert tails == list(range(tails[0], tails[0] + 10))
    assert cast.sales_assistant  # the default cast still works after the race
