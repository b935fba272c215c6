"""Logistics (R3.4, R4.4): shipments and their tracking events — services and API."""

from __future__ import annotations

import pytest

from logistics import services
from logistics.models import Shipment, ShipmentEvent
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests import factories
from tests.factories import Cast, days, make_order
from tests.utils import call

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return Cast()


def ship(cast, order, user=None, **kw):
    data = {"carrier": "SF Express", "tracking_number": "SF1", **kw}
    return services.create_shipment(user=user or cast.logistics_specialist, order_id=order.pk, **data)


def test_shipment_records_a_preparing_event(cast):
    order = make_order("producing", cast=cast)
    shipment = ship(cast, order, expected_arrival=days(4), carrier="  SF Express ")
    assert (shipment.carrier, shipment.status, shipment.expected_arrival) == ("SF Express", "preparing", days(4))
    assert list(shipment.events.values_list("status", flat=True)) == ["preparing"]


@pytest.mark.parametrize("missing", ["carrier", "tracking_number"])
def test_shipment_needs_carrier_and_tracking_number(cast, missing):
    order = make_order("producing", cast=cast)
    with pytest.raises(InvalidInput) as exc:
        ship(cast, order, **{missing: "  "})
    assert missing in exc.value.errors
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(
    ("role", "error"),
    [
        ("production_supervisor", Forbidden),
        ("owner", Forbidden),
        ("finance_manager", Forbidden),
        ("auditor", Forbidden),
    ],
)
def test_only_logistics_manages_shipments(cast, role, error):
    order = make_order("producing", cast=cast)
    with pytest.raises(error):
        ship(cast, order, user=getattr(cast, role))
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(
    ("state", "error"),
    [("received", NotFound), ("reviewed", NotFound), ("scheduled", Conflict), ("accepted", Conflict)],
)
def test_shipments_only_once_in_production(cast, state, error):
    order = make_order(state, cast=cast)
    with pytest.raises(error):
        ship(cast, order)


def test_events_keep_the_status_current(cast):
    order = make_order("producing", cast=cast)
    shipment = ship(cast, order)
    services.add_event(
        user=cast.logistics_supervisor,
        shipment_id=shipment.pk,
        status="in_transit",
        location=" Hangzhou ",
        note="on the road",
    )
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"
    last = shipment.events.order_by("-id").first()
    assert (last.location, last.recorded_by) == ("Hangzhou", cast.logistics_supervisor)
    for bad in ("teleported", "returned"):
        with pytest.raises(InvalidInput):
            services.add_event(user=cast.logistics_specialist, shipment_id=shipment.pk, status=bad)
    with pytest.raises(Forbidden):
        services.add_event(user=cast.production_worker, shipment_id=shipment.pk, status="arrived")
    with pytest.raises(NotFound):
        services.add_event(user=cast.logistics_specialist, shipment_id=999999, status="arrived")
    assert ShipmentEvent.objects.filter(shipment=shipment).count() == 2


def test_a_rejected_delivery_returns_the_shipment(cast):
    order = make_order("shipped", cast=cast)
    shipment = order.shipments.get()
    factories.run(order, "reject_delivery", cast.owner, comment="wrong colour")
    shipment.refresh_from_db()
    assert shipment.status == "returned"
    with pytest.raises(Conflict):
        services.add_event(user=cast.logistics_specialist, shipment_id=shipment.pk, status="delivered")


def test_shipment_endpoints(cast, api_client_for):
    order = make_order("producing", cast=cast)
    client = api_client_for(cast.logistics_specialist)
    call(
        client, "post", "/logistics/shipments/", {"order": order.pk, "carrier": "", "tracking_number": "1"}, expect=400
    )
    call(
        api_client_for(cast.production_supervisor),
        "post",
        "/logistics/shipments/",
        {"order": order.pk, "carrier": "EMS", "tracking_number": "1"},
        expect=403,
    )
    shipment = call(
        client,
        "post",
        "/logistics/shipments/",
        {"order": order.pk, "carrier": "EMS", "tracking_number": "EA123", "expected_arrival": None},
        expect=201,
    )
    assert shipment["status"] == "preparing" and [e["status"] for e in shipment["events"]] == ["preparing"]
    call(client, "post", f"/logistics/shipments/{shipment['id']}/events/", {"status": "nowhere"}, expect=400)
    event = call(
        client,
        "post",
        f"/logistics/shipments/{shipment['id']}/events/",
        {"status": "in_transit", "location": "Wuxi"},
        expect=201,
    )
    assert event["status"] == "in_transit"
    listed = call(client, "get", "/logistics/shipments/", {"order": order.pk}, expect=200)
    assert listed["results"][0]["status"] == "in_transit"
    # the owner sees the tracking of their order, another assistant does not
    other = factories.user_with_role("sales_assistant", "sales_assistant2")
    assert call(api_client_for(other), "get", "/logistics/shipments/", expect=200)["results"] == []
    call(
        api_client_for(other),
        "post",
        f"/logistics/shipments/{shipment['id']}/events/",
        {"status": "arrived"},
        expect=404,
    )
