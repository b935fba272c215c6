"""Prepared reads (``orderdesk.prepared``, issue 14): the ORM's SQL compiled once per shape and run with new values
gives exactly what the queryset gives, is prepared on the PostgreSQL server once per connection, follows a changed
setting, and turns bad values into "nothing found" as the ORM does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, models, transaction
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


def test_a_prepared_insert_writes_the_row_save_writes(sales_manager):
    """The audit entry through the prepared insert and the same entry through the ORM's save are the same row
    (defaults, foreign key, nulls), and the key is read back."""
    from django.db.models import F

    from orderdesk import audit
    from orderdesk.models import AuditEntry

    order = make_order("received")
    fast = audit.record(kind="transition", user=sales_manager, order=order, obj=order, name="submit",
                        before="received", after="received", note="")
    slow = AuditEntry(at=fast.at, user=sales_manager, kind="transition", order_ref=order.pk,
                      object_type="orders.Order", object_id=str(order.pk), name="submit", before="received",
                      after="received", note="", address=None)
    models.Model.save(slow)
    assert fast.pk and not fast._state.adding
    columns = [f.attname for f in AuditEntry._meta.concrete_fields if not f.primary_key]
    rows = {pk: row for pk, *row in AuditEntry.objects.filter(pk__in=[fast.pk, slow.pk]).values_list("pk", *columns)}
    assert rows[fast.pk] == rows[slow.pk]
    with pytest.raises(ValueError):
        audit._insert().save(fast)  # a saved row is not inserted again
    entry = AuditEntry(kind="x", order_ref=F("order_ref"))
    with pytest.raises(ValueError):
        audit._insert().save(entry)  # an SQL expression has no placeholder of its own


def test_a_prepared_update_changes_the_row_only_while_it_matches(sales_assistant):
    from orderdesk.prepared import PreparedUpdate

    order = make_order("received", assistant=sales_assistant)
    update = PreparedUpdate("test order update", Order)
    order.contact_name = "Someone Else"
    assert update.save(order, ["contact_name", "updated_at"], {"state": "reviewed"}) == 0  # not in that state
    assert Order.objects.get(pk=order.pk).contact_name != "Someone Else"
    before = Order.objects.get(pk=order.pk).updated_at
    assert update.save(order, ["contact_name", "updated_at"], {"state": "received"}) == 1
    row = Order.objects.get(pk=order.pk)
    assert row.contact_name == "Someone Else" and row.updated_at > before  # auto_now applied


def test_the_transition_record_goes_through_the_prepared_backend(sales_assistant):
    from django.conf import settings
    from django_fsm_log.models import StateLog

    from tests.factories import run

    assert settings.DJANGO_FSM_LOG_STORAGE_METHOD == "orders.fsm_log.PreparedBackend"
    order = make_order("received", assistant=sales_assistant)
    run(order, "submit", sales_assistant)
    log = StateLog.objects.get(object_id=order.pk, transition="submit")
    assert (log.source_state, log.state, log.by_id, log.content_object) == ("received", "received",
                                                                             sales_assistant.pk, order)


def test_a_prepared_insert_ignoring_conflicts_writes_nothing_twice(sales_manager, sales_assistant):
    """A transition's notifications go through a prepared bulk insert with ON CONFLICT DO NOTHING, as the
    bulk_create it replaces: a row with a dedupe key already written is not written again, the rows written get
    their keys (one row or several, in any order), a conflicting one keeps none."""
    from notifications.models import Notification
    from notifications.services import _insert_notifications

    order = make_order("received")

    def note(key, user=sales_manager):
        return Notification(user=user, kind="review_requested", order=order, message="m",
                            message_id="review_requested", params={"number": order.number}, dedupe_key=key)

    [first] = _insert_notifications().save_all([note("k:1")])
    assert first.pk and not first._state.adding
    again = note("k:1")
    assert _insert_notifications().save_all([again]) == [] and again.pk is None
    assert Notification.objects.filter(dedupe_key="k:1").count() == 1
    assert Notification.objects.get(pk=first.pk).params == {"number": order.number}
    mixed = [note("k:3", sales_assistant), note("k:1"), note("k:2")]
    written = _insert_notifications().save_all(mixed)
    assert [n.dedupe_key for n in written] == ["k:3", "k:2"] and mixed[1].pk is None
    read = dict(Notification.objects.filter(dedupe_key__in=["k:2", "k:3"]).values_list("dedupe_key", "user_id"))
    assert read == {"k:3": sales_assistant.pk, "k:2": sales_manager.pk}
    assert {n.pk for n in written} == set(Notification.objects.filter(dedupe_key__in=["k:2", "k:3"])
                                          .values_list("pk", flat=True))


def test_the_outbox_queues_the_rows_written_and_the_pending_ones_already_there(monkeypatch):
    """The outbox's insert reads back the keys of the rows it wrote (one statement on PostgreSQL); a row written
    before (a retried event) is queued again while it is pending and not once sent."""
    from notifications import services as notification_services
    from notifications.models import EmailOutbox

    queued = []
    monkeypatch.setattr(notification_services, "queue_sending", lambda ids: queued.append(sorted(ids)))

    def mail(key):
        return EmailOutbox(recipient="x@example.com", subject="s", body="b", language="en", kind="k", dedupe_key=key)

    sent = EmailOutbox.objects.create(recipient="x@example.com", subject="s", body="b", language="en", kind="k",
                                      dedupe_key="m:sent", status=EmailOutbox.Status.SENT)
    rows = notification_services._write_outbox([mail("m:1"), mail("m:2")])
    assert sorted(r.pk for r in rows) == sorted(EmailOutbox.objects.filter(
        dedupe_key__in=["m:1", "m:2"]).values_list("pk", flat=True))
    pending = EmailOutbox.objects.get(dedupe_key="m:1")
    rows = notification_services._write_outbox([mail("m:1"), mail("m:sent"), mail("m:3")])
    assert sorted(r.pk for r in rows) == sorted([pending.pk, EmailOutbox.objects.get(dedupe_key="m:3").pk])
    assert sent.pk not in queued[-1] and EmailOutbox.objects.filter(dedupe_key="m:1").count() == 1


def test_a_long_list_runs_as_a_plain_queryset_and_is_not_kept(sales_assistant):
    from orderdesk.prepared import MAX_PREPARED_LIST

    order = make_order("received", assistant=sales_assistant)
    query = PreparedQuery(
        "test long list", lambda shape, *, orders: OrderLine.objects.filter(order__in=orders).values_list("order_id"),
        params={"orders": Many(OrderLine._meta.get_field("order"))},
    )
    ids = [order.pk, *range(10**6, 10**6 + MAX_PREPARED_LIST)]
    assert query.fetch(orders=ids) == [(order.pk,)]
    assert query._compiled == {}


def test_a_prepared_bulk_insert_writes_what_bulk_create_writes(sales_assistant):
    from orderdesk.prepared import MAX_PREPARED_ROWS, PreparedBulkInsert

    order = make_order("received", assistant=sales_assistant)
    product = order.lines.first().product

    def lines(start, n):
        return [OrderLine(order=order, position=start + k, product=product, specification=f"s{k}",
                          quantity=Decimal("1.500"), unit_price=Decimal("2.25")) for k in range(n)]

    insert = PreparedBulkInsert("test lines", OrderLine)
    fast = insert.save_all(lines(10, 3))
    slow = OrderLine.objects.bulk_create(lines(20, 3))
    assert all(x.pk and not x._state.adding for x in fast)
    columns = ["specification", "quantity", "unit_price", "product_id", "order_id"]
    read = {pk: row for pk, *row in OrderLine.objects.filter(pk__in=[x.pk for x in fast + slow])
            .values_list("pk", *columns)}
    assert [read[x.pk] for x in fast] == [read[x.pk] for x in slow]
    assert [x.position for x in OrderLine.objects.filter(pk__in=[x.pk for x in fast]).order_by("pk")] == [10, 11, 12]
    one = insert.save_all(lines(30, 1))  # one row: the same statement
    assert one[0].pk and OrderLine.objects.get(pk=one[0].pk).position == 30
    many = insert.save_all(lines(1000, MAX_PREPARED_ROWS + 1))  # past the bound: bulk_create itself
    assert len({x.pk for x in many}) == MAX_PREPARED_ROWS + 1 and all(x.pk for x in many)
