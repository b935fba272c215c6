"""Prepared reads (``orderdesk.prepared``, issue 14): the ORM's SQL compiled once per shape and run with new values
gives exactly what the queryset gives, is prepared on the PostgreSQL server once per connection, follows a changed
setting, and turns bad values into "nothing found" as the ORM does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from orderdesk import roles
from orderdesk.prepared import Many, PreparedQuery, statement_sql
from orders import selectors
from orders.models import Order, OrderLine
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def _fields(order: Order) -> dict:
    return {f.attname: getattr(order, f.attname) for f in Order._meta.concrete_fields}


@pytest.mark.parametrize("role", ["sales_assistant", "sales_assistant2", "sales_manager", "production_supervisor",
                                  "logistics_specialist", "auditor"])
def test_one_order_reads_what_the_scoped_queryset_reads(role, request):
    user = request.getfixturevalue(role)
    owner = request.getfixturevalue("sales_assistant")
    orders = [make_order(state, assistant=owner) for state in ("received", "reviewed", "scheduled")]
    make_order("received", assistant=owner, submitted=True, special_terms="joint review please")
    for order in Order.objects.all():
        expected = selectors.order_detail_queryset(user).filter(pk=order.pk).first()
        if expected is None:
            with pytest.raises(Exception) as caught:
                selectors.get_visible_order(user, order.pk)
            assert caught.value.status == 404
            continue
        got = selectors.get_visible_order(user, order.pk)
        assert _fields(got) == _fields(expected)
        assert got.customer.name == expected.customer.name and got.assistant.username == expected.assistant.username
        assert [(x.pk, x.product.sku, x.quantity) for x in got.lines.all()] == [
            (x.pk, x.product.sku, x.quantity) for x in expected.lines.all()]
        assert all(line.order is got for line in got.lines.all())
    assert orders  # the owner sees their own three


@pytest.mark.parametrize("value", ["abc", "1.5", "", None, 2**63, -(2**63) - 1, 10**30])
def test_a_bad_or_out_of_range_id_finds_nothing(value, sales_manager):
    make_order("received")
    with pytest.raises(Exception) as caught:
        selectors.get_visible_order(sales_manager, value)
    assert caught.value.status == 404


@pytest.mark.django_db(transaction=True)
def test_the_lock_needs_a_transaction_as_select_for_update_does(sales_manager):
    order = make_order("received")
    with pytest.raises(transaction.TransactionManagementError):
        selectors.lock_visible_order(sales_manager, order.pk)
    with transaction.atomic():
        assert selectors.lock_visible_order(sales_manager, order.pk).pk == order.pk


def test_a_changed_setting_is_compiled_anew(production_supervisor, sales_assistant):
    """The production supervisor's scope holds the joint-review threshold: a new one takes effect at once."""
    order = make_order("received", assistant=sales_assistant, submitted=True)
    assert order.total_amount < Decimal("500000.00")
    with pytest.raises(Exception):
        selectors.get_visible_order(production_supervisor, order.pk)
    with override_settings(JOINT_REVIEW_THRESHOLD=Decimal("1.00")):
        assert selectors.get_visible_order(production_supervisor, order.pk).pk == order.pk
    with pytest.raises(Exception):
        selectors.get_visible_order(production_supervisor, order.pk)


def test_lists_of_values_and_rows_of_values(sales_assistant):
    orders = [make_order("received", assistant=sales_assistant) for _ in range(3)]
    query = PreparedQuery(
        "test lines of orders", lambda shape, *, orders: OrderLine.objects.filter(order__in=orders)
        .order_by("order_id").values_list("order_id", "quantity"),
        params={"orders": Many(OrderLine._meta.get_field("order"))},
    )
    ids = [o.pk for o in orders]
    assert query.fetch(orders=ids) == list(OrderLine.objects.filter(order__in=ids).order_by("order_id")
                                           .values_list("order_id", "quantity"))
    assert query.fetch(orders=ids[:1]) == [(ids[0], Decimal("10.000"))]
    assert query.fetch(orders=[]) == []
    assert query.fetch(orders=[ids[0], 2**70]) == [(ids[0], Decimal("10.000"))]  # out of range: left out


def test_a_parameter_the_orm_transforms_is_refused_when_compiled():
    from django.core.exceptions import ImproperlyConfigured

    query = PreparedQuery("test contains", lambda shape, *, number: Order.objects.filter(number__contains=number),
                          params={"number": Order._meta.get_field("number")})
    with pytest.raises(ImproperlyConfigured):
        query.fetch(number="SO-")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side statements are PostgreSQL's")
def test_the_statement_is_prepared_once_per_connection_and_logged_as_one_query(sales_manager):
    order = make_order("received")
    roles.roles_of(sales_manager)  # read once per request (the token's query brings them)
    with CaptureQueriesContext(connection) as ctx:
        selectors.get_visible_order(sales_manager, order.pk)
        selectors.get_visible_order(sales_manager, order.pk)
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert len(sqls) == 4 and all(sql.startswith("EXECUTE od_") for sql in sqls)
    assert statement_sql(sqls[0]).startswith('SELECT "orders_order"."id"')
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'od_order_in_scope_by_id_%%'")
        assert cursor.fetchall()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side statements are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_them_again(sales_manager):
    order = make_order("received")
    assert selectors.get_visible_order(sales_manager, order.pk).pk == order.pk
    connection.close()  # a new connection has none prepared: they are prepared again, transparently
    assert selectors.get_visible_order(sales_manager, order.pk).pk == order.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'od_%%'")
        assert cursor.fetchone()[0] == 2  # the order and its lines, on this connection


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side statements are PostgreSQL's")
def test_without_server_side_statements_the_plain_sql_is_sent(sales_manager, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    order = make_order("received")
    roles.roles_of(sales_manager)
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.get_visible_order(sales_manager, order.pk).pk == order.pk
    assert ctx.captured_queries[0]["sql"].startswith('SELECT "orders_order"."id"')
