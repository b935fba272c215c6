"""The dashboard's "your work": what waits for each role, from the orders it may see."""

import pytest

from orders.selectors import work_queues
from tests import factories
from tests.factories import Cast, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(sales_assistant, sales_assistant2, sales_manager):
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    return {
        "draft": make_order("received", cast=cast),
        "other_draft": make_order("received", cast=Cast(owner=sales_assistant2, sales_manager=sales_manager)),
        "submitted": make_order("received", cast=cast, submitted=True),
        "reviewed": make_order("reviewed", cast=cast),
        "scheduled": make_order("scheduled", cast=cast),
        "producing": make_order("producing", cast=cast),
        "complete": make_order("producing", cast=cast, ready_for="ship"),
        "shipped": make_order("shipped", cast=cast),
        "accepted": make_order("accepted", cast=cast),
    }


def queues(user) -> dict[str, set[str]]:
    return {q["key"]: {o.number for o in q["orders"]} for q in work_queues(user)}


def numbers(world, *names) -> set[str]:
    return {world[name].number for name in names}


def test_each_role_sees_what_waits_for_it(world, sales_assistant, sales_assistant2, sales_manager,
                                          production_supervisor, production_worker, logistics_specialist,
                                          finance_specialist, auditor):
    assert queues(sales_assistant) == {"drafts": numbers(world, "draft"), "deliveries": numbers(world, "shipped")}
    assert queues(sales_assistant2) == {"drafts": numbers(world, "other_draft"), "deliveries": set()}
    assert queues(sales_manager) == {"review": numbers(world, "submitted")}
    assert queues(production_supervisor) == {"to_plan": numbers(world, "reviewed"),
                                             "to_start": numbers(world, "scheduled")}
    assert queues(production_worker) == {"producing": numbers(world, "producing", "complete")}
    assert queues(logistics_specialist) == {"to_ship": numbers(world, "complete"),
                                            "in_transit": numbers(world, "shipped")}
    assert queues(finance_specialist) == {"to_settle": numbers(world, "accepted")}
    assert queues(auditor) == {}


def test_the_dashboard_shows_the_work_in_bounded_queries(client, world, production_supervisor,
                                                         django_assert_max_num_queries):
    client.force_login(production_supervisor)
    with django_assert_max_num_queries(20):
        page = client.get("/").content.decode()
    assert world["reviewed"].number in page and 'data-queue="to_plan"' in page
    for _ in range(3):
        make_order("reviewed", customer=factories.CustomerFactory())
    with django_assert_max_num_queries(20):
        client.get("/")
