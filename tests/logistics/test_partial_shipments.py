"""Partial shipments (R3.4, DESIGN §6b): shipments carry line quantities that never exceed the order, `ship`
waits until every line is on shipments, a `delivered` event closes its shipment, acceptance closes any still
open, and a settled order never has one in transit. Through the services and the API; bad input is a
400/403/404 with nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from logistics import services
from logistics.models import Shipment, ShipmentEvent, ShipmentLine
from notifications.models import Notification
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.models import State
from tests import factories
from tests.factories import Cast, days, make_order
from tests.utils import call, run_via_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return Cast()


def two_line_order(cast, state="producing", **kw):
    """An order of two lines: 10 of the first product, 4 of the second."""
    p1, p2 = factories.ProductFactory(), factories.ProductFactory()
    lines = [
        {"product": p1, "specification": "A", "quantity": Decimal("10"), "unit_price": Decimal("5.00")},
        {"product": p2, "specification": "B", "quantity": Decimal("4"), "unit_price": Decimal("7.00")},
    ]
    return make_order(state, cast=cast, lines=lines, **kw)


def lines_of(order, *quantities):
    return [
        {"order_line": line.pk, "quantity": Decimal(str(q))}
        for line, q in zip(order.lines.order_by("position"), quantities, strict=False)
        if q
    ]


def ship(cast, order, lines=None, user=None, **kw):
    data = {"carrier": "SF Express", "tracking_number": f"SF{Shipment.objects.count() + 1}", **kw}
    return services.create_shipment(user=user or cast.logistics_specialist, order_id=order.pk, lines=lines, **data)


def remaining(order):
    return [e["remaining"] for e in services.remaining_lines(order)]


def nothing_written(order, shipments=0):
    assert Shipment.objects.filter(order=order).count() == shipments
    assert ShipmentLine.objects.filter(shipment__order=order).count() == sum(
        s.lines.count() for s in Shipment.objects.filter(order=order)
    )


# --- quantities ---------------------------------------------------------------------------------------------
def test_two_partial_shipments_then_ship(cast):
    order = two_line_order(cast)
    factories.complete_production(order, cast)
    first = ship(
        cast,
        order,
        lines_of(order, 6, 0),
        vehicle="沪A12345",
        driver="王师傅",
        warehouse="Main",
        tracking_link="https://track.example.com/SF1",
    )
    assert [(sl.order_line.position, sl.quantity) for sl in first.lines.all()] == [(1, Decimal("6"))]
    assert (first.vehicle, first.driver, first.warehouse, first.tracking_link) == (
        "沪A12345",
        "王师傅",
        "Main",
        "https://track.example.com/SF1",
    )
    assert remaining(order) == [Decimal("4"), Decimal("4")]

    outcome = run_via_service(cast.logistics_specialist, order.pk, "ship")
    assert outcome.status == 400 and outcome.unmet == ["not_fully_shipped"]

    second = ship(cast, order)  # no lines: everything that remains
    assert [(sl.order_line.position, sl.quantity) for sl in second.lines.all()] == [
        (1, Decimal("4")),
        (2, Decimal("4")),
    ]
    assert remaining(order) == [0, 0]
    assert run_via_service(cast.logistics_specialist, order.pk, "ship").status == 200
    order.refresh_from_db()
    assert order.state == State.SHIPPED


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("over", "more than what remains"),
        ("twice", "named twice"),
        ("zero", "greater than zero"),
        ("negative", "greater than zero"),
        ("garbage", "greater than zero"),
        ("other_order", "not a line of this order"),
        ("unknown_line", "not a line of this order"),
        ("too_precise", "three decimals"),
    ],
)
def test_bad_lines_are_refused_and_nothing_written(cast, lines, message):
    order = two_line_order(cast)
    ship(cast, order, lines_of(order, 7))  # 3 of the first line remain
    other = two_line_order(cast)
    first = order.lines.get(position=1)
    bad = {
        "over": [{"order_line": first.pk, "quantity": "3.001"}],
        "twice": [{"order_line": first.pk, "quantity": "1"}, {"order_line": first.pk, "quantity": "1"}],
        "zero": [{"order_line": first.pk, "quantity": "0"}],
        "negative": [{"order_line": first.pk, "quantity": "-1"}],
        "garbage": [{"order_line": first.pk, "quantity": "lots"}],
        "other_order": [{"order_line": other.lines.first().pk, "quantity": "1"}],
        "unknown_line": [{"order_line": 99999999, "quantity": "1"}],
        "too_precise": [{"order_line": first.pk, "quantity": "1.0001"}],
    }[lines]
    events_before = ShipmentEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        ship(cast, order, bad)
    assert any(message in str(m) for m in exc.value.errors["lines"]), exc.value.errors
    nothing_written(order, shipments=1)
    assert ShipmentEvent.objects.count() == events_before
    assert remaining(order) == [Decimal("3"), Decimal("4")]


def test_nothing_left_to_ship(cast):
    order = two_line_order(cast)
    ship(cast, order)
    with pytest.raises(InvalidInput) as exc:
        ship(cast, order)
    assert exc.value.code == "nothing_to_ship"
    with pytest.raises(InvalidInput):
        ship(cast, order, lines_of(order, 1))
    nothing_written(order, shipments=1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tracking_link", "javascript:alert(1)"),
        ("tracking_link", "ftp://x.example.com/"),
        ("vehicle", "x" * 51),
        ("driver", "a\x00b"),
        ("expected_arrival", days(-1)),
    ],
)
def test_bad_shipment_values(cast, field, value):
    order = two_line_order(cast)
    with pytest.raises(InvalidInput) as exc:
        ship(cast, order, **{field: value})
    assert field in exc.value.errors
    nothing_written(order)


def test_returned_shipments_do_not_count(cast):
    order = two_line_order(cast, state="shipped")
    assert remaining(order) == [0, 0]
    factories.run(order, "reject_delivery", cast.owner, comment="scratched")
    assert remaining(order) == [Decimal("10"), Decimal("4")]  # the rework ships again
    ship(cast, order, lines_of(order, 10))
    assert remaining(order) == [0, Decimal("4")]


def test_only_logistics_and_only_in_its_scope(cast):
    order = two_line_order(cast)
    for user in (cast.owner, cast.production_supervisor, cast.finance_manager, cast.auditor):
        with pytest.raises(Forbidden):
            ship(cast, order, user=user)
    reviewed = two_line_order(cast, state="reviewed")
    with pytest.raises(NotFound):  # logistics sees orders from `scheduled` on
        ship(cast, reviewed)
    with pytest.raises(NotFound):
        ship(cast, order, user=factories.user_with_role("sales_assistant", "someone_else"))
    nothing_written(order)


# --- tracking events and closing ------------------------------------------------------------------------------
def test_delivered_event_closes_its_shipment(cast):
    order = two_line_order(cast)
    first = ship(cast, order, lines_of(order, 5))
    second = ship(cast, order, lines_of(order, 5))
    services.add_event(user=cast.logistics_supervisor, shipment_id=first.pk, status="in_transit", location="Wuxi")
    services.add_event(user=cast.logistics_supervisor, shipment_id=first.pk, status="delivered", location="Beijing")
    first.refresh_from_db()
    assert first.status == "delivered" and first.delivered_at is not None and not first.is_open
    with pytest.raises(Conflict) as exc:
        services.add_event(user=cast.logistics_supervisor, shipment_id=first.pk, status="in_transit")
    assert exc.value.code == "shipment_closed"
    second.refresh_from_db()
    assert second.is_open
    # the assistant is told of each shipment and each event, to pass them on (R4.4)
    notes = Notification.objects.filter(user=order.assistant, kind="shipment_updated", order=order)
    assert notes.filter(message_id="shipment_recorded_partial").count() == 2
    assert notes.filter(message_id="shipment_event").count() == 2


def test_acceptance_closes_open_shipments_and_settlement_leaves_none_in_transit(cast):
    order = two_line_order(cast)
    factories.complete_production(order, cast)
    first = ship(cast, order, lines_of(order, 10))
    second = ship(cast, order)
    services.add_event(user=cast.logistics_specialist, shipment_id=first.pk, status="delivered")
    services.add_event(user=cast.logistics_specialist, shipment_id=second.pk, status="in_transit")
    factories.run(order, "ship", cast.logistics_specialist)
    factories.run(order, "accept", cast.owner, **factories.receipt_data())
    second.refresh_from_db()
    assert second.status == "delivered" and second.delivered_at is not None
    assert second.events.order_by("-at", "-id").first().recorded_by == cast.owner
    first_events = first.events.count()
    factories.invoice_and_pay(order, cast)
    factories.run(order, "settle", cast.finance_specialist)
    assert not Shipment.objects.filter(order=order).exclude(status__in=["delivered", "returned"]).exists()
    assert first.events.count() == first_events  # a closed shipment is not touched again


# --- concurrency (real threads, committed data: PostgreSQL in CI) -----------------------------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_concurrent_shipments_never_exceed_the_order():
    from tests.orders.test_concurrency import race

    cast = Cast()
    order = two_line_order(cast)
    line = order.lines.get(position=1)  # 10 ordered
    specialists = [factories.user_with_role("logistics_specialist", f"loader{i}") for i in range(6)]

    def work(i):
        try:
            services.create_shipment(
                user=specialists[i],
                order_id=order.pk,
                carrier="SF",
                tracking_number=f"T{i}",
                lines=[{"order_line": line.pk, "quantity": Decimal("3")}],
            )
            return "ok"
        except InvalidInput:
            return "refused"

    results = race(6, work)
    assert results.count("ok") == 3 and results.count("refused") == 3, results
    shipped = sum(ShipmentLine.objects.filter(order_line=line).values_list("quantity", flat=True))
    assert shipped == Decimal("9") <= line.quantity


# --- API --------------------------------------------------------------------------------------------------------
def test_shipment_api_with_lines(cast, api_client_for):
    order = two_line_order(cast)
    factories.complete_production(order, cast)
    client = api_client_for(cast.logistics_specialist)
    first, second = order.lines.order_by("position")
    body = call(
        client,
        "post",
        "/logistics/shipments/",
        {
            "order": order.pk,
            "carrier": "EMS",
            "tracking_number": "E1",
            "vehicle": "沪A1",
            "driver": "Li",
            "warehouse": "North",
            "tracking_link": "https://ems.example.com/E1",
            "lines": [{"order_line": first.pk, "quantity": "4"}],
        },
        expect=201,
    )
    assert [(x["position"], Decimal(x["quantity"])) for x in body["lines"]] == [(1, Decimal("4"))]
    assert body["vehicle"] == "沪A1" and body["tracking_link"] == "https://ems.example.com/E1"
    assert "unit_price" not in str(body) and "total" not in str(body)

    # the workspace's order list: partly shipped, each line's quantities
    listed = call(client, "get", "/logistics/orders/", {"list": "partly_shipped"}, expect=200)["results"]
    assert [o["id"] for o in listed] == [order.pk]
    assert [(Decimal(x["shipped"]), Decimal(x["remaining"])) for x in listed[0]["lines"]] == [
        (Decimal("4"), Decimal("6")),
        (Decimal("0"), Decimal("4")),
    ]
    assert "delivery_address" in listed[0] and "total_amount" not in listed[0]
    call(client, "get", "/logistics/orders/", {"list": "nonsense"}, expect=400)
    call(api_client_for(cast.production_supervisor), "get", "/logistics/orders/", expect=403)

    # bad input: 400 with nothing written
    for bad in (
        [{"order_line": first.pk, "quantity": "7"}],  # 6 remain
        [{"order_line": two_line_order(cast).lines.first().pk, "quantity": "1"}],  # another order's line
        [{"order_line": first.pk}],
        "all of it",
    ):
        answer = call(
            client,
            "post",
            "/logistics/shipments/",
            {"order": order.pk, "carrier": "EMS", "tracking_number": "E2", "lines": bad},
            expect=400,
        )
        assert answer["code"], answer
    call(
        client,
        "post",
        "/logistics/shipments/",
        {"order": order.pk, "carrier": "EMS", "tracking_number": "E2", "tracking_link": "javascript:x"},
        expect=400,
    )
    assert Shipment.objects.filter(order=order).count() == 1
    # a role that may not: 403; another assistant's order (out of scope): 404
    call(
        api_client_for(cast.owner),
        "post",
        "/logistics/shipments/",
        {"order": order.pk, "carrier": "EMS", "tracking_number": "E3"},
        expect=403,
    )
    other = factories.user_with_role("sales_assistant", "assistant_b")
    call(
        api_client_for(other),
        "post",
        "/logistics/shipments/",
        {"order": order.pk, "carrier": "EMS", "tracking_number": "E3"},
        expect=404,
    )
    call(
        client,
        "post",
        "/logistics/shipments/",
        {"order": two_line_order(cast, state="reviewed").pk, "carrier": "EMS", "tracking_number": "E3"},
        expect=404,
    )

    # ship refused until all is on shipments
    answer = call(client, "post", f"/orders/{order.pk}/transitions/ship/", {}, expect=400)
    assert [u["code"] for u in answer["unmet"]] == ["not_fully_shipped"]
    body = call(
        client,
        "post",
        "/logistics/shipments/",
        {"order": order.pk, "carrier": "EMS", "tracking_number": "E4"},
        expect=201,
    )
    assert [(x["position"], Decimal(x["quantity"])) for x in body["lines"]] == [(1, Decimal("6")), (2, Decimal("4"))]
    call(client, "post", f"/orders/{order.pk}/transitions/ship/", {}, expect=200)

    # a delivered event closes the shipment: later events are 409
    call(client, "post", f"/logistics/shipments/{body['id']}/events/", {"status": "delivered"}, expect=201)
    call(client, "post", f"/logistics/shipments/{body['id']}/events/", {"status": "in_transit"}, expect=409)
    open_ones = call(client, "get", "/logistics/shipments/", {"order": order.pk, "open": "true"}, expect=200)
    assert [s["tracking_number"] for s in open_ones["results"]] == ["E1"]
