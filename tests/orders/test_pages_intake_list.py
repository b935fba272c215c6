"""The intake form (pickers, owner for a manager, duplicates, earliest date) and the order list
(filters, sorting, pagination, CSV/Excel export of exactly what the filter shows, bounded queries)."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Alert, Order, State
from tests import factories

pytestmark = pytest.mark.django_db


def intake_data(customer, products, overrides=None, **kw):
    data = {
        "customer": customer.pk, "channel": "phone", "contact_name": "Li", "contact_phone": "123",
        "delivery_address": "Road 1", "requested_delivery_date": factories.days(60).isoformat(), "special_terms": "",
        "lines-TOTAL_FORMS": str(len(products)), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
    }
    for i, product in enumerate(products):
        data.update({f"lines-{i}-product": product.pk, f"lines-{i}-specification": "spec",
                     f"lines-{i}-quantity": "2", f"lines-{i}-unit_price": "10.00"})
    data.update(overrides or {})
    data.update(kw)
    return data


# --- intake ----------------------------------------------------------------------------------------
def test_manager_must_choose_the_owning_assistant(client, sales_manager, sales_assistant):
    customer, product = factories.CustomerFactory(), factories.ProductFactory()
    client.force_login(sales_manager)
    html = client.get(reverse("orders:create")).content.decode()
    assert 'name="assistant"' in html
    response = client.post(reverse("orders:create"), intake_data(customer, [product]))
    assert response.status_code == 200 and Order.objects.count() == 0
    assert "assistant" in response.context["form"].errors
    response = client.post(reverse("orders:create"), intake_data(customer, [product], assistant=sales_assistant.pk))
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.assistant == sales_assistant and order.created_by == sales_manager


def test_assistant_has_no_owner_field(client, sales_assistant):
    client.force_login(sales_assistant)
    assert 'name="assistant"' not in client.get(reverse("orders:create")).content.decode()


def test_likely_duplicate_needs_save_anyway(client, sales_assistant):
    customer, p1, p2 = factories.CustomerFactory(), factories.ProductFactory(), factories.ProductFactory()
    first = factories.make_order(customer=customer, products=[p1, p2])
    client.force_login(sales_assistant)
    response = client.post(reverse("orders:create"), intake_data(customer, [p2, p1]))
    assert response.status_code == 200 and Order.objects.count() == 1
    html = response.content.decode()
    assert first.number in html and 'name="confirm_duplicate"' in html
    # another product set is no duplicate
    other = factories.ProductFactory()
    assert client.post(reverse("orders:create"), intake_data(customer, [p1, other])).status_code == 302
    response = client.post(reverse("orders:create"), intake_data(customer, [p1, p2], confirm_duplicate="on"))
    assert response.status_code == 302 and Order.objects.count() == 3


def test_old_order_is_no_duplicate(client, sales_assistant):
    customer, product = factories.CustomerFactory(), factories.ProductFactory()
    old = factories.make_order(customer=customer, products=[product])
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    client.force_login(sales_assistant)
    assert client.post(reverse("orders:create"), intake_data(customer, [product])).status_code == 302


def test_intake_check_gives_earliest_date_and_duplicates(client, sales_assistant, sales_assistant2):
    customer = factories.CustomerFactory()
    p1, p2 = factories.ProductFactory(lead_time_days=7), factories.ProductFactory(lead_time_days=30)
    mine = factories.make_order(customer=customer, products=[p1])
    factories.make_order(customer=customer, products=[p2], assistant=sales_assistant2)  # not visible
    client.force_login(sales_assistant)
    url = reverse("orders:intake_check")
    data = client.get(url, {"customer": customer.pk, "product": [p1.pk, p2.pk]}).json()
    assert data["earliest_feasible_date"] == factories.days(30).isoformat()
    assert data["duplicates"] == []
    data = client.get(url, {"customer": customer.pk, "product": [p1.pk]}).json()
    assert [d["number"] for d in data["duplicates"]] == [mine.number]
    data = client.get(url, {"customer": customer.pk, "product": [p2.pk]}).json()
    assert data["duplicates"] == []  # another assistant's order stays out of scope
    assert client.get(url, {"customer": "x", "product": ["y"]}).json()["earliest_feasible_date"] is None


@pytest.mark.parametrize("overrides", [
    {"customer": "abc"}, {"customer": "999999"}, {"channel": "pigeon"}, {"contact_phone": ""},
    {"requested_delivery_date": "2020-01-01"}, {"requested_delivery_date": "not-a-date"},
    {"lines-0-quantity": "abc"}, {"lines-0-quantity": "0"}, {"lines-0-unit_price": "-1"},
    {"lines-0-product": "999999"}, {"lines-0-specification": ""}, {"lines-TOTAL_FORMS": "1000"},
])
def test_intake_bad_input_writes_nothing(client, sales_assistant, overrides):
    customer, product = factories.CustomerFactory(), factories.ProductFactory()
    client.force_login(sales_assistant)
    response = client.post(reverse("orders:create"), intake_data(customer, [product], overrides))
    assert response.status_code in (200, 400)
    assert b"errorlist" in response.content or b"alert-error" in response.content
    assert Order.objects.count() == 0


def test_pickers_search_the_api(client, sales_assistant):
    factories.CustomerFactory(name="Zhejiang Valves"), factories.CustomerFactory(name="Other")
    factories.ProductFactory(name="Gate valve DN50")
    client.force_login(sales_assistant)
    html = client.get(reverse("orders:create")).content.decode()
    assert 'data-picker="customers"' in html and 'data-picker="products"' in html
    assert [c["name"] for c in client.get("/api/v1/customers/?search=zhejiang").json()["results"]] == [
        "Zhejiang Valves"]
    assert [p["name"] for p in client.get("/api/v1/products/?search=gate").json()["results"]] == ["Gate valve DN50"]


# --- the list ----------------------------------------------------------------------------------------
@pytest.fixture
def listed(sales_assistant):
    c1 = factories.CustomerFactory(name="Alpha Works")
    c2 = factories.CustomerFactory(name="Beta Foundry")
    a = factories.make_order(customer=c1)
    b = factories.make_order(State.REVIEWED, customer=c2)
    c = factories.make_order(State.REVIEWED, customer=c1)
    Order.objects.filter(pk=c.pk).update(promised_delivery_date=factories.days(-3),
                                         created_at=timezone.now() - datetime.timedelta(days=20))
    Alert.objects.create(order=b, kind=Alert.Kind.AT_RISK)
    return {"a": a, "b": b, "c": c, "c1": c1, "c2": c2}


def numbers(response):
    return [o.number for o in response.context["orders"]]


def test_list_filters(client, sales_assistant, listed):
    client.force_login(sales_assistant)
    url = reverse("orders:list")
    a, b, c = listed["a"], listed["b"], listed["c"]
    assert set(numbers(client.get(url))) == {a.number, b.number, c.number}
    assert set(numbers(client.get(url, {"state": "reviewed"}))) == {b.number, c.number}
    assert set(numbers(client.get(url, {"customer": listed["c1"].pk}))) == {a.number, c.number}
    assert numbers(client.get(url, {"overdue": "1"})) == [c.number]
    assert numbers(client.get(url, {"at_risk": "1"})) == [b.number]
    assert numbers(client.get(url, {"q": "beta"})) == [b.number]
    assert numbers(client.get(url, {"q": c.number})) == [c.number]
    since = factories.days(-5).isoformat()
    assert set(numbers(client.get(url, {"from": since}))) == {a.number, b.number}
    assert numbers(client.get(url, {"to": factories.days(-10).isoformat()})) == [c.number]
    # nonsense values are ignored, never a 500
    response = client.get(url, {"state": "x", "customer": "abc", "from": "bad", "sort": "password", "page": "zz"})
    assert response.status_code == 200 and len(numbers(response)) == 3


def test_list_sorting_is_whitelisted(client, sales_assistant, production_supervisor, listed):
    client.force_login(sales_assistant)
    url = reverse("orders:list")
    assert numbers(client.get(url, {"sort": "customer"}))[-1] == listed["b"].number
    assert numbers(client.get(url, {"sort": "-customer"}))[0] == listed["b"].number
    assert numbers(client.get(url, {"sort": "number"})) == sorted(numbers(client.get(url)))
    client.force_login(production_supervisor)
    # no sorting by amount for a role that may not see prices (it would reveal them)
    response = client.get(url, {"sort": "total"})
    assert response.status_code == 200 and 'data-sort="total"' not in response.content.decode()


def test_export_is_exactly_the_filtered_rows(client, sales_assistant, listed):
    client.force_login(sales_assistant)
    response = client.get(reverse("orders:list"), {"state": "reviewed", "export": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Number" and "Total" in rows[0]
    assert {r[0] for r in rows[1:]} == {listed["b"].number, listed["c"].number}
    response = client.get(reverse("orders:list"), {"q": "alpha", "export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert {r[0] for r in values[1:]} == {listed["a"].number, listed["c"].number}
    assert "Total" in values[0]


def test_export_hides_prices_and_contacts_from_production(client, production_supervisor, listed):
    client.force_login(production_supervisor)
    response = client.get(reverse("orders:list"), {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert "Total" not in rows[0] and "Contact phone" not in rows[0] and "Delivery address" not in rows[0]
    assert {r[0] for r in rows[1:]} == {listed["b"].number, listed["c"].number}  # received is out of scope
    response = client.get(reverse("orders:list"), {"export": "xlsx"})
    header = next(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert "Total" not in header and "Contact name" not in header


def test_list_renders_10000_orders_in_bounded_queries(client, sales_assistant, django_assert_max_num_queries):
    customer = factories.CustomerFactory()
    workshop = factories.WorkshopFactory()
    today = timezone.localdate()
    Order.objects.bulk_create(
        [
            Order(number=f"SO-BULK-{i:06d}", customer=customer, channel="phone", contact_name="c",
                  contact_phone="1", delivery_address="a", requested_delivery_date=today,
                  promised_delivery_date=today - datetime.timedelta(days=i % 3), assistant=sales_assistant,
                  created_by=sales_assistant, workshop=workshop if i % 2 else None,
                  total_amount=Decimal(i))
            for i in range(10_000)
        ],
        batch_size=2000,
    )
    Alert.objects.bulk_create([Alert(order_id=pk, kind="at_risk") for pk in
                               Order.objects.values_list("pk", flat=True)[:500]])
    client.force_login(sales_assistant)
    url = reverse("orders:list")
    for params in ({}, {"page": "200", "sort": "-total"}, {"at_risk": "1", "overdue": "1"}, {"q": "BULK-0099"}):
        with django_assert_max_num_queries(12):
            response = client.get(url, params)
        assert response.status_code == 200
    assert response.context["page"].paginator.count == 100
    assert len(client.get(url).context["orders"]) == 25
