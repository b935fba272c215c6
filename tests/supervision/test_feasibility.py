"""Capable-to-promise (production.selectors) and the feasibility shown on the review page."""

import datetime

import pytest

from orders.models import Order
from production.selectors import capable_to_promise, earliest_start, workshop_occupancy
from tests import factories
from tests.factories import Cast, days, make_order, today
from tests.supervision.conftest import shift

D = datetime.date(2026, 3, 2)


def d(n):
    return D + datetime.timedelta(days=n)


@pytest.mark.parametrize(
    ("intervals", "capacity", "lead", "expected"),
    [
        ([], 1, 10, d(0)),  # empty workshop: start today
        ([(d(0), d(5))], 1, 10, d(6)),  # one slot held until day 5: start the day after
        ([(d(0), d(5))], 2, 10, d(0)),  # a second slot is free
        ([(d(0), d(5)), (d(0), d(9))], 2, 3, d(6)),  # both slots busy until day 5, one frees on day 6
        ([(d(4), d(8))], 1, 3, d(0)),  # the run [0, 2] fits before the next order starts on day 4
        ([(d(3), d(8))], 1, 5, d(9)),  # [0, 4] would collide with day 3: wait until day 9
        ([(d(-10), d(-1))], 1, 5, d(0)),  # intervals in the past don't count
    ],
)
def test_earliest_start(intervals, capacity, lead, expected):
    assert earliest_start(intervals=intervals, capacity=capacity, lead_days=lead, today=D) == expected


def test_zero_capacity_never_starts():
    assert earliest_start(intervals=[], capacity=0, lead_days=3, today=D) is None


@pytest.mark.django_db
def test_ctp_counts_orders_scheduled_at_the_workshop(sales_assistant, production_supervisor):
    cast = Cast(owner=sales_assistant, production_supervisor=production_supervisor)
    busy = factories.WorkshopFactory(code="W-BUSY", capacity=1)
    order = make_order("reviewed", cast=cast)
    factories.plan_order(order, cast, workshop=busy)
    # the plan holds W-BUSY's single slot from today to its last milestone (promised − 2 = today + 43)
    assert workshop_occupancy()[busy.pk] == [(today(), days(43))]
    one = capable_to_promise(lead_days=10, workshop=busy)
    assert one["start"] == days(44) and one["date"] == days(54)
    # with a second, idle workshop the plant can start today
    idle = factories.WorkshopFactory(code="W-IDLE", capacity=1)
    best = capable_to_promise(lead_days=10)
    assert best["workshop"] == idle and best["date"] == days(10)
    # today's load per workshop
    assert {w["workshop"].code: w["load"] for w in best["per_workshop"]} == {"W-BUSY": 1, "W-IDLE": 0}


@pytest.mark.django_db
def test_review_page_suggests_the_ctp_date_when_the_request_is_too_early(client, sales_manager, sales_assistant,
                                                                          production_supervisor):
    cast = Cast(owner=sales_assistant, production_supervisor=production_supervisor, sales_manager=sales_manager)
    only = factories.WorkshopFactory(code="W-ONLY", capacity=1)
    loaded = make_order("reviewed", cast=cast)
    factories.plan_order(loaded, cast, workshop=only)  # holds the only slot until today + 43
    order = make_order("received", submitted=True, cast=cast, requested_delivery_date=days(20))
    client.force_login(sales_manager)
    page = client.get(f"/supervision/review/{order.pk}/")
    assert page.status_code == 200
    fz = page.context["feasibility"]
    assert fz["lead_days"] == factories.DEFAULT_LEAD_DAYS
    assert fz["ctp_date"] == days(54) and not fz["feasible"]
    assert fz["suggested_date"] == days(54)
    html = page.content.decode()
    assert 'id="date-not-feasible"' in html
    assert f'value="{days(54).isoformat()}"' in html  # the promised date is prefilled with the suggestion
    # the queue names it too
    queue = client.get("/supervision/review/")
    row = next(r for r in queue.context["rows"] if r["order"].pk == order.pk)
    assert not row["date_feasible"] and not row["clean"] and row["ctp_date"] == days(54)
    # a later request is feasible and is suggested as it is
    shift(order, requested_delivery_date=days(60))
    fz = client.get(f"/supervision/review/{order.pk}/").context["feasibility"]
    assert fz["feasible"] and fz["suggested_date"] == days(60)
    assert Order.objects.get(pk=order.pk).state == "received"
