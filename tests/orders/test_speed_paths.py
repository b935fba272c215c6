"""The shortcuts of issue 14 keep the answers they replace.

- ``Order.first_submitted_at`` is the first submission's time (the KPIs' accuracy cohort reads it instead of
  the state log): set by the first ``submit``, kept through returns, withdrawals and resubmissions, filled
  for existing orders by migration 0010.
- A transition answers from the order the service locked (no second read), with its workshop and lines.
- One order by id ignores the list's filters (no FilterSet is built for it); the list still applies them.
"""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from orders import services
from orders.models import Order
from orders.selectors import order_for_tracking_token
from tests import factories
from tests.factories import days, make_order, run, today
from tests.utils import API, call, state_logs

pytestmark = pytest.mark.django_db


def _first_submit_time(order) -> datetime.datetime:
    return state_logs(order.pk).filter(transition="submit").order_by("timestamp").first().timestamp


def test_the_first_submission_is_kept_through_return_withdrawal_and_resubmission(sales_assistant, sales_manager):
    order = make_order("received", assistant=sales_assistant)
    assert order.first_submitted_at is None
    run(order, "submit", sales_assistant)
    order.refresh_from_db()
    first = order.first_submitted_at
    assert first is not None and first == order.submitted_at
    assert abs(first - _first_submit_time(order)) < datetime.timedelta(seconds=1)  # the log's own clock read

    run(order, "return", sales_manager, comment="unclear")
    run(order, "submit", sales_assistant)
    services.withdraw_submission(user=sales_assistant, order_id=order.pk)
    run(order, "submit", sales_assistant)
    order.refresh_from_db()
    assert order.submitted_at > first
    assert order.first_submitted_at == first
    assert state_logs(order.pk).filter(transition="submit").count() == 3


def test_the_kpi_cohort_is_the_first_submission_s_period(api_client_for, sales_assistant, sales_manager):
    """An order first submitted long ago and resubmitted today belongs to the old period, not today's."""
    old = make_order("received", assistant=sales_assistant, submitted=True)
    run(old, "return", sales_manager, comment="again")
    run(old, "submit", sales_assistant)
    fresh = make_order("received", assistant=sales_assistant, submitted=True)
    Order.objects.filter(pk=old.pk).update(first_submitted_at=timezone.now() - datetime.timedelta(days=40))
    client = api_client_for(sales_manager)

    body = call(client, "get", "/kpis/", {"start": today().isoformat(), "end": today().isoformat()}, expect=200)
    assert body["counts"]["orders_submitted"] == 1  # `fresh` only
    body = call(client, "get", "/kpis/", {"start": days(-45).isoformat(), "end": days(-35).isoformat()}, expect=200)
    assert body["counts"]["orders_submitted"] == 1  # `old`, returned: decided, not accurate
    assert body["counts"]["orders_returned"] == 1 and body["accuracy_rate"] == 0.0
    assert fresh.pk != old.pk


def test_migration_fills_the_first_submission_from_the_state_log(sales_assistant, sales_manager):
    twice = make_order("received", assistant=sales_assistant, submitted=True)
    run(twice, "return", sales_manager, comment="again")
    run(twice, "submit", sales_assistant)
    never = make_order("received", assistant=sales_assistant)
    Order.objects.update(first_submitted_at=None)

    migration = importlib.import_module("orders.migrations.0010_first_submission_and_queue_indexes")
    migration.fill_first_submission(django_apps, None)

    twice.refresh_from_db()
    never.refresh_from_db()
    assert twice.first_submitted_at == _first_submit_time(twice)
    assert twice.first_submitted_at < twice.submitted_at
    assert never.first_submitted_at is None


# the order locked with its customer, assistant and workshop, its lines once, the state log written and not
# read back, the audit entry, the notices (recipients; preferences and languages in one union; the insert — a
# transition's dedupe key is new, so no lookup of rows already written); approve also
# checks joint review and credit and draws the deposit invoice. Reading the order again after the transition
# would add two queries, the state log one.
@pytest.mark.parametrize(("name", "queries"), [("submit", 10), ("approve", 15)])
def test_a_transition_answers_with_the_order_as_written(name, queries, api_client_for,
                                                         django_assert_max_num_queries):
    cast = factories.Cast()
    user = cast.sales_assistant if name == "submit" else cast.sales_manager
    order = make_order("received", cast=cast, submitted=name == "approve",
                       products=[factories.ProductFactory() for _ in range(3)])
    client = api_client_for(user)
    client.get(f"{API}/orders/")  # warm up per-user caches (roles)
    with django_assert_max_num_queries(queries):
        body = call(client, "post", f"/orders/{order.pk}/transitions/{name}/", {}, expect=200)
    fresh = call(client, "get", f"/orders/{order.pk}/", expect=200)
    # the answer is what a read after it gives, but for the tracking link's signing time (a timestamped
    # signature changes with the second): both links must open this order
    links = [answer.pop("tracking_url") for answer in (body, fresh)]
    assert body == fresh
    for link in links:
        assert order_for_tracking_token(link.rstrip("/").rsplit("/", 1)[-1]).pk == order.pk
    assert len(body["lines"]) == 3 and body["state"] == ("received" if name == "submit" else "reviewed")


def test_a_transition_answer_carries_the_workshop(api_client_for):
    cast = factories.Cast()
    order = make_order("scheduled", cast=cast, ready_for="start_production")
    order.refresh_from_db()
    assert order.workshop_id is not None
    client = api_client_for(cast.production_supervisor)
    body = call(client, "post", f"/orders/{order.pk}/transitions/start_production/", {"comment": "go"}, expect=200)
    assert body["state"] == "producing"
    assert body["workshop"] == order.workshop_id
    assert body["workshop_name"] == order.workshop.name


def test_a_token_request_reads_the_roles_with_the_user(sales_assistant, logistics_supervisor,
                                                       django_assert_max_num_queries):
    """One query for the token, its user and the user's roles (no query of its own for the groups); a change
    of groups counts from the next request."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from orderdesk import tokens
    from orderdesk.prepared import statement_sql
    from orderdesk.roles import Role

    order = make_order("received", assistant=sales_assistant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_for(sales_assistant).key}")
    with CaptureQueriesContext(connection) as ctx:
        assert call(client, "get", f"/orders/{order.pk}/", expect=200)["id"] == order.pk
    sqls = [statement_sql(q["sql"]) for q in ctx.captured_queries]  # a prepared read: the SQL behind EXECUTE
    assert not any(sql.startswith('SELECT "auth_group"."name"') for sql in sqls), sqls
    assert sum("auth_group" in sql for sql in sqls) == 1 and "authtoken_token" in sqls[0]
    # moved to logistics: the received order is out of scope at once (404), the list is empty
    sales_assistant.groups.set([Group.objects.get(name=Role.LOGISTICS_SUPERVISOR)])
    call(client, "get", f"/orders/{order.pk}/", expect=404)
    assert call(client, "get", "/orders/", expect=200)["count"] == 0
    # a superuser's token holds every role, as roles_of says
    boss = factories.superuser()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_for(boss).key}")
    assert call(client, "get", f"/orders/{order.pk}/", expect=200)["id"] == order.pk
    # an inactive user's token is refused, as DRF's
    sales_assistant.is_active = False
    sales_assistant.save()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_for(sales_assistant).key}")
    call(client, "get", f"/orders/{order.pk}/", expect=401)


def test_one_order_ignores_the_list_filters_and_the_list_applies_them(api_client_for, sales_manager):
    order = make_order("received")
    client = api_client_for(sales_manager)
    assert call(client, "get", f"/orders/{order.pk}/", {"state": "cancelled"}, expect=200)["id"] == order.pk
    listed = call(client, "get", "/orders/", {"state": "cancelled"}, expect=200)
    assert order.pk not in [row["id"] for row in listed["results"]]
    listed = call(client, "get", "/orders/", {"state": "received"}, expect=200)
    assert order.pk in [row["id"] for row in listed["results"]]
    # the list's own checks still answer 400 (a decimal for an id, a yes/no that is neither)
    call(client, "get", "/orders/", {"customer": "1.5"}, expect=400)


def test_the_unfiltered_list_of_every_order_is_counted_from_the_tallies(api_client_for, sales_manager,
                                                                         sales_assistant, sales_assistant2):
    """A caller who sees every order, without filters: the page's count is the state tallies' sum (no count of the
    orders table); with a filter, or for a scoped caller, the rows are counted. Both equal the table's count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.models import Order

    for state in ("received", "reviewed", "cancelled"):
        make_order(state, assistant=sales_assistant)
    make_order("received", assistant=sales_assistant2)  # another assistant's
    manager = api_client_for(sales_manager)
    with CaptureQueriesContext(connection) as ctx:
        body = call(manager, "get", "/orders/", expect=200)
    assert body["count"] == Order.objects.count() == 4
    assert not any('COUNT(*)' in q["sql"] and '"orders_order"' in q["sql"] for q in ctx.captured_queries)
    # a write that bypasses the services is in the count at once (the trigger keeps the tallies)
    Order.objects.filter(state="cancelled").delete()
    assert call(manager, "get", "/orders/?ordering=-number", expect=200)["count"] == 3
    with CaptureQueriesContext(connection) as ctx:
        assert call(manager, "get", "/orders/?state=received", expect=200)["count"] == 2
    assert any('COUNT(*)' in q["sql"] and '"orders_order"' in q["sql"] for q in ctx.captured_queries)
    assert call(api_client_for(sales_assistant), "get", "/orders/", expect=200)["count"] == 2


def test_the_intake_takes_its_number_in_the_orders_insert(sales_assistant):
    """On PostgreSQL the order's INSERT completes its number from the year's counter (trigger orders/0015): no
    statement of its own, the same numbers as orders.services.next_order_number (consecutive, six digits at
    least), a number written whole left alone."""
    from django.db import connection

    from orders.models import OrderNumberSequence

    assert connection.vendor == "postgresql"
    year = timezone.localdate().year
    first = make_order("received", assistant=sales_assistant)
    second = make_order("received", assistant=sales_assistant)
    assert (first.number, second.number) == (
        f"SO-{year}-{int(first.number[-6:]):06d}", f"SO-{year}-{int(first.number[-6:]) + 1:06d}")
    assert Order.objects.get(pk=second.pk).number == second.number
    OrderNumberSequence.objects.filter(year=year).update(last=999_999)
    assert make_order("received", assistant=sales_assistant).number == f"SO-{year}-1000000"
    assert services.next_order_number() == f"SO-{year}-1000001"  # the service's own statement agrees
    whole = make_order("received", assistant=sales_assistant)
    Order.objects.filter(pk=whole.pk).update(number="SO-1999-000001")  # an update never renumbers
    assert Order.objects.get(pk=whole.pk).number == "SO-1999-000001"
    written = [q["sql"] for q in _create_queries(sales_assistant)]
    assert not any("ordernumbersequence" in sql.lower() for sql in written), written


def _create_queries(user) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customer, product = factories.CustomerFactory(), factories.ProductFactory()
    with CaptureQueriesContext(connection) as ctx:
        services.create_order(user=user, customer=customer, channel="phone", contact_name="C", contact_phone="1",
                              delivery_address="A", requested_delivery_date=days(60),
                              lines=[{"product": product, "specification": "s", "quantity": "1", "unit_price": "1"}])
    return ctx.captured_queries


def test_the_quick_starts_numbers_come_from_the_service(tmp_path):
    """SQLite (the quick start) has no number trigger: the service takes the number itself, in the same format."""
    from tests.utils import run_on_fresh_sqlite

    numbers = run_on_fresh_sqlite(tmp_path, SQLITE_NUMBERS)
    year = timezone.localdate().year
    assert numbers == [f"SO-{year}-000001", f"SO-{year}-000002"]


SQLITE_NUMBERS = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
import datetime
from orders import services
from orders.models import Customer, Product
user = get_user_model().objects.create_user("a", password="x")
user.groups.add(Group.objects.get(name="sales_assistant"))
customer = Customer.objects.create(code="C1", name="C")
product = Product.objects.create(sku="P1", name="P", lead_time_days=1)
numbers = [services.create_order(user=user, customer=customer, channel="phone", contact_name="C", contact_phone="1",
                                 delivery_address="A",
                                 requested_delivery_date=timezone.localdate() + datetime.timedelta(days=30),
                                 lines=[{"product": product, "specification": "s", "quantity": "1",
                                         "unit_price": "1"}]).number for _ in range(2)]
print(json.dumps(numbers))
"""


def _statements(call) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orderdesk.prepared import statement_sql

    with CaptureQueriesContext(connection) as ctx:
        call()
    return [statement_sql(q["sql"]) for q in ctx.captured_queries]


def test_the_conditions_facts_come_with_the_locked_order(sales_assistant, sales_manager):
    """Submit's open clarification and approve's customer exposure are read with the order's locked row
    (orders.selectors.ORDER_READS, named by the conditions), no statement of their own, with the same answers:
    an open clarification blocks submit, an exposure over the limit blocks approve."""
    from orderdesk.errors import ConditionsUnmet

    cast = factories.Cast(sales_assistant=sales_assistant, sales_manager=sales_manager)
    customer = factories.CustomerFactory(credit_limit="1000.00")
    order = make_order("received", cast=cast, customer=customer, quantity="1", unit_price="600.00")
    services.open_clarification(user=sales_assistant, order_id=order.pk, question="Which colour?")
    with pytest.raises(ConditionsUnmet) as unmet:
        services.run_transition(user=sales_assistant, order_id=order.pk, name="submit")
    assert [u["code"] for u in unmet.value.unmet] == ["open_clarification"]
    clarification = order.clarifications.get()
    services.resolve_clarification(user=sales_assistant, clarification_id=clarification.pk, resolution="Blue")
    sql = _statements(lambda: services.run_transition(user=sales_assistant, order_id=order.pk, name="submit"))
    assert not any('FROM "orders_clarification"' in s and "EXISTS" not in s for s in sql), sql
    make_order("reviewed", cast=cast, customer=customer, quantity="1", unit_price="600.00")  # 600 open now
    with pytest.raises(ConditionsUnmet) as unmet:  # 600 + 600 > 1000
        services.run_transition(user=sales_manager, order_id=order.pk, name="approve")
    assert [u["code"] for u in unmet.value.unmet] == ["credit_limit_exceeded"]
    customer.credit_limit = "1200.00"
    customer.save()
    sql = _statements(lambda: services.run_transition(user=sales_manager, order_id=order.pk, name="approve"))
    assert not any(s.startswith('SELECT "orders_customer"."credit_limit"') for s in sql), sql
    assert Order.objects.get(pk=order.pk).state == "reviewed"
