"""The order list and detail run a fixed number of queries, however many orders there are (no N+1)."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, State
from tests import factories
from tests.factories import make_order
from tests.utils import API, results

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12
# session, user, roles, then: state tallies, overdue, notifications, the review queue (and its count when 8 wait),
# unread count
DASHBOARD_MAX_QUERIES = 9
# session, user, roles, waiting count (tallies), a page of rows, lead times, exposure (2), workshops, plans, unread
REVIEW_QUEUE_MAX_QUERIES = 11
ORDER_PAGE_MAX_QUERIES = 9  # session, user, roles, order, lines, which records it has, 2 of them, unread count
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


# --- every endpoint and page of the benchmark (issue 14): the same queries for few and for many rows ---------
def _count(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code < 400, response.content[:500]
    return len(ctx.captured_queries), response


def _create_body(customer, products) -> dict:
    return {
        "customer": customer.pk, "channel": "phone", "contact_name": "Contact", "contact_phone": "123",
        "delivery_address": "Somewhere 1", "requested_delivery_date": factories.days(60).isoformat(),
        "lines": [{"product": p.pk, "specification": f"spec {p.sku}", "quantity": "2", "unit_price": "10.00"}
                  for p in products],
    }


def test_create_queries_do_not_grow_with_the_lines(api_client_for, django_assert_max_num_queries):
    cast = factories.Cast()
    client = api_client_for(cast.sales_assistant)
    customer = factories.CustomerFactory()
    client.get(f"{API}/orders/")  # warm up per-user caches (roles)
    counts = {}
    for n in (2, 8):
        products = [factories.ProductFactory() for _ in range(n)]
        with django_assert_max_num_queries(8):
            counts[n], response = _count(lambda products=products: client.post(
                f"{API}/orders/", _create_body(customer, products), format="json"))
        assert response.status_code == 201
        assert len(response.json()["lines"]) == n
        assert response.json()["total_amount"] == f"{20 * n:.2f}"
    assert counts[2] == counts[8], counts


def test_create_names_an_unknown_product_as_before(api_client_for):
    cast = factories.Cast()
    client = api_client_for(cast.sales_assistant)
    good = factories.ProductFactory()
    body = _create_body(factories.CustomerFactory(), [good])
    body["lines"].append({**body["lines"][0], "product": 999999})
    body["lines"].append({**body["lines"][0], "product": "x"})
    response = client.post(f"{API}/orders/", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["lines"]
    by_line = errors if isinstance(errors, dict) else {str(i): e for i, e in enumerate(errors) if e}
    assert set(by_line) == {"1", "2"}, errors
    assert "999999" in by_line["1"]["product"][0]  # DRF's own "does not exist" message names the id
    assert by_line["2"]["product"]
    assert not Order.objects.filter(customer_id=body["customer"]).exists()


@pytest.mark.parametrize("name", ["submit", "approve"])
def test_transition_queries_do_not_grow_with_the_lines(name, api_client_for, django_assert_max_num_queries):
    cast = factories.Cast()
    user = cast.sales_assistant if name == "submit" else cast.sales_manager
    client = api_client_for(user)
    client.get(f"{API}/orders/")  # warm up per-user caches (roles)
    ContentType.objects.get_for_model(Order)  # cached per process: the state log's record names it
    counts = {}
    for n in (1, 8):
        order = make_order("received", cast=cast, submitted=name == "approve",
                           products=[factories.ProductFactory() for _ in range(n)])
        # the counts of issue 14's folds: the open clarification and the credit position come with the locked
        # order, the state-log record, update and audit entry are one statement, the notices and the e-mails (staff
        # and customer) one insert each; a fold undone shows here
        with django_assert_max_num_queries({"submit": 6, "approve": 8}[name]):
            counts[n], response = _count(lambda order=order: client.post(
                f"{API}/orders/{order.pk}/transitions/{name}/", {}, format="json"))
        assert response.json()["state"] == ("received" if name == "submit" else "reviewed")
    assert counts[1] == counts[8], counts


def test_credit_check_is_one_query_whatever_the_open_orders(sales_manager, django_assert_max_num_queries):
    from orders.conditions import credit_ok_or_overridden
    from orders.models import TransitionContext

    cast = factories.Cast(sales_manager=sales_manager)
    customer = factories.CustomerFactory(credit_limit="100000.00")
    for _ in range(3):
        make_order("reviewed", cast=cast, customer=customer)
    order = make_order("received", cast=cast, submitted=True, customer=customer)
    order.__dict__.pop("_prefetched_objects_cache", None)
    order._ctx = TransitionContext(user=sales_manager)
    with django_assert_max_num_queries(1):
        assert credit_ok_or_overridden(order)


def quick_orders(cast, n):
    """n orders that are cheap to make: submitted, approved and cancelled ones in turn."""
    made = []
    for i in range(n):
        state = (State.RECEIVED, State.REVIEWED, State.CANCELLED)[i % 3]
        made.append(make_order(state, cast=cast, submitted=True, products=[factories.ProductFactory()]))
    return made


def _pages_client(client, user):
    client.force_login(user)
    client.get("/")  # warm up per-user caches (roles, content types)
    return client


def test_dashboard_queries_do_not_grow_with_the_orders(client, sales_manager, django_assert_max_num_queries):
    cast = factories.Cast(sales_manager=sales_manager)
    _pages_client(client, sales_manager)
    quick_orders(cast, 3)
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES):
        few, _response = _count(lambda: client.get("/"))
    quick_orders(cast, 12)
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES):
        many, response = _count(lambda: client.get("/"))
    assert many == few
    assert b"SO-" in response.content


def test_order_page_queries_do_not_grow_with_lines_or_history(client, sales_assistant, django_assert_max_num_queries):
    from orders import services

    cast = factories.Cast(sales_assistant=sales_assistant)
    _pages_client(client, sales_assistant)
    small = make_order("received", cast=cast, products=[factories.ProductFactory()])
    big = make_order("received", cast=cast, products=[factories.ProductFactory() for _ in range(12)])
    # the same kinds of records on both (the page reads only the kinds an order has), one against four of each
    for order, n in ((small, 1), (big, 4)):
        for i in range(n):
            services.log_communication(user=sales_assistant, order_id=order.pk, channel="call", with_whom=f"w{i}",
                                       summary="talked")
            services.raise_escalation(user=sales_assistant, order_id=order.pk, reason=f"problem {i}")
    client.get(f"/orders/{small.pk}/")  # warm the per-process caches (content types) whichever test ran first
    counts = {}
    for order in (small, big):
        with django_assert_max_num_queries(ORDER_PAGE_MAX_QUERIES):
            counts[order.pk], response = _count(lambda order=order: client.get(f"/orders/{order.pk}/"))
        assert order.number.encode() in response.content
    assert counts[small.pk] == counts[big.pk], counts


def test_review_queue_is_paginated_in_bounded_queries(client, sales_manager, django_assert_max_num_queries):
    from supervision.selectors.review import REVIEW_PAGE_SIZE

    cast = factories.Cast(sales_manager=sales_manager)
    _pages_client(client, sales_manager)
    for _ in range(2):
        make_order("received", cast=cast, submitted=True)
    with django_assert_max_num_queries(REVIEW_QUEUE_MAX_QUERIES):
        few, response = _count(lambda: client.get("/supervision/review/"))
    assert response.context["total"] == 2
    for _ in range(10):
        make_order("received", cast=cast, submitted=True)
    with django_assert_max_num_queries(REVIEW_QUEUE_MAX_QUERIES):
        many, response = _count(lambda: client.get("/supervision/review/"))
    assert len(response.context["rows"]) == 12 and response.context["total"] == 12
    assert many == few
    assert REVIEW_PAGE_SIZE >= 12  # one page here; the next test pages through a smaller one


def test_review_queue_pages(client, sales_manager, monkeypatch):
    from supervision.selectors import review

    monkeypatch.setattr(review, "REVIEW_PAGE_SIZE", 2)
    cast = factories.Cast(sales_manager=sales_manager)
    client.force_login(sales_manager)
    orders = [make_order("received", cast=cast, submitted=True) for _ in range(5)]
    numbers = [o.number for o in sorted(orders, key=lambda o: (o.submitted_at, o.pk))]
    seen = []
    for page in (1, 2, 3):
        response = client.get("/supervision/review/", {"page": page})
        assert response.status_code == 200
        assert response.context["total"] == 5
        seen += [row["order"].number for row in response.context["rows"]]
    assert seen == numbers
    # out of range or not a number: the last or the first page, never an error
    assert [r["order"].number for r in client.get("/supervision/review/", {"page": 99}).context["rows"]] == numbers[4:]
    assert [r["order"].number for r in client.get("/supervision/review/", {"page": "x"}).context["rows"]] == numbers[:2]


def test_kpi_queries_do_not_grow_with_the_orders(api_client_for, django_assert_max_num_queries):
    cast = factories.Cast()
    client = api_client_for(cast.sales_manager)
    client.get(f"{API}/orders/")  # warm up per-user caches (roles)
    start, end = factories.days(-364).isoformat(), factories.days(0).isoformat()
    quick_orders(cast, 3)
    with django_assert_max_num_queries(14):
        few, response = _count(lambda: client.get(f"{API}/kpis/", {"start": start, "end": end}))
    quick_orders(cast, 12)
    with django_assert_max_num_queries(14):
        many, response = _count(lambda: client.get(f"{API}/kpis/", {"start": start, "end": end}))
    assert response.json()["counts"]["orders_submitted"] >= 10
    assert many == few


def test_scan_fires_alerts_in_a_fixed_number_of_queries(sales_manager, django_assert_max_num_queries):
    from notifications.models import EmailOutbox, Notification
    from orders import checks
    from orders.models import Alert, Order
    from tests.factories import days

    cast = factories.Cast(sales_manager=sales_manager)
    sales_manager.email = "manager@example.com"
    sales_manager.save()

    def overdue(n):
        made = [make_order("reviewed", cast=cast) for _ in range(n)]
        Order.objects.filter(pk__in=[o.pk for o in made]).update(promised_delivery_date=days(-3))
        return made

    overdue(1)
    assert checks.run_check("overdue")["fired"] == 1  # from now on each run also re-checks open alerts
    overdue(2)
    with CaptureQueriesContext(connection) as few:
        assert checks.run_check("overdue")["fired"] == 2
    overdue(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert checks.run_check("overdue")["fired"] == 8
    assert Alert.objects.filter(kind="overdue", resolved_at__isnull=True).count() == 11
    # each alert told the assistant and the manager once, in the app, and the manager by e-mail
    assert Notification.objects.filter(kind="order_overdue").count() == 22
    assert EmailOutbox.objects.filter(kind="order_overdue", user=sales_manager).count() == 11
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert checks.run_check("overdue")["fired"] == 0  # the steady state tells nobody again


def test_the_order_page_reads_only_the_records_an_order_has(client, sales_manager, django_assert_max_num_queries):
    """A fresh order has no transitions, shipments, invoices, complaints...: its page asks once which records the
    order has and reads none of them; an order through its whole life reads each kind it has, still bounded."""
    from orders import panels

    cast = factories.Cast(sales_manager=sales_manager)
    _pages_client(client, sales_manager)
    fresh = make_order("received", cast=cast)
    settled = make_order("settled", cast=cast)
    client.get(f"/orders/{fresh.pk}/")
    # session, user, roles, order, lines, which records it has, the assignable assistants, unread count
    with django_assert_max_num_queries(8):
        _count(lambda: client.get(f"/orders/{fresh.pk}/"))
    with django_assert_max_num_queries(30):
        _count(lambda: client.get(f"/orders/{settled.pk}/"))
    names = panels._declared_reads()
    assert {"shipments", "invoices", "progress_reports", "complaints", "state_log", "signoffs"} <= set(names)
    for order in (Order.objects.get(pk=fresh.pk), Order.objects.get(pk=settled.pk)):
        for name in names:
            if name == "state_log":
                from django_fsm_log.models import StateLog

                expected = StateLog.objects.for_(order).exists()
            else:
                relation = Order._meta.get_field(name)
                expected = relation.related_model._default_manager.filter(**{relation.field.name: order}).exists()
            assert panels.has_rows(order, name) is expected, (order.state, name)
    assert panels.has_rows(Order.objects.get(pk=settled.pk), "shipments")
    assert not panels.has_rows(Order.objects.get(pk=fresh.pk), "shipments")
