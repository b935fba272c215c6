"""The logistics workspace `/logistics/` (R3.4, DESIGN §6b pages): ready to ship, partly shipped, in transit,
delivered; each list exports CSV; no price ever, contact only for who sees it; scoped like every page."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from logistics import services
from tests import factories
from tests.factories import Cast, make_order

pytestmark = pytest.mark.django_db

PRICE = Decimal("4321.98")  # planted: must never show in the workspace or its exports


@pytest.fixture
def world(db):
    cast = Cast()
    customer = factories.CustomerFactory(address="88 Harbour Road", contact_name="Ms. Planted")
    product = factories.ProductFactory()

    def order(state="producing"):
        return make_order(
            state,
            cast=cast,
            customer=customer,
            lines=[{"product": product, "specification": "S", "quantity": Decimal("10"), "unit_price": PRICE}],
        )

    ready = order()
    factories.complete_production(ready, cast)
    partial = order()
    partial_shipment = factories.record_shipment(partial, cast, lines=factories.part_of(partial, 4))
    waiting = order()  # production not complete, nothing shipped: in no order list
    shipped = order("shipped")
    delivered = order("shipped")
    delivered_shipment = delivered.shipments.get()
    services.add_event(user=cast.logistics_specialist, shipment_id=delivered_shipment.pk, status="delivered")
    return {
        "cast": cast,
        "ready": ready,
        "partial": partial,
        "waiting": waiting,
        "shipped": shipped,
        "delivered": delivered,
        "partial_shipment": partial_shipment,
        "delivered_shipment": delivered_shipment,
    }


def get(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("logistics:workspace"), params)
    return response


def export(client, user, name):
    client.force_login(user)
    response = client.get(reverse("logistics:export", args=[name]))
    assert response.status_code == 200, response.status_code
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_four_lists(client, world):
    user = world["cast"].logistics_specialist
    html = get(client, user).content.decode()
    assert f'data-order="{world["ready"].pk}"' in html
    for other in ("partial", "waiting", "shipped"):
        assert f'data-order="{world[other].pk}"' not in html
    html = get(client, user, list="partly_shipped").content.decode()
    assert f'data-order="{world["partial"].pk}"' in html and f'data-order="{world["ready"].pk}"' not in html
    html = get(client, user, list="in_transit").content.decode()
    assert f'data-shipment="{world["partial_shipment"].pk}"' in html
    assert f'data-shipment="{world["shipped"].shipments.get().pk}"' in html
    assert f'data-shipment="{world["delivered_shipment"].pk}"' not in html
    html = get(client, user, list="delivered").content.decode()
    assert f'data-shipment="{world["delivered_shipment"].pk}"' in html
    assert f'data-shipment="{world["partial_shipment"].pk}"' not in html


def test_an_order_whose_every_line_is_on_shipments_is_ready_for_ship(client, world):
    cast, partial = world["cast"], world["partial"]
    factories.record_shipment(partial, cast)  # the rest
    html = get(client, cast.logistics_specialist).content.decode()
    assert f'data-order="{partial.pk}"' in html


@pytest.mark.parametrize("name", ["ready_to_ship", "partly_shipped", "in_transit", "delivered"])
def test_exports_have_no_prices_and_contact_for_logistics(client, world, name):
    rows = export(client, world["cast"].logistics_specialist, name)
    assert len(rows) >= 2, rows
    flat = "\n".join(",".join(r) for r in rows)
    assert "4321" not in flat and "43,21" not in flat
    assert "88 Harbour Road" in flat  # logistics sees the delivery address (contact)


def test_partly_shipped_export_lists_each_line(client, world):
    rows = export(client, world["cast"].logistics_supervisor, "partly_shipped")
    body = rows[1:]
    assert len(body) == 1  # one order line
    assert body[0][0] == world["partial"].number
    assert [Decimal(x) for x in body[0][-3:]] == [Decimal("10"), Decimal("4"), Decimal("6")]


def test_who_may_open_it(client, world):
    cast = world["cast"]
    for role in ("logistics_supervisor", "logistics_specialist", "sales_manager", "auditor"):
        assert get(client, getattr(cast, role)).status_code == 200
    for role in ("sales_assistant", "production_supervisor", "production_worker", "finance_manager"):
        assert get(client, getattr(cast, role)).status_code == 403
        client.force_login(getattr(cast, role))
        assert client.get(reverse("logistics:export", args=["in_transit"])).status_code == 403
    client.force_login(cast.logistics_specialist)
    assert client.get("/logistics/nonsense.csv").status_code == 404
    client.logout()
    assert client.get(reverse("logistics:workspace")).status_code == 302  # to the login


def test_prices_never_show_on_the_page(client, world):
    for name in ("ready_to_ship", "partly_shipped", "in_transit", "delivered"):
        html = get(client, world["cast"].logistics_specialist, list=name).content.decode()
        assert "4321" not in html and "4,321" not in html


def test_queries_do_not_grow_with_the_rows(client, world, django_assert_max_num_queries):
    cast = world["cast"]
    user = cast.logistics_specialist
    counts = {}
    for n in (1, 6):
        for _i in range(n):
            o = make_order("producing", cast=cast)
            factories.record_shipment(o, cast, lines=factories.part_of(o, 1))
        client.force_login(user)
        for name in ("partly_shipped", "in_transit"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse("logistics:workspace"), {"list": name}).status_code == 200
            counts.setdefault(name, []).append(len(ctx.captured_queries))
    for name, (small, big) in counts.items():
        assert small == big, (name, counts)
    with django_assert_max_num_queries(25):
        client.get(reverse("logistics:workspace"), {"list": "partly_shipped"})
