"""The order page's forms for production, logistics and finance (R4.3–R4.5): each posts to its own URL and
writes through the department's service. The right role succeeds; another role gets 403, an order outside
the caller's scope 404, a wrong state 409, bad values 400 with the message; never a 500, nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from finance.models import Invoice, Payment
from logistics.models import Shipment, ShipmentEvent
from orders.models import State
from production.models import Milestone, ProductionIssue, ProductionPlan, ProgressReport
from tests import factories

pytestmark = pytest.mark.django_db


def url(name, order, *args):
    return reverse(f"orders:{name}", args=[order.pk, *args])


def page(client, user, order):
    client.force_login(user)
    response = client.get(url("detail", order))
    assert response.status_code == 200
    return response.content.decode()


def post(client, user, name, order, data, *args):
    client.force_login(user)
    return client.post(url(name, order, *args), data)


def plan_data(workshop, rows, *, total=None) -> dict:
    data = {"workshop": workshop.pk if hasattr(workshop, "pk") else workshop,
            "milestones-TOTAL_FORMS": str(total or max(len(rows), 3)), "milestones-INITIAL_FORMS": "0",
            "milestones-MIN_NUM_FORMS": "0", "milestones-MAX_NUM_FORMS": "30"}
    for i, (name, due, responsible) in enumerate(rows):
        data[f"milestones-{i}-name"] = name
        data[f"milestones-{i}-due_date"] = due if isinstance(due, str) else due.isoformat()
        data[f"milestones-{i}-responsible"] = str(responsible.pk if hasattr(responsible, "pk") else responsible)
    return data


# --- production: the plan --------------------------------------------------------------------------
def test_supervisor_makes_and_replaces_the_plan(client, production_supervisor, production_worker):
    order = factories.make_order(State.REVIEWED)
    workshop = factories.WorkshopFactory()
    html = page(client, production_supervisor, order)
    assert 'id="plan-form"' in html and 'type="date"' in html
    response = post(client, production_supervisor, "plan_save", order, plan_data(workshop, [
        ("materials", factories.days(5), production_worker),
        ("assembly", factories.days(20), production_supervisor),
    ]))
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = ProductionPlan.objects.get(order=order)
    assert plan.workshop == workshop
    assert [(m.name, m.responsible) for m in plan.milestones.all()] == [
        ("materials", production_worker), ("assembly", production_supervisor)]
    html = client.get(url("detail", order)).content.decode()
    assert "The production plan was saved." in html
    # the form shows the plan again, ISO dates in the date inputs
    assert f'value="{factories.days(5).isoformat()}"' in html
    # replacing it
    other = factories.WorkshopFactory()
    response = post(client, production_supervisor, "plan_save", order,
                    plan_data(other, [("all", factories.days(10), production_worker)]))
    assert response.status_code == 302
    plan = ProductionPlan.objects.get(order=order)
    assert plan.workshop == other and plan.milestones.count() == 1
    order.refresh_from_db()
    assert order.workshop == other


@pytest.mark.parametrize("rows, message", [
    ([], "A plan needs at least one milestone."),
    ([("x", "2026-13-45", "worker")], "Enter a valid date."),
    ([("x", "next week", "worker")], "Enter a valid date."),
    ([("x", "days:5", "999999")], "Select a valid choice."),
    ([("x", "days:5", "manager")], "Select a valid choice."),  # not a production user
    ([("", "days:5", "worker")], "This field is required."),
    ([("x", "days:-3", "worker")], "the due date may not be in the past"),
])
def test_plan_bad_values_are_400_and_nothing_is_written(client, production_supervisor, production_worker,
                                                        sales_manager, rows, message):
    order = factories.make_order(State.REVIEWED)
    workshop = factories.WorkshopFactory()
    people = {"worker": production_worker, "manager": sales_manager}
    rows = [(n, factories.days(int(d[5:])) if d.startswith("days:") else d, people.get(r, r)) for n, d, r in rows]
    response = post(client, production_supervisor, "plan_save", order, plan_data(workshop, rows))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'id="department-error"' in html
    if rows and rows[0][0]:
        assert f'value="{rows[0][0]}"' in html  # what was typed stays
    assert not ProductionPlan.objects.filter(order=order).exists()


def test_plan_unknown_or_inactive_workshop_and_missing_fields(client, production_supervisor, production_worker):
    order = factories.make_order(State.REVIEWED)
    rows = [("m", factories.days(5), production_worker)]
    for workshop in ("999999", factories.WorkshopFactory(is_active=False).pk, ""):
        response = post(client, production_supervisor, "plan_save", order, plan_data(workshop, rows))
        assert response.status_code == 400
    response = post(client, production_supervisor, "plan_save", order, {})  # no management form at all
    assert response.status_code == 400
    assert not ProductionPlan.objects.filter(order=order).exists()


def test_plan_wrong_role_scope_and_state(client, production_worker, sales_manager, production_supervisor):
    workshop = factories.WorkshopFactory()
    rows = [("m", factories.days(5), production_worker)]
    order = factories.make_order(State.REVIEWED)
    assert 'id="plan-form"' not in page(client, production_worker, order)
    assert 'id="plan-form"' not in page(client, sales_manager, order)
    for user in (production_worker, sales_manager):
        assert post(client, user, "plan_save", order, plan_data(workshop, rows)).status_code == 403
    received = factories.make_order(State.RECEIVED, submitted=True)  # production does not see it yet
    assert post(client, production_supervisor, "plan_save", received, plan_data(workshop, rows)).status_code == 404
    scheduled = factories.make_order(State.SCHEDULED)
    assert 'id="plan-form"' not in page(client, production_supervisor, scheduled)
    before = list(Milestone.objects.filter(plan__order=scheduled).values_list("pk", flat=True))
    response = post(client, production_supervisor, "plan_save", scheduled, plan_data(workshop, rows))
    assert response.status_code == 409
    assert "A plan is made while the order is reviewed." in response.content.decode()
    assert list(Milestone.objects.filter(plan__order=scheduled).values_list("pk", flat=True)) == before
    assert not ProductionPlan.objects.filter(order=order).exists()
    assert not ProductionPlan.objects.filter(order=received).exists()


# --- production: readiness ---------------------------------------------------------------------------
def test_readiness_toggles(client, production_supervisor, production_worker):
    order = factories.make_order(State.SCHEDULED)
    assert 'id="readiness-form"' in page(client, production_supervisor, order)
    assert 'id="readiness-form"' not in page(client, production_worker, order)
    response = post(client, production_supervisor, "readiness_update", order, {"materials_ready": "on"})
    assert response.status_code == 302
    plan = ProductionPlan.objects.get(order=order)
    assert plan.materials_ready and not plan.equipment_ready
    response = post(client, production_supervisor, "readiness_update", order,
                    {"materials_ready": "on", "equipment_ready": "on"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.materials_ready and plan.equipment_ready
    assert post(client, production_worker, "readiness_update", order, {}).status_code == 403
    plan.refresh_from_db()
    assert plan.materials_ready and plan.equipment_ready


def test_readiness_wrong_state_and_no_plan(client, production_supervisor):
    producing = factories.make_order(State.PRODUCING)
    assert 'id="readiness-form"' not in page(client, production_supervisor, producing)
    assert post(client, production_supervisor, "readiness_update", producing, {}).status_code == 409
    plan = ProductionPlan.objects.get(order=producing)
    assert plan.materials_ready and plan.equipment_ready
    unplanned = factories.make_order(State.REVIEWED)
    assert 'id="readiness-form"' not in page(client, production_supervisor, unplanned)
    assert post(client, production_supervisor, "readiness_update", unplanned, {"materials_ready": "on"}).status_code \
        == 409


# --- production: progress ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["production_supervisor", "production_worker"])
def test_progress_is_reported(client, role, request):
    user = request.getfixturevalue(role)
    order = factories.make_order(State.PRODUCING)
    assert 'id="progress-form"' in page(client, user, order)
    response = post(client, user, "progress_add", order, {"percent_complete": "60", "note": "frames welded"})
    assert response.status_code == 302
    report = ProgressReport.objects.get(order=order)
    assert (report.percent_complete, report.note, report.reported_by) == (60, "frames welded", user)
    html = client.get(url("detail", order)).content.decode()
    assert "Progress: 60%" in html


@pytest.mark.parametrize("value, message", [
    ("150", "less than or equal to 100"), ("-1", "greater than or equal to 0"), ("abc", "Enter a whole number."),
    ("", "This field is required."), ("12.5", "Enter a whole number."),
])
def test_progress_bad_values(client, production_worker, value, message):
    order = factories.make_order(State.PRODUCING)
    response = post(client, production_worker, "progress_add", order, {"percent_complete": value, "note": "typed"})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "typed</textarea>" in html
    assert not ProgressReport.objects.filter(order=order).exists()


def test_progress_wrong_role_scope_state(client, logistics_specialist, sales_manager, production_worker):
    order = factories.make_order(State.PRODUCING)
    for user in (logistics_specialist, sales_manager):
        assert 'id="progress-form"' not in page(client, user, order)
        assert post(client, user, "progress_add", order, {"percent_complete": "50"}).status_code == 403
    received = factories.make_order(State.RECEIVED)
    assert post(client, production_worker, "progress_add", received, {"percent_complete": "50"}).status_code == 404
    scheduled = factories.make_order(State.SCHEDULED)
    assert 'id="progress-form"' not in page(client, production_worker, scheduled)
    response = post(client, production_worker, "progress_add", scheduled, {"percent_complete": "50"})
    assert response.status_code == 409
    assert "Progress is reported while the order is producing." in response.content.decode()
    assert not ProgressReport.objects.filter(order__in=[order, received, scheduled]).exists()


# --- production: issues ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["production_worker", "production_supervisor", "sales_manager", "sales_assistant"])
def test_issues_are_opened_by_production_and_sales(client, role, request):
    user = request.getfixturevalue(role)
    order = factories.make_order(State.PRODUCING)
    assert 'id="issue-form"' in page(client, user, order)
    response = post(client, user, "issue_add", order, {"kind": "delay", "description": "paint late"})
    assert response.status_code == 302
    issue = ProductionIssue.objects.get(order=order)
    assert (issue.kind, issue.description, issue.opened_by) == ("delay", "paint late", user)


def test_issue_bad_values_role_scope_state(client, production_worker, logistics_specialist, sales_assistant2,
                                           finance_manager):
    order = factories.make_order(State.PRODUCING)
    for data in ({"kind": "fire", "description": "x"}, {"kind": "delay", "description": "  "}, {}):
        assert post(client, production_worker, "issue_add", order, data).status_code == 400
    for user in (logistics_specialist, finance_manager):
        assert 'id="issue-form"' not in page(client, user, order)
        assert post(client, user, "issue_add", order, {"kind": "delay", "description": "x"}).status_code == 403
    # another assistant's order is outside the assistant's scope
    assert post(client, sales_assistant2, "issue_add", order, {"kind": "delay", "description": "x"}).status_code \
        == 404
    accepted = factories.make_order(State.ACCEPTED)
    assert 'id="issue-form"' not in page(client, production_worker, accepted)
    response = post(client, production_worker, "issue_add", accepted, {"kind": "quality", "description": "x"})
    assert response.status_code == 409
    assert not ProductionIssue.objects.exists()


def test_issue_is_resolved(client, production_worker, production_supervisor, sales_manager):
    order = factories.make_order(State.PRODUCING)
    post(client, production_worker, "issue_add", order, {"kind": "quality", "description": "scratches"})
    issue = ProductionIssue.objects.get(order=order)
    assert url("issue_resolve", order, issue.pk) not in page(client, production_worker, order)
    assert post(client, production_worker, "issue_resolve", order, {"resolution": "x"}, issue.pk).status_code == 403
    html = page(client, production_supervisor, order)
    assert url("issue_resolve", order, issue.pk) in html
    response = post(client, production_supervisor, "issue_resolve", order, {"resolution": " "}, issue.pk)
    assert response.status_code == 400
    issue.refresh_from_db()
    assert issue.is_open
    response = post(client, production_supervisor, "issue_resolve", order, {"resolution": "polished"}, issue.pk)
    assert response.status_code == 302
    issue.refresh_from_db()
    assert not issue.is_open and issue.resolution == "polished" and issue.resolved_by == production_supervisor
    # once resolved: no form, and resolving again is a conflict
    assert url("issue_resolve", order, issue.pk) not in page(client, sales_manager, order)
    response = post(client, sales_manager, "issue_resolve", order, {"resolution": "again"}, issue.pk)
    assert response.status_code == 409
    issue.refresh_from_db()
    assert issue.resolution == "polished"
    # an issue of another order through this order's URL
    other = factories.make_order(State.PRODUCING)
    assert post(client, sales_manager, "issue_resolve", other, {"resolution": "x"}, issue.pk).status_code == 404


def test_issue_badge_does_not_stretch_across_the_row(client, production_worker):
    order = factories.make_order(State.PRODUCING)
    post(client, production_worker, "issue_add", order, {"kind": "delay", "description": "late"})
    html = page(client, production_worker, order)
    # the pill sits inside the row's first cell, not as a grid item of its own
    assert '<li data-issue="' in html
    assert '<div><span class="badge badge-danger">' in html


# --- logistics -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["logistics_specialist", "logistics_supervisor"])
def test_shipment_is_recorded_and_tracked(client, role, request):
    user = request.getfixturevalue(role)
    order = factories.make_order(State.PRODUCING)
    html = page(client, user, order)
    assert 'id="shipment-form"' in html
    response = post(client, user, "shipment_add", order, {
        "carrier": "SF Express", "tracking_number": "SF123", "expected_arrival": factories.days(4).isoformat()})
    assert response.status_code == 302
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number, shipment.expected_arrival) == (
        "SF Express", "SF123", factories.days(4))
    html = client.get(url("detail", order)).content.decode()
    assert "SF123" in html and url("shipment_event_add", order, shipment.pk) in html
    assert 'value="returned"' not in html  # returned is not set by hand
    response = post(client, user, "shipment_event_add", order,
                    {"status": "in_transit", "location": "Hangzhou hub", "note": "on time"}, shipment.pk)
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"
    assert ShipmentEvent.objects.filter(shipment=shipment, status="in_transit", location="Hangzhou hub").exists()


@pytest.mark.parametrize("data, message", [
    ({"carrier": "", "tracking_number": "T1"}, "This field is required."),
    ({"carrier": "SF", "tracking_number": "  "}, "This field is required."),
    ({"carrier": "SF", "tracking_number": "T1", "expected_arrival": "31/12/2026"}, "Enter a valid date."),
    ({}, "This field is required."),
])
def test_shipment_bad_values(client, logistics_specialist, data, message):
    order = factories.make_order(State.PRODUCING)
    response = post(client, logistics_specialist, "shipment_add", order, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    if data.get("carrier"):
        assert f'value="{data["carrier"]}"' in html
    assert not Shipment.objects.filter(order=order).exists()


def test_shipment_wrong_role_scope_state(client, logistics_specialist, production_supervisor, finance_manager):
    data = {"carrier": "SF", "tracking_number": "T1"}
    order = factories.make_order(State.PRODUCING)
    for user in (production_supervisor, finance_manager):
        assert 'id="shipment-form"' not in page(client, user, order)
        assert post(client, user, "shipment_add", order, data).status_code == 403
    reviewed = factories.make_order(State.REVIEWED)  # logistics sees orders from scheduled on
    assert post(client, logistics_specialist, "shipment_add", reviewed, data).status_code == 404
    scheduled = factories.make_order(State.SCHEDULED)
    assert 'id="shipment-form"' not in page(client, logistics_specialist, scheduled)
    response = post(client, logistics_specialist, "shipment_add", scheduled, data)
    assert response.status_code == 409
    assert not Shipment.objects.exists()


def test_shipment_event_bad_values_role_and_scope(client, logistics_specialist, production_supervisor):
    order = factories.make_order(State.PRODUCING)
    cast = factories.Cast(logistics_specialist=logistics_specialist)
    shipment = factories.record_shipment(order, cast)
    events = ShipmentEvent.objects.count()
    for data in ({"status": "returned"}, {"status": "teleported"}, {}):
        response = post(client, logistics_specialist, "shipment_event_add", order, data, shipment.pk)
        assert response.status_code == 400
        assert "Select a valid choice." in response.content.decode() or "This field is required." in \
            response.content.decode()
    assert url("shipment_event_add", order, shipment.pk) not in page(client, production_supervisor, order)
    response = post(client, production_supervisor, "shipment_event_add", order, {"status": "arrived"}, shipment.pk)
    assert response.status_code == 403
    other = factories.make_order(State.PRODUCING)
    response = post(client, logistics_specialist, "shipment_event_add", other, {"status": "arrived"}, shipment.pk)
    assert response.status_code == 404
    response = post(client, logistics_specialist, "shipment_event_add", order, {"status": "arrived"}, 999999)
    assert response.status_code == 404
    assert ShipmentEvent.objects.count() == events
    shipment.refresh_from_db()
    assert shipment.status == "preparing"


# --- finance ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["finance_specialist", "finance_manager"])
def test_invoice_and_payment_are_recorded(client, role, request):
    user = request.getfixturevalue(role)
    order = factories.make_order(State.SHIPPED)
    html = page(client, user, order)
    assert 'id="invoice-form"' in html and 'id="payment-form"' not in html
    assert 'id="to-invoice"' in html and "1,000.00" in html  # the order total still to invoice
    response = post(client, user, "invoice_add", order, {"amount": "600.00", "due_date": factories.days(30)})
    assert response.status_code == 302
    invoice = Invoice.objects.get(order=order)
    assert (invoice.amount, invoice.due_date, invoice.issued_by) == (Decimal("600.00"), factories.days(30), user)
    html = client.get(url("detail", order)).content.decode()
    assert "Still to invoice: 400.00" in html
    assert 'id="payment-form"' in html and "Outstanding on the invoices: 600.00" in html
    response = post(client, user, "payment_add", order, {
        "invoice": invoice.pk, "amount": "250.00", "received_on": factories.today().isoformat(),
        "reference": "BANK-1"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("250.00")
    assert Payment.objects.get(invoice=invoice).reference == "BANK-1"


@pytest.mark.parametrize("data, message", [
    ({"amount": "-5", "due_date": "days:30"}, "greater than or equal to 0.01"),
    ({"amount": "0", "due_date": "days:30"}, "greater than or equal to 0.01"),
    ({"amount": "abc", "due_date": "days:30"}, "Enter a number."),
    ({"amount": "1000.01", "due_date": "days:30"}, "Invoices may not exceed the order total"),
    ({"amount": "100", "due_date": "2026-02-30"}, "Enter a valid date."),
    ({"amount": "100"}, "This field is required."),
])
def test_invoice_bad_values(client, finance_specialist, data, message):
    order = factories.make_order(State.SHIPPED)
    data = {k: factories.days(int(v[5:])).isoformat() if v.startswith("days:") else v for k, v in data.items()}
    response = post(client, finance_specialist, "invoice_add", order, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'value="{data["amount"]}"' in html
    assert not Invoice.objects.filter(order=order).exists()


def test_invoice_wrong_role_scope_state(client, finance_specialist, sales_manager, auditor, logistics_specialist):
    data = {"amount": "100", "due_date": factories.days(30).isoformat()}
    order = factories.make_order(State.SHIPPED)
    for user in (sales_manager, auditor):
        assert 'id="invoice-form"' not in page(client, user, order)
        assert post(client, user, "invoice_add", order, data).status_code == 403
    reviewed = factories.make_order(State.REVIEWED)
    assert post(client, logistics_specialist, "invoice_add", reviewed, data).status_code == 404
    received = factories.make_order(State.RECEIVED)
    assert 'id="invoice-form"' not in page(client, finance_specialist, received)
    response = post(client, finance_specialist, "invoice_add", received, data)
    assert response.status_code == 409
    settled = factories.make_order(State.SETTLED)
    assert post(client, finance_specialist, "invoice_add", settled, data).status_code == 409
    assert not Invoice.objects.filter(order__in=[order, reviewed, received]).exists()
    assert Invoice.objects.filter(order=settled).count() == 1


def test_payment_bad_values_role_and_scope(client, finance_specialist, sales_manager, logistics_specialist):
    order = factories.make_order(State.SHIPPED)
    cast = factories.Cast(finance_specialist=finance_specialist)
    invoice = factories.invoice_and_pay(order, cast, pay=False, amount=Decimal("500.00"))
    other_order = factories.make_order(State.SHIPPED)
    other_invoice = factories.invoice_and_pay(other_order, cast, pay=False)
    good = {"invoice": invoice.pk, "amount": "100", "received_on": factories.today().isoformat(), "reference": "R"}
    cases = [
        ({"amount": "500.01"}, "exceeds the invoice"),
        ({"amount": "-1"}, "greater than or equal to 0.01"),
        ({"invoice": "999999"}, "Select a valid choice."),
        ({"invoice": other_invoice.pk}, "Select a valid choice."),  # another order's invoice
        ({"received_on": factories.days(3).isoformat()}, "The date may not be in the future."),
        ({"received_on": "yesterday"}, "Enter a valid date."),
        ({"reference": ""}, "This field is required."),
    ]
    for change, message in cases:
        response = post(client, finance_specialist, "payment_add", order, {**good, **change})
        assert response.status_code == 400, change
        assert message in response.content.decode(), change
    assert 'id="payment-form"' not in page(client, sales_manager, order)
    assert post(client, sales_manager, "payment_add", order, good).status_code == 403
    assert post(client, logistics_specialist, "payment_add", order, good).status_code == 403
    assert not Payment.objects.exists()
    # fully paid: the form is gone and the invoice is no longer a choice
    assert post(client, finance_specialist, "payment_add", order, {**good, "amount": "500"}).status_code == 302
    assert 'id="payment-form"' not in page(client, finance_specialist, order)
    assert post(client, finance_specialist, "payment_add", order, good).status_code == 400
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("500.00")


def test_payment_outside_scope_is_404(client, sales_assistant2, finance_specialist):
    order = factories.make_order(State.SHIPPED)
    invoice = factories.invoice_and_pay(order, factories.Cast(finance_specialist=finance_specialist), pay=False)
    response = post(client, sales_assistant2, "payment_add", order, {
        "invoice": invoice.pk, "amount": "1", "received_on": factories.today().isoformat(), "reference": "R"})
    assert response.status_code == 404
    assert not Payment.objects.exists()


# --- who sees which form; the page stays bounded ----------------------------------------------------------
FORMS = ("plan-form", "readiness-form", "progress-form", "issue-form", "shipment-form", "invoice-form",
         "payment-form")


@pytest.mark.parametrize("role, state, shown", [
    ("auditor", State.PRODUCING, set()),
    ("sales_assistant", State.PRODUCING, {"issue-form"}),
    ("production_worker", State.PRODUCING, {"progress-form", "issue-form"}),
    ("production_supervisor", State.REVIEWED, {"plan-form", "issue-form"}),
    ("production_supervisor", State.SCHEDULED, {"readiness-form", "issue-form"}),
    ("logistics_specialist", State.SHIPPED, set()),  # everything is on shipments: nothing left to record
    ("finance_manager", State.ACCEPTED, {"invoice-form"}),
    ("finance_manager", State.SETTLED, set()),
])
def test_forms_render_only_for_roles_that_may_use_them(client, role, state, shown, request):
    user = request.getfixturevalue(role)
    order = factories.make_order(state)
    html = page(client, user, order)
    assert {f for f in FORMS if f'id="{f}"' in html} == shown


def test_detail_page_queries_do_not_grow_with_the_department_records(client, django_assert_max_num_queries):
    cast = factories.Cast()
    user = factories.superuser()  # every form shows

    def build(n):
        order = factories.make_order(State.PRODUCING, cast=cast)
        for i in range(n):
            factories.record_shipment(order, cast, lines=factories.part_of(order, 1))  # partial shipments
            ProductionIssue.objects.create(order=order, kind="delay", description=f"d{i}", opened_by=user)
            factories.invoice_and_pay(order, cast, pay=False, amount=Decimal("1.00"))
        return order

    small, big = build(1), build(6)
    client.force_login(user)
    client.get(url("detail", small))
    counts = []
    for order in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("detail", order)).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
