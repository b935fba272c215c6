"""The per-state tallies the database keeps (``orders.models.OrderStateTally``, migration 0011) equal a count of
the orders table after every kind of write, before and after compaction, on PostgreSQL and on SQLite; the
dashboard of a caller who sees every order reads them, anyone else counts their own visible orders."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Count, Sum

from orders import selectors, services, tasks
from orders.models import CustomerExposure, Order, OrderStateTally, State
from tests.factories import days, make_order, run, today
from tests.utils import run_on_fresh_sqlite

pytestmark = pytest.mark.django_db


def _live() -> tuple[dict, int]:
    counts = dict(Order.objects.order_by().values_list("state").annotate(n=Count("*")))
    return counts, Order.objects.filter(selectors.overdue_q(today())).count()


def _tallied() -> tuple[dict, int]:
    counts = {s: n for s, n in OrderStateTally.objects.order_by().values_list("state").annotate(n=Sum("n")) if n}
    late = OrderStateTally.objects.filter(selectors.overdue_q(today())).aggregate(n=Sum("n"))["n"] or 0
    return counts, late


def test_the_tallies_follow_creates_transitions_bulk_updates_and_deletes(sales_assistant, sales_manager):
    received = make_order("received", assistant=sales_assistant, submitted=True)
    reviewed = make_order("reviewed", assistant=sales_assistant)
    make_order("cancelled", assistant=sales_assistant)
    assert _tallied() == _live() and _live()[0][State.REVIEWED] == 1

    run(received, "approve", sales_manager)
    assert _tallied() == _live() and _live()[0].get(State.RECEIVED, 0) == 0
    # writes that bypass the services count too: a bulk update of the promised date (overdue now), raw deletes
    Order.objects.filter(pk=reviewed.pk).update(promised_delivery_date=days(-3))
    assert _tallied() == _live() and _live()[1] == 1
    Order.objects.filter(pk=received.pk).update(state=State.PRODUCING)
    Order.objects.filter(pk=reviewed.pk).delete()
    assert _tallied() == _live() == ({State.PRODUCING: 1, State.CANCELLED: 1}, 0)
    # an update that changes neither column appends nothing
    rows = OrderStateTally.objects.count()
    Order.objects.filter(pk=received.pk).update(contact_name="someone else")
    assert OrderStateTally.objects.count() == rows


def test_compaction_folds_the_rows_and_keeps_the_sums(sales_assistant, sales_manager):
    for _ in range(3):
        order = make_order("received", assistant=sales_assistant, submitted=True)
        run(order, "approve", sales_manager)
    before = _tallied()
    # the same run folds the customers' exposure entries (tests/orders/test_customer_exposure.py)
    appended = OrderStateTally.objects.count() + CustomerExposure.objects.count()
    folded = tasks.compact_state_tallies()  # the beat task, through the service
    assert folded == appended
    assert _tallied() == before == _live()
    # one row per (state, promised date) left, none summing to zero (the orders left `received`)
    rows = list(OrderStateTally.objects.values_list("state", "promised_delivery_date", "n"))
    assert len(rows) == len({(s, d) for s, d, _n in rows}) and all(n for *_k, n in rows)
    assert not any(s == State.RECEIVED for s, _d, _n in rows)
    # a second run folds what the first left
    assert services.compact_state_tallies() == len(rows) + CustomerExposure.objects.count()
    assert _tallied() == before


def test_the_dashboard_reads_the_tallies_for_whoever_sees_every_order(client, sales_assistant, sales_assistant2,
                                                                       sales_manager):
    mine = make_order("received", assistant=sales_assistant)
    make_order("reviewed", assistant=sales_assistant2)
    Order.objects.filter(pk=mine.pk).update(promised_delivery_date=days(-1))
    # the manager's counts come from the tallies: a tally row the orders table does not have shows up
    OrderStateTally.objects.create(state=State.SHIPPED, promised_delivery_date=None, n=5)
    assert selectors.state_counts(sales_manager, today()) == (
        {State.RECEIVED: 1, State.REVIEWED: 1, State.SHIPPED: 5}, 1)
    client.force_login(sales_manager)
    page = client.get("/")
    assert page.status_code == 200
    shipped = next(s for s in page.context["state_counts"] if s["state"] == State.SHIPPED)
    assert shipped["count"] == 5 and page.context["total_count"] == 7 and page.context["overdue_count"] == 1
    # an assistant's counts are their own orders, counted live
    assert selectors.state_counts(sales_assistant, today()) == ({State.RECEIVED: 1}, 1)
    assert selectors.state_counts(sales_assistant2, today()) == ({State.REVIEWED: 1}, 0)


def test_the_compaction_is_on_the_beat_schedule():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="compact_state_tallies")
    assert task.task == "orders.tasks.compact_state_tallies" and task.enabled
    assert task.interval.every == 5 and task.interval.period == "minutes"


SQLITE_SCRIPT = """
import json
from collections import Counter
from django.db.models import Sum
from orders import services
from orders.models import Customer, Order, OrderStateTally
from django.contrib.auth import get_user_model
c = Customer.objects.create(code="T", name="T", contact_name="a", contact_phone="1", address="x")
u = get_user_model().objects.create(username="t")
def make(n, **kw):
    return Order.objects.create(number=n, customer=c, contact_name="a", contact_phone="1", delivery_address="x",
                                requested_delivery_date="2030-01-01", assistant=u, created_by=u, **kw)
a, b, d = make("A"), make("B", state="reviewed"), make("D")
Order.objects.filter(pk=a.pk).update(state="scheduled", promised_delivery_date="2030-01-02")
Order.objects.filter(pk=b.pk).update(contact_name="z")
d.delete()
def tallied():
    return {s: n for s, n in OrderStateTally.objects.values_list("state").annotate(n=Sum("n")).order_by() if n}
before = tallied()
folded = services.compact_state_tallies()
print(json.dumps([before, tallied(), folded, OrderStateTally.objects.count()]))
"""


def test_the_sqlite_trigger_of_the_quick_start_counts_the_same(tmp_path):
    before, after, folded, rows = run_on_fresh_sqlite(tmp_path, SQLITE_SCRIPT)
    assert before == after == {"scheduled": 1, "reviewed": 1}
    # inserts a, b, d (3) + a's update (-1/+1) + d's delete (-1); b's update changed neither column; and two
    # exposure entries (b created open, a opened by its update: orders.CustomerExposure)
    assert folded == 6 + 2 and rows == 2
    assert Counter(after) == Counter({"scheduled": 1, "reviewed": 1})
