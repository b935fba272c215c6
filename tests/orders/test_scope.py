"""Who sees what (DESIGN §5, R5.2), through the API's lists and details.

Expected scopes come from the rules (``tests.spec.sees``, reading the state lists
of :mod:`orderdesk.roles`); hidden fields are checked on the JSON keys of list
rows, details and their lines. An order outside the scope answers 404.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderdesk import roles
from orders import services
from orders.models import Order, State
from tests import factories
from tests.factories import make_order
from tests.spec import OTHER_ASSISTANT, OWNER_ASSISTANT, SUPERUSER, sees
from tests.utils import API, module_data, results

pytestmark = pytest.mark.django_db

PRICE_KEYS = {"total_amount", "unit_price", "line_total", "credit_override_reason", "credit_limit", "open_exposure"}
CONTACT_KEYS = {"contact_name", "contact_phone", "delivery_address"}
ALL_SEEING = ["sales_manager", "finance_manager", "finance_specialist", "auditor", SUPERUSER]


def _build():
    cast = factories.Cast()
    a2 = factories.user_with_role("sales_assistant", "sales_assistant2")
    users = {role: getattr(cast, role) for role in roles.ROLES}
    users[OWNER_ASSISTANT] = cast.sales_assistant
    users[OTHER_ASSISTANT] = a2
    users[SUPERUSER] = factories.superuser()
    orders = {}  # key → (order id, owner key, state, awaits sign-off)
    for state in State:
        orders[state.value] = make_order(state, cast=cast).pk
    other_cast = factories.Cast(owner=a2)
    orders["other_received"] = make_order("received", cast=other_cast, assistant=a2).pk
    orders["other_shipped"] = make_order("shipped", cast=other_cast, assistant=a2).pk
    orders["awaiting_signoff"] = make_order("received", cast=cast, special_terms="pay in 3 parts", submitted=True).pk
    orders["joint_unsubmitted"] = make_order("received", cast=cast, special_terms="pay in 3 parts").pk
    return {"users": users, "orders": orders, "cast": cast}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with module_data(django_db_blocker) as build:
        yield build(_build)


def expected_ids(world, actor) -> set[int]:
    ids = set()
    for key, order_id in world["orders"].items():
        order = Order.objects.get(pk=order_id)
        owner_is_a2 = key.startswith("other_")
        if actor in (OWNER_ASSISTANT, OTHER_ASSISTANT):
            mine = (actor == OTHER_ASSISTANT) == owner_is_a2
            if mine:
                ids.add(order_id)
            continue
        if sees(actor, order.state, awaits_signoff=(key == "awaiting_signoff")):
            ids.add(order_id)
    return ids


def list_ids(client) -> set[int]:
    response = client.get(f"{API}/orders/", {"page_size": 500})
    assert response.status_code == 200, response.content
    return {row["id"] for row in results(response.json())}


ACTORS = [OWNER_ASSISTANT, OTHER_ASSISTANT, *[r for r in roles.ROLES if r != "sales_assistant"], SUPERUSER]


@pytest.mark.parametrize("actor", ACTORS)
def test_list_and_detail_follow_the_scope(world, api_client_for, actor):
    client = api_client_for(world["users"][actor])
    expected = expected_ids(world, actor)
    assert list_ids(client) == expected
    for order_id in world["orders"].values():
        response = client.get(f"{API}/orders/{order_id}/")
        assert response.status_code == (200 if order_id in expected else 404), (actor, order_id)
        history = client.get(f"{API}/orders/{order_id}/history/")
        assert history.status_code == (200 if order_id in expected else 404), (actor, order_id)


def test_scope_expectations_are_not_trivial(world):
    """Guard the guard: the scopes differ per role as DESIGN §5 says."""
    orders = world["orders"]
    assert expected_ids(world, OWNER_ASSISTANT) == {v for k, v in orders.items() if not k.startswith("other_")}
    assert expected_ids(world, OTHER_ASSISTANT) == {orders["other_received"], orders["other_shipped"]}
    production = expected_ids(world, "production_worker")
    assert orders["received"] not in production and orders["reviewed"] in production
    assert orders["cancelled"] not in production
    assert orders["awaiting_signoff"] in expected_ids(world, "production_supervisor")
    assert orders["awaiting_signoff"] not in production
    assert orders["joint_unsubmitted"] not in expected_ids(world, "production_supervisor")
    logistics = expected_ids(world, "logistics_specialist")
    assert orders["reviewed"] not in logistics and orders["scheduled"] in logistics
    assert orders["other_shipped"] in logistics
    assert expected_ids(world, "auditor") == set(orders.values())


def _keys(body) -> set[str]:
    keys = set(body)
    for line in body.get("lines", []):
        keys |= set(line)
    return keys


@pytest.mark.parametrize("actor", ["production_supervisor", "production_worker"])
def test_production_never_sees_prices_or_customer_contact(world, api_client_for, actor):
    client = api_client_for(world["users"][actor])
    rows = results(client.get(f"{API}/orders/", {"page_size": 500}).json())
    assert rows
    for row in rows:
        assert not (set(row) & (PRICE_KEYS | CONTACT_KEYS | {"tracking_url"})), row.keys()
    detail = client.get(f"{API}/orders/{world['orders']['producing']}/").json()
    assert detail["lines"], detail
    assert not (_keys(detail) & (PRICE_KEYS | CONTACT_KEYS | {"tracking_url"})), detail.keys()
    assert {"id", "number", "state", "lines", "requested_delivery_date"} <= set(detail)
    # invoices and payments are not theirs to see
    assert results(client.get(f"{API}/finance/invoices/").json()) == []
    assert results(client.get(f"{API}/finance/payments/").json()) == []
    customers = results(client.get(f"{API}/customers/").json())
    assert customers and not any(set(c) & (PRICE_KEYS | {"contact_phone", "address"}) for c in customers)


@pytest.mark.parametrize("actor", ["logistics_supervisor", "logistics_specialist"])
def test_logistics_sees_address_and_contact_but_no_prices(world, api_client_for, actor):
    client = api_client_for(world["users"][actor])
    rows = results(client.get(f"{API}/orders/", {"page_size": 500}).json())
    assert rows
    for row in rows:
        assert CONTACT_KEYS <= set(row)
        assert not (set(row) & (PRICE_KEYS | {"tracking_url"}))
    detail = client.get(f"{API}/orders/{world['orders']['shipped']}/").json()
    assert detail["delivery_address"] and detail["contact_phone"]
    assert not (_keys(detail) & PRICE_KEYS)
    assert results(client.get(f"{API}/finance/invoices/").json()) == []


@pytest.mark.parametrize("actor", ALL_SEEING)
def test_managers_finance_and_auditor_see_every_field(world, api_client_for, actor):
    client = api_client_for(world["users"][actor])
    detail = client.get(f"{API}/orders/{world['orders']['settled']}/").json()
    assert {"total_amount", *CONTACT_KEYS} <= set(detail)
    assert Decimal(detail["total_amount"]) > 0
    assert {"unit_price", "line_total"} <= set(detail["lines"][0])
    customers = results(client.get(f"{API}/customers/").json())
    assert {"credit_limit", "open_exposure"} <= set(customers[0])


@pytest.mark.parametrize("actor", [OWNER_ASSISTANT, "sales_manager"])
def test_tracking_url_is_for_sales_only(world, api_client_for, actor):
    detail = api_client_for(world["users"][actor]).get(f"{API}/orders/{world['orders']['shipped']}/").json()
    assert detail["tracking_url"].startswith("http")
    for other in ("finance_manager", "auditor", "logistics_supervisor"):
        body = api_client_for(world["users"][other]).get(f"{API}/orders/{world['orders']['shipped']}/").json()
        assert "tracking_url" not in body, other


def test_production_history_hides_price_and_contact_changes(world, api_client_for):
    cast = world["cast"]
    order = make_order("received", cast=cast)
    product = factories.ProductFactory()
    services.update_order(
        user=cast.owner,
        order_id=order.pk,
        data={
            "contact_phone": "+86 999 4321",
            "lines": [
                {"product": product, "specification": "new", "quantity": Decimal("2"), "unit_price": Decimal("77.13")}
            ],
            "requested_delivery_date": factories.days(50),
        },
    )
    factories.run(order, "submit", cast.owner)
    factories.run(order, "approve", cast.sales_manager, comment="ok")
    owner_fields = {e.get("field") for e in api_client_for(cast.owner).get(f"{API}/orders/{order.pk}/history/").json()}
    assert {"contact_phone", "lines", "requested_delivery_date"} <= owner_fields
    body = api_client_for(cast.production_worker).get(f"{API}/orders/{order.pk}/history/").json()
    fields = {e.get("field") for e in body if e["kind"] == "change"}
    assert "requested_delivery_date" in fields
    assert not (fields & {"contact_phone", "lines", "total_amount"}), fields
    assert "77.13" not in str(body) and "154.26" not in str(body) and "+86 999 4321" not in str(body)


# --- the auditor reads everything and changes nothing ----------------------------------------------------
AUDITOR_WRITES = [
    ("post", "/orders/", {"customer": 1}),
    ("patch", "/orders/{received}/", {"contact_name": "x"}),
    ("post", "/orders/{received}/transitions/cancel/", {"comment": "audit"}),
    ("post", "/orders/{awaiting_signoff}/signoffs/", {"decision": "approve"}),
    ("post", "/orders/{received}/clarifications/", {"question": "?"}),
    ("post", "/production/plans/", {"order": "{reviewed}", "workshop": 1, "milestones": []}),
    ("post", "/production/progress/", {"order": "{producing}", "percent_complete": 100}),
    ("post", "/logistics/shipments/", {"order": "{producing}", "carrier": "x", "tracking_number": "y"}),
    ("post", "/finance/invoices/", {"order": "{accepted}", "amount": "1.00", "due_date": "2099-01-01"}),
]


@pytest.mark.parametrize(("method", "path", "data"), AUDITOR_WRITES, ids=[f"{m} {p}" for m, p, _ in AUDITOR_WRITES])
def test_auditor_writes_are_forbidden(world, api_client_for, method, path, data):
    ids = world["orders"]
    path = path.format(**ids)
    data = {k: (int(v.format(**ids)) if isinstance(v, str) and v.startswith("{") else v) for k, v in data.items()}
    before = (Order.objects.count(), list(Order.objects.order_by("pk").values_list("pk", "state", "updated_at")))
    response = getattr(api_client_for(world["users"]["auditor"]), method)(f"{API}{path}", data, format="json")
    assert response.status_code == 403, response.content
    assert response.json()["code"]
    assert (
        Order.objects.count(),
        list(Order.objects.order_by("pk").values_list("pk", "state", "updated_at")),
    ) == before


def test_auditor_transitions_are_all_disallowed(world, api_client_for):
    client = api_client_for(world["users"]["auditor"])
    for order_id in world["orders"].values():
        listed = client.get(f"{API}/orders/{order_id}/transitions/").json()
        assert listed and not any(t["allowed"] for t in listed)


# --- filters (DESIGN §6) ----------------------------------------------------------------------------------------
def test_list_filters(world, api_client_for):
    client = api_client_for(world["users"]["sales_manager"])
    ids = world["orders"]
    shipped = {row["id"] for row in results(client.get(f"{API}/orders/", {"state": "shipped"}).json())}
    assert shipped == {ids["shipped"], ids["other_shipped"]}
    number = Order.objects.get(pk=ids["settled"]).number
    found = results(client.get(f"{API}/orders/", {"number": number}).json())
    assert [row["id"] for row in found] == [ids["settled"]]
    customer = Order.objects.get(pk=ids["producing"]).customer
    by_customer = results(client.get(f"{API}/orders/", {"customer": customer.pk}).json())
    assert {row["id"] for row in by_customer} == set(
        Order.objects.filter(customer=customer).values_list("pk", flat=True)
    )
    searched = results(client.get(f"{API}/orders/", {"search": customer.name}).json())
    assert ids["producing"] in {row["id"] for row in searched}
    # an assistant's filter never widens the scope
    a2 = api_client_for(world["users"][OTHER_ASSISTANT])
    assert results(a2.get(f"{API}/orders/", {"number": number}).json()) == []


# --- who may record orders (R4.1) ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("sales_assistant", 201),
        ("sales_assistant2", 201),
        ("production_supervisor", 403),
        ("production_worker", 403),
        ("logistics_supervisor", 403),
        ("logistics_specialist", 403),
        ("finance_manager", 403),
        ("finance_specialist", 403),
        ("auditor", 403),
        ("superuser", 201),
    ],
)
def test_only_sales_records_orders(request, api_client_for, fixture, status):
    user = request.getfixturevalue(fixture)
    product = factories.ProductFactory()
    payload = {
        "customer": factories.CustomerFactory().pk,
        "channel": "online",
        "contact_name": "Buyer",
        "contact_phone": "123",
        "delivery_address": "Dock 3",
        "requested_delivery_date": factories.days(30).isoformat(),
        "lines": [{"product": product.pk, "specification": "std", "quantity": "1", "unit_price": "9.90"}],
    }
    before = Order.objects.count()
    response = api_client_for(user).post(f"{API}/orders/", payload, format="json")
    assert response.status_code == status, response.content
    assert Order.objects.count() == before + (1 if status == 201 else 0)
    if status == 201:
        body = response.json()
        assert body["assistant"] == user.pk and body["state"] == "received"
        assert body["number"].startswith("SO-")
    else:
        assert response.json()["code"]


def test_manager_records_an_order_for_an_assistant(api_client_for, sales_manager, sales_assistant):
    """A manager is no assistant: the order names its owner, who runs the assistant's check."""
    product = factories.ProductFactory()
    payload = {
        "customer": factories.CustomerFactory().pk,
        "channel": "visit",
        "contact_name": "Buyer",
        "contact_phone": "123",
        "delivery_address": "Dock 3",
        "requested_delivery_date": factories.days(30).isoformat(),
        "lines": [{"product": product.pk, "specification": "std", "quantity": "1", "unit_price": "9.90"}],
    }
    client = api_client_for(sales_manager)
    refused = client.post(f"{API}/orders/", payload, format="json")
    assert refused.status_code == 400 and "assistant" in refused.json()["errors"]
    response = client.post(f"{API}/orders/", {**payload, "assistant": sales_assistant.pk}, format="json")
    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=response.json()["id"])
    assert order.assistant == sales_assistant and order.created_by == sales_manager


def test_assistant_cannot_record_an_order_for_another(api_client_for, sales_assistant, sales_assistant2):
    product = factories.ProductFactory()
    payload = {
        "customer": factories.CustomerFactory().pk,
        "channel": "visit",
        "contact_name": "Buyer",
        "contact_phone": "123",
        "delivery_address": "Dock 3",
        "requested_delivery_date": factories.days(30).isoformat(),
        "lines": [{"product": product.pk, "specification": "std", "quantity": "1", "unit_price": "9.90"}],
        "assistant": sales_assistant2.pk,
    }
    before = Order.objects.count()
    response = api_client_for(sales_assistant).post(f"{API}/orders/", payload, format="json")
    assert response.status_code == 403
    assert Order.objects.count() == before
