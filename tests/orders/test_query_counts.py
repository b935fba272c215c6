"""The order list and detail run a fixed number of queries, however many orders there are (no N+1)."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import State
from tests import factories
from tests.factories import make_order
from tests.utils import API, results

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12
STATES = [
    State.RECEIVED,
    State.REVIEWED,
    State.SCHEDULED,
    State.PRODUCING,
    State.SHIPPED,
    State.ACCEPTED,
    State.SETTLED,
    State.CANCELLED,
]
ROLES = [
    "sales_assistant",
    "sales_manager",
    "production_supervisor",
    "logistics_specialist",
    "finance_specialist",
    "auditor",
]


def make_orders(cast, n, start=0):
    """n orders over every state, each with two lines of different products."""
    states = itertools.islice(itertools.cycle(STATES), start, start + n)
    return [
        make_order(state, cast=cast, products=[factories.ProductFactory(), factories.ProductFactory()])
        for state in states
    ]


def count_queries(client, url, **params) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def test_order_list_queries_do_not_grow_with_the_orders(api_client_for, django_assert_max_num_queries):
    cast = factories.Cast()
    clients = {role: api_client_for(getattr(cast, role)) for role in ROLES}

    def measure():
        counts = {}
        for role, client in clients.items():
            client.get(f"{API}/orders/")  # warm up per-user caches (roles)
            with django_assert_max_num_queries(MAX_QUERIES):
                n, body = count_queries(client, f"{API}/orders/", page_size=100)
            counts[role] = (n, len(results(body)))
        return counts

    make_orders(cast, 5)
    few = measure()
    make_orders(cast, 45, start=5)
    many = measure()
    for role in ROLES:
        (few_queries, few_rows), (many_queries, many_rows) = few[role], many[role]
        assert many_rows >= 5 * max(few_rows, 1), (role, few_rows, many_rows)
        assert many_queries == few_queries, (
            f"{role}: {few_queries} queries for {few_rows} rows, {many_queries} for {many_rows}"
        )


@pytest.mark.parametrize("role", ROLES)
def test_order_detail_queries_do_not_grow_with_the_lines(role, api_client_for, django_assert_max_num_queries):
    cast = factories.Cast()
    client = api_client_for(getattr(cast, role))
    small = make_order("settled", cast=cast, products=[factories.ProductFactory()])
    big = make_order("settled", cast=cast, products=[factories.ProductFactory() for _ in range(30)])
    client.get(f"{API}/orders/{small.pk}/")  # warm up per-user caches (roles)
    with django_assert_max_num_queries(MAX_QUERIES):
        small_count, body = count_queries(client, f"{API}/orders/{small.pk}/")
    assert len(body["lines"]) == 1
    with django_assert_max_num_queries(MAX_QUERIES):
        big_count, body = count_queries(client, f"{API}/orders/{big.pk}/")
    assert len(body["lines"]) == 30
    assert big_count == small_count


def test_history_and_notifications_queries_are_bounded(api_client_for, django_assert_max_num_queries):
    cast = factories.Cast()
    orders = make_orders(cast, 8)
    client = api_client_for(cast.sales_assistant)
    client.get(f"{API}/orders/")  # warm up per-user caches (roles)
    settled = next(o for o in orders if o.state == State.SETTLED)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(f"{API}/orders/{settled.pk}/history/")
    assert len([e for e in response.json() if e["kind"] == "transition"]) == 7
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(f"{API}/notifications/").status_code == 200
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(f"{API}/customers/").status_code == 200
