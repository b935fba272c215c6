"""The manager's periodic check (R6.1): a reproducible random sample, outcomes, losses (R6.3), scope, bad input."""

from decimal import Decimal

import pytest

from supervision import services
from supervision.models import CheckItem, PeriodicCheck
from tests import factories
from tests.factories import days, make_order, today
from tests.utils import call

pytestmark = pytest.mark.django_db


@pytest.fixture
def six_orders(sales_assistant, sales_assistant2):
    mine = [make_order("reviewed", assistant=sales_assistant) for _ in range(5)]
    make_order("received", assistant=sales_assistant)  # never submitted: not sampled
    make_order("reviewed", cast=factories.Cast(owner=sales_assistant2))  # someone else's
    return mine


def test_the_sample_is_reproducible_from_its_stored_seed(sales_manager, sales_assistant, six_orders):
    check = services.create_periodic_check(user=sales_manager, assistant_id=sales_assistant.pk,
                                           period_start=days(-7), period_end=today(), sample_size=3, seed=42)
    sampled = sorted(check.items.values_list("order_id", flat=True))
    assert len(sampled) == 3 and set(sampled) <= {o.pk for o in six_orders}
    assert check.population == 5 and check.seed == 42
    assert services.draw_sample(check=check) == sampled
    again = services.create_periodic_check(user=sales_manager, assistant_id=sales_assistant.pk,
                                           period_start=days(-7), period_end=today(), sample_size=3, seed=42)
    assert sorted(again.items.values_list("order_id", flat=True)) == sampled
    # a sample bigger than the population takes every order; without a seed one is chosen and stored
    whole = services.create_periodic_check(user=sales_manager, assistant_id=sales_assistant.pk,
                                           period_start=days(-7), period_end=today(), sample_size=50)
    assert whole.items.count() == 5 and whole.seed is not None


def test_api_create_and_record_outcomes(api_client_for, sales_manager, sales_assistant, six_orders):
    client = api_client_for(sales_manager)
    body = call(client, "post", "/supervision/checks/", {
        "assistant": sales_assistant.pk, "period_start": days(-7).isoformat(), "period_end": today().isoformat(),
        "sample_size": 2, "seed": 5}, expect=201)
    assert body["seed"] == 5 and len(body["items"]) == 2
    first, second = body["items"]
    ok = call(client, "post", f"/supervision/checks/items/{first['id']}/outcome/", {"outcome": "correct"}, expect=200)
    assert ok["outcome"] == "correct"
    err = call(client, "post", f"/supervision/checks/items/{second['id']}/outcome/", {
        "outcome": "error", "error_description": "wrong unit price on line 1", "loss_amount": "880.00"}, expect=200)
    assert err["responsible"] == sales_assistant.pk and err["loss_amount"] == "880.00"
    listed = call(client, "get", "/supervision/checks/", expect=200)
    assert listed["results"][0]["id"] == body["id"]
    kpi = call(client, "get", "/kpis/", {"start": today().isoformat(), "end": today().isoformat(),
                                        "assistant": sales_assistant.pk}, expect=200)
    assert kpi["recorded_loss"] == "880.00" and kpi["errors_found"] == 1
    assert kpi["counts"]["orders_accurate"] == 4 and kpi["accuracy_rate"] == 0.8  # 4 of 5 decided


@pytest.mark.parametrize(
    "payload",
    [
        {"sample_size": 0},
        {"sample_size": 500},
        {"period_start": "2026-02-30"},
        {"period_start": "2030-01-02", "period_end": "2030-01-01"},
        {"assistant": "nobody"},
        {"seed": -1},
    ],
)
def test_bad_check_input_is_a_400_and_writes_nothing(api_client_for, sales_manager, sales_assistant, payload):
    data = {"assistant": sales_assistant.pk, "period_start": days(-7).isoformat(), "period_end": today().isoformat(),
            "sample_size": 2, **payload}
    body = call(api_client_for(sales_manager), "post", "/supervision/checks/", data, expect=400)
    assert body["code"] in ("invalid", "empty_population")
    assert not PeriodicCheck.objects.exists()


def test_service_refuses_bad_values(sales_manager, sales_assistant, finance_manager, six_orders):
    from orderdesk.errors import InvalidInput

    for kwargs in ({"assistant_id": finance_manager.pk}, {"period_start": days(1), "period_end": days(2)},
                   {"period_start": days(-30), "period_end": days(-20)}):
        args = {"user": sales_manager, "assistant_id": sales_assistant.pk, "period_start": days(-7),
                "period_end": today(), "sample_size": 2, **kwargs}
        with pytest.raises(InvalidInput):
            services.create_periodic_check(**args)
    assert not PeriodicCheck.objects.exists()


def test_outcome_bad_input(api_client_for, sales_manager, sales_assistant, six_orders):
    check = services.create_periodic_check(user=sales_manager, assistant_id=sales_assistant.pk,
                                           period_start=days(-7), period_end=today(), sample_size=1, seed=1)
    item = check.items.get()
    client = api_client_for(sales_manager)
    url = f"/supervision/checks/items/{item.pk}/outcome/"
    call(client, "post", url, {"outcome": "error"}, expect=400)  # what was wrong?
    call(client, "post", url, {"outcome": "maybe"}, expect=400)
    call(client, "post", url, {"outcome": "correct", "loss_amount": "10"}, expect=400)
    call(client, "post", url, {"outcome": "error", "error_description": "x", "loss_amount": "-1"}, expect=400)
    call(client, "post", "/supervision/checks/items/999999/outcome/", {"outcome": "correct"}, expect=404)
    item.refresh_from_db()
    assert item.outcome == CheckItem.Outcome.PENDING and item.loss_amount == Decimal("0.00")


def test_scope_of_checks(api_client_for, auditor, sales_assistant, sales_manager, six_orders):
    check = services.create_periodic_check(user=sales_manager, assistant_id=sales_assistant.pk,
                                           period_start=days(-7), period_end=today(), sample_size=1, seed=1)
    call(api_client_for(auditor), "get", "/supervision/checks/", expect=200)
    call(api_client_for(auditor), "post", "/supervision/checks/", {}, expect=403)
    call(api_client_for(sales_assistant), "get", "/supervision/checks/", expect=403)
    item = check.items.get()
    call(api_client_for(sales_assistant), "post", f"/supervision/checks/items/{item.pk}/outcome/",
         {"outcome": "correct"}, expect=403)


def test_check_pages(client, sales_manager, sales_assistant, six_orders):
    client.force_login(sales_manager)
    assert client.get("/supervision/checks/").status_code == 200
    answer = client.post("/supervision/checks/", {"assistant": sales_assistant.pk, "period_start": days(-7),
                                                  "period_end": today(), "sample_size": 2, "seed": 9})
    assert answer.status_code == 302
    check = PeriodicCheck.objects.get()
    page = client.get(answer["Location"])
    assert page.status_code == 200 and str(check.seed) in page.content.decode()
    item = check.items.first()
    client.post(f"/supervision/checks/{check.pk}/items/{item.pk}/",
                {"outcome": "error", "error_description": "missing contact", "loss_amount": "12.50"})
    item.refresh_from_db()
    assert item.outcome == "error" and item.loss_amount == Decimal("12.50") and item.responsible == sales_assistant
    bad = client.post("/supervision/checks/", {"assistant": sales_assistant.pk, "period_start": "x",
                                               "period_end": today(), "sample_size": 2})
    assert bad.status_code == 400 and PeriodicCheck.objects.count() == 1
    client.force_login(sales_assistant)
    assert client.get("/supervision/checks/").status_code == 403


def test_demo_seed_is_idempotent(sales_manager, sales_assistant, six_orders):
    import io

    from supervision import demo

    out = io.StringIO()
    first = demo.seed(out)
    assert first is not None and first.items.count() == 5 and "periodic check" in out.getvalue()
    assert demo.seed(out) == first and PeriodicCheck.objects.count() == 1
    assert first.items.filter(outcome="error").count() == 1


def test_admin_lists_checks_read_only(client, superuser, sales_manager, sales_assistant, six_orders):
    check = services.create_periodic_check(user=sales_manager, assistant_id=sales_assistant.pk,
                                           period_start=days(-7), period_end=today(), sample_size=2, seed=3)
    client.force_login(superuser)
    assert client.get("/admin/supervision/periodiccheck/").status_code == 200
    assert client.get(f"/admin/supervision/periodiccheck/{check.pk}/change/").status_code == 200
    assert client.get("/admin/supervision/checkitem/").status_code == 200
    assert client.get("/admin/supervision/periodiccheck/add/").status_code == 403
