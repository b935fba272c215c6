"""Every KPI formula (R6.3) on a known data set, with hand-computed expected numbers."""

import datetime
from decimal import Decimal

import pytest

from orders import services as order_services
from orders.models import Order
from production import services as production
from supervision import services
from supervision.models import CheckItem
from tests import factories
from tests.factories import Cast, days, make_order, receipt_data, run, today
from tests.supervision.conftest import shift
from tests.utils import call

pytestmark = pytest.mark.django_db


def kpis(client, **params):
    return call(client, "get", "/kpis/", params, expect=200)


@pytest.fixture
def accuracy_world(sales_assistant, sales_assistant2, sales_manager):
    """A: 5 submitted (1 accurate, 1 returned, 1 corrected after submission, 1 still waiting, 1 with a check
    error); B: 1 accurate. Expected: A 1/4 = 0.25, B 1/1 = 1.0, team 2/5 = 0.4."""
    cast_b = Cast(owner=sales_assistant2)
    a_clean = make_order("reviewed", assistant=sales_assistant)
    a_returned = make_order("received", assistant=sales_assistant, submitted=True)
    run(a_returned, "return", sales_manager, comment="spec unclear")
    run(a_returned, "submit", sales_assistant)
    run(a_returned, "approve", sales_manager, comment="ok now")
    a_corrected = make_order("received", assistant=sales_assistant, submitted=True)
    order_services.update_order(user=sales_assistant, order_id=a_corrected.pk, data={"contact_name": "Someone Else"})
    run(a_corrected, "submit", sales_assistant)
    run(a_corrected, "approve", sales_manager, comment="ok")
    a_waiting = make_order("received", assistant=sales_assistant, submitted=True)
    a_checked = make_order("reviewed", assistant=sales_assistant)
    check = services.create_periodic_check(
        user=sales_manager, assistant_id=sales_assistant.pk, period_start=days(-1), period_end=today(),
        sample_size=50, seed=7,
    )
    item = check.items.get(order=a_checked)
    services.record_check_outcome(user=sales_manager, item_id=item.pk, outcome="error",
                                  error_description="wrong delivery address", loss_amount="1234.50")
    b_clean = make_order("reviewed", assistant=sales_assistant2, cast=cast_b)
    # review turnaround: a_clean waited 10 h, a_returned 20 h (after its last submission), b_clean 6 h
    for order, waited in ((a_clean, 10), (a_returned, 20), (a_corrected, 30), (a_checked, 40), (b_clean, 6)):
        order = Order.objects.get(pk=order.pk)
        shift(order, submitted_at=order.approved_at - datetime.timedelta(hours=waited))
    return {"a_waiting": a_waiting, "a_clean": a_clean}


def test_accuracy_turnaround_and_losses_per_assistant_and_team(api_client_for, sales_manager, sales_assistant,
                                                               sales_assistant2, accuracy_world):
    body = kpis(api_client_for(sales_manager), start=days(-1).isoformat(), end=today().isoformat())
    # team: accurate 2 (a_clean, b_clean) of decided 5 (a_waiting not decided)
    assert body["counts"]["orders_submitted"] == 6
    assert body["counts"]["orders_decided"] == 5
    assert body["counts"]["orders_accurate"] == 2
    assert body["counts"]["orders_returned"] == 1
    assert body["counts"]["orders_corrected"] == 2
    assert body["accuracy_rate"] == 0.4
    # turnaround: (10 + 20 + 30 + 40 + 6) / 5 = 21.2 h
    assert body["review_turnaround_hours"] == pytest.approx(21.2, abs=0.01)
    assert body["recorded_loss"] == "1234.50"
    assert body["errors_found"] == 1
    assert body["satisfaction"] is None
    assert body["survey_response_rate"] is None
    assert body["complaint_count"] == 0
    rows = {r["username"]: r for r in body["by_assistant"]}
    assert rows["sales_assistant"]["accuracy_rate"] == 0.25
    assert rows["sales_assistant"]["review_turnaround_hours"] == pytest.approx(25.0, abs=0.01)  # (10+20+30+40)/4
    assert rows["sales_assistant"]["recorded_loss"] == "1234.50"
    assert rows["sales_assistant2"]["accuracy_rate"] == 1.0
    assert rows["sales_assistant2"]["review_turnaround_hours"] == pytest.approx(6.0, abs=0.01)
    assert rows["sales_assistant2"]["recorded_loss"] == "0.00"
    assert body["series"] and body["series"][-1]["orders_submitted"] >= 1

    one = kpis(api_client_for(sales_manager), start=days(-1).isoformat(), end=today().isoformat(),
               assistant=sales_assistant.pk)
    assert one["assistant"] == sales_assistant.pk
    assert one["accuracy_rate"] == 0.25
    assert [r["username"] for r in one["by_assistant"]] == ["sales_assistant"]


def test_the_period_selects_by_first_submission(api_client_for, sales_manager, accuracy_world):
    body = kpis(api_client_for(sales_manager), start=days(-30).isoformat(), end=days(-2).isoformat())
    assert body["counts"]["orders_submitted"] == 0
    assert body["accuracy_rate"] is None  # nothing to rate: null, not 0
    assert body["review_turnaround_hours"] is None


def test_an_edit_after_submission_is_a_correction_but_a_reassignment_is_not(api_client_for, sales_manager,
                                                                             sales_assistant, sales_assistant2):
    order = make_order("received", assistant=sales_assistant, submitted=True)
    order_services.reassign_order(user=sales_manager, order_id=order.pk, assistant=sales_assistant2)
    run(order, "approve", sales_manager, comment="ok")
    body = kpis(api_client_for(sales_manager), start=today().isoformat(), end=today().isoformat())
    assert body["counts"]["orders_accurate"] == 1 and body["accuracy_rate"] == 1.0


def test_production_assigning_a_workshop_is_not_a_correction(api_client_for, sales_manager, sales_assistant):
    """Planning records a `workshop` field change after approval; the assistant's work was still right."""
    order = make_order("scheduled", assistant=sales_assistant)
    assert order.changes.filter(field="workshop").exists()
    body = kpis(api_client_for(sales_manager), start=today().isoformat(), end=today().isoformat())
    assert body["counts"]["orders_corrected"] == 0
    assert body["counts"]["orders_accurate"] == 1 and body["accuracy_rate"] == 1.0


@pytest.fixture
def delivery_world(sales_assistant, sales_manager):
    """Promised dates in the period [today-10, today+60]:
    d_on_time: accepted today, promised +45            → due, on time, in full
    d_late: accepted today, promised yesterday         → due, late
    d_open_late: producing, promised 2 days ago        → due, late (not delivered)
    d_future: producing, promised +45                  → not due yet (excluded)
    d_rework: delivery rejected once, then accepted    → due, on time, NOT in full
    d_cancelled: cancelled after approval, promised −3 → excluded
    d_outside: accepted, promised +90 (outside period) → excluded
    Expected: due 4, on time 2 → 0.5; on time in full 1 → 0.25.
    """
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    make_order("accepted", cast=cast)
    d_late = make_order("accepted", cast=cast)
    shift(d_late, promised_delivery_date=days(-1))
    d_open_late = make_order("producing", cast=cast)
    shift(d_open_late, promised_delivery_date=days(-2))
    make_order("producing", cast=cast)
    d_rework = make_order("shipped", cast=cast)
    run(d_rework, "reject_delivery", sales_assistant, comment="scratched")
    issue = d_rework.production_issues.get(kind="quality", resolved_at__isnull=True)
    production.resolve_issue(user=cast.production_supervisor, issue_id=issue.pk, resolution="reworked")
    production.report_progress(user=cast.production_worker, order_id=d_rework.pk, percent_complete=100)
    factories.record_shipment(d_rework, cast)
    run(d_rework, "ship", cast.logistics_specialist, comment="again")
    run(d_rework, "accept", sales_assistant, comment="ok", **receipt_data())
    d_cancelled = make_order("reviewed", cast=cast)
    run(d_cancelled, "cancel", sales_manager, comment="withdrawn")
    shift(d_cancelled, promised_delivery_date=days(-3))
    d_outside = make_order("accepted", cast=cast, requested_delivery_date=days(90))
    assert Order.objects.get(pk=d_outside.pk).promised_delivery_date == days(90)


def test_on_time_and_on_time_in_full(api_client_for, sales_manager, delivery_world):
    body = kpis(api_client_for(sales_manager), start=days(-10).isoformat(), end=days(60).isoformat())
    assert body["counts"]["orders_due"] == 4
    assert body["counts"]["orders_on_time"] == 2
    assert body["counts"]["orders_on_time_in_full"] == 1
    assert body["on_time_delivery_rate"] == 0.5
    assert body["on_time_in_full_rate"] == 0.25


def test_check_correct_outcome_keeps_the_order_accurate(api_client_for, sales_manager, sales_assistant):
    order = make_order("reviewed", assistant=sales_assistant)
    check = services.create_periodic_check(user=sales_manager, assistant_id=sales_assistant.pk,
                                           period_start=today(), period_end=today(), sample_size=1, seed=1)
    item = check.items.get()
    services.record_check_outcome(user=sales_manager, item_id=item.pk, outcome="correct")
    assert CheckItem.objects.get(pk=item.pk).outcome == "correct"
    body = kpis(api_client_for(sales_manager), start=today().isoformat(), end=today().isoformat())
    assert body["accuracy_rate"] == 1.0 and body["recorded_loss"] == "0.00"
    assert order.pk == item.order_id


# --- scope and bad input ---------------------------------------------------------------
def test_assistant_sees_only_own_kpis(api_client_for, sales_assistant, sales_assistant2, accuracy_world):
    client = api_client_for(sales_assistant2)
    body = kpis(client, start=days(-1).isoformat(), end=today().isoformat())
    assert body["assistant"] == sales_assistant2.pk
    assert body["accuracy_rate"] == 1.0  # only B's own order
    assert [r["username"] for r in body["by_assistant"]] == ["sales_assistant2"]
    refused = call(client, "get", "/kpis/", {"assistant": sales_assistant.pk}, expect=403)
    assert refused["code"] == "permission_denied"


@pytest.mark.parametrize("role", ["production_supervisor", "logistics_specialist", "finance_manager",
                                  "production_worker"])
def test_other_roles_may_not_see_kpis(api_client_for, role):
    call(api_client_for(factories.user_with_role(role)), "get", "/kpis/", expect=403)


def test_auditor_sees_kpis(api_client_for, auditor):
    assert "accuracy_rate" in kpis(api_client_for(auditor))


def test_anonymous_is_refused(api_client):
    assert api_client.get("/api/v1/kpis/").status_code in (401, 403)


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-13-01"},
        {"end": "yesterday"},
        {"start": "2026-05-02", "end": "2026-05-01"},
        {"assistant": "abc"},
        {"assistant": "0"},
        {"assistant": "999999"},
        {"series": "year"},
        {"start": "1990-01-01", "end": "2026-01-01"},
    ],
)
def test_bad_input_is_a_400(api_client_for, sales_manager, params):
    response = api_client_for(sales_manager).get("/api/v1/kpis/", params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and body["detail"]


def test_a_non_assistant_id_is_a_400(api_client_for, sales_manager, finance_manager):
    call(api_client_for(sales_manager), "get", "/kpis/", {"assistant": finance_manager.pk}, expect=400)


def test_defaults_cover_the_last_90_days(api_client_for, sales_manager):
    body = kpis(api_client_for(sales_manager))
    assert body["end"] == today().isoformat()
    assert body["start"] == (today() - datetime.timedelta(days=89)).isoformat()
    assert Decimal(body["recorded_loss"]) == 0
