"""Allowed role, right state, conditions unmet → 400 naming each unmet condition (DESIGN §4, §6).

Every case runs through the API and through the service; every refusal changes
nothing. Beside each refusal, the fix of that condition makes the same transition
succeed (so the test fails if a condition is never checked or always fails).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from orders import services
from orders.models import Order, State
from production import services as production
from production.models import ProductionIssue
from tests import factories
from tests.factories import Cast, days, make_order, receipt_data, today
from tests.utils import order_row, run_transition, state_logs

pytestmark = pytest.mark.django_db

VIA = ["service", "api"]


@pytest.fixture
def cast(db):
    return Cast()


def assert_refused(outcome, order, *, status=400, unmet=None, subset=False, before=None, logs_before=None):
    assert outcome.status == status, outcome
    if unmet is not None:
        assert outcome.code == "conditions_unmet", outcome
        if subset:
            assert set(unmet) <= set(outcome.unmet), outcome
        else:
            assert sorted(outcome.unmet) == sorted(unmet), outcome
    if before is not None:
        assert order_row(order.pk) == before, "a refused transition changed the order"
    if logs_before is not None:
        assert state_logs(order.pk).count() == logs_before


def snapshot(order):
    return order_row(order.pk), state_logs(order.pk).count()


# --- submit ----------------------------------------------------------------------------------
@pytest.mark.parametrize("via", VIA)
def test_submit_refused_while_a_clarification_is_open(via, cast, api_client_for):
    order = make_order("received", cast=cast)
    clarification = services.open_clarification(user=cast.owner, order_id=order.pk, question="Which colour?")
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.owner, order.pk, "submit")
    assert_refused(outcome, order, unmet=["open_clarification"], before=before, logs_before=logs)

    services.resolve_clarification(user=cast.owner, clarification_id=clarification.pk, resolution="Blue")
    assert run_transition(via, api_client_for, cast.owner, order.pk, "submit").status == 200
    assert Order.objects.get(pk=order.pk).submitted_at is not None


@pytest.mark.parametrize("via", VIA)
def test_submit_twice_is_a_conflict(via, cast, api_client_for):
    """A second submit (e.g. the loser of a double click) is a 409, like any lost race."""
    order = make_order("received", cast=cast, submitted=True)
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.owner, order.pk, "submit")
    assert_refused(outcome, order, status=409, before=before, logs_before=logs)


@pytest.mark.parametrize("via", VIA)
def test_submit_refused_when_delivery_date_before_lead_time(via, cast, api_client_for):
    product = factories.ProductFactory(lead_time_days=20)
    order = make_order("received", cast=cast, products=[product], requested_delivery_date=days(5))
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.owner, order.pk, "submit")
    assert_refused(outcome, order, unmet=["delivery_date_unreasonable"], before=before, logs_before=logs)

    services.update_order(user=cast.owner, order_id=order.pk, data={"requested_delivery_date": days(20)})
    assert run_transition(via, api_client_for, cast.owner, order.pk, "submit").status == 200


def test_submit_refused_when_an_element_is_missing(cast):
    payload = factories.order_payload()
    payload["contact_phone"] = "   "
    order = services.create_order(user=cast.sales_assistant, **payload)
    outcome = run_transition("service", None, cast.sales_assistant, order.pk, "submit")
    assert_refused(outcome, order, unmet=["elements_missing"])


# --- return ------------------------------------------------------------------------------------
@pytest.mark.parametrize("via", VIA)
def test_return_needs_a_submission_and_a_reason(via, cast, api_client_for):
    order = make_order("received", cast=cast)
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "return")
    assert_refused(outcome, order, unmet=["not_submitted", "comment_required"], before=before, logs_before=logs)

    factories.run(order, "submit", cast.owner)
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "return", comment="   ")
    assert_refused(outcome, order, unmet=["comment_required"], before=before, logs_before=logs)

    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "return", comment="price unclear")
    assert outcome.status == 200
    order.refresh_from_db()
    assert order.submitted_at is None and order.review_round == 2 and order.state == State.RECEIVED


# --- approve -------------------------------------------------------------------------------------
@pytest.mark.parametrize("via", VIA)
def test_approve_needs_a_submission(via, cast, api_client_for):
    order = make_order("received", cast=cast)
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "approve", comment="ok")
    assert_refused(outcome, order, unmet=["not_submitted"], before=before, logs_before=logs)


@pytest.mark.parametrize("via", VIA)
def test_self_approval_is_refused(via, cast, api_client_for):
    """A sales manager who recorded the order (for a key customer) may not approve it."""
    payload = factories.order_payload()
    order = services.create_order(user=cast.sales_manager, assistant=cast.sales_assistant, **payload)
    factories.run(order, "submit", cast.sales_assistant)
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "approve", comment="mine")
    assert_refused(outcome, order, unmet=["self_approval"], before=before, logs_before=logs)

    other_manager = factories.user_with_role("sales_manager", "sales_manager2")
    assert run_transition(via, api_client_for, other_manager, order.pk, "approve", comment="ok").status == 200


@pytest.mark.parametrize("via", VIA)
def test_superuser_who_created_the_order_cannot_approve_it(via, cast, api_client_for):
    admin = factories.superuser()
    order = services.create_order(user=admin, assistant=cast.sales_assistant, **factories.order_payload())
    factories.run(order, "submit", cast.sales_assistant)
    outcome = run_transition(via, api_client_for, admin, order.pk, "approve", comment="mine")
    assert_refused(outcome, order, unmet=["self_approval"])


@pytest.mark.parametrize("via", VIA)
def test_credit_limit_exceeded_then_overridden_with_a_reason(via, cast, api_client_for):
    customer = factories.CustomerFactory(credit_limit=Decimal("1500.00"))
    # an open approved order of 1000 already counts against the limit
    make_order("reviewed", cast=cast, customer=customer, quantity=Decimal("10"), unit_price=Decimal("100"))
    order = make_order(
        "received", cast=cast, customer=customer, submitted=True, quantity=Decimal("6"), unit_price=Decimal("100")
    )
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "approve", comment="ok")
    assert_refused(outcome, order, unmet=["credit_limit_exceeded"], before=before, logs_before=logs)
    # the override needs a reason
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "approve", override_credit=True)
    assert_refused(outcome, order, unmet=["credit_limit_exceeded"], before=before, logs_before=logs)

    outcome = run_transition(
        via,
        api_client_for,
        cast.sales_manager,
        order.pk,
        "approve",
        comment="key customer, pays reliably",
        override_credit=True,
    )
    assert outcome.status == 200
    order.refresh_from_db()
    assert order.state == State.REVIEWED
    assert order.credit_override_reason == "key customer, pays reliably"


@pytest.mark.parametrize("via", VIA)
def test_credit_within_limit_passes_without_override(via, cast, api_client_for):
    customer = factories.CustomerFactory(credit_limit=Decimal("1000.00"))
    order = make_order(
        "received", cast=cast, customer=customer, submitted=True, quantity=Decimal("10"), unit_price=Decimal("100")
    )
    assert run_transition(via, api_client_for, cast.sales_manager, order.pk, "approve", comment="ok").status == 200
    assert Order.objects.get(pk=order.pk).credit_override_reason == ""


def test_paid_invoices_free_the_credit(cast):
    customer = factories.CustomerFactory(credit_limit=Decimal("1500.00"))
    earlier = make_order("accepted", cast=cast, customer=customer, quantity=Decimal("10"), unit_price=Decimal("100"))
    order = make_order(
        "received", cast=cast, customer=customer, submitted=True, quantity=Decimal("6"), unit_price=Decimal("100")
    )
    assert run_transition("service", None, cast.sales_manager, order.pk, "approve", comment="ok").unmet == [
        "credit_limit_exceeded"
    ]
    factories.invoice_and_pay(earlier, cast)
    assert run_transition("service", None, cast.sales_manager, order.pk, "approve", comment="ok").status == 200


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("kind", ["amount", "special_terms"])
def test_joint_review_required_for_large_orders_and_special_terms(via, kind, cast, api_client_for, settings):
    settings.JOINT_REVIEW_THRESHOLD = Decimal("5000.00")
    extra = {"unit_price": Decimal("500")} if kind == "amount" else {"special_terms": "30% prepayment"}
    order = make_order("received", cast=cast, submitted=True, **extra)
    assert order.requires_joint_review
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "approve", comment="ok")
    assert_refused(outcome, order, unmet=["joint_review_incomplete"], before=before, logs_before=logs)

    services.record_signoff(user=cast.finance_manager, order_id=order.pk, decision="approve", comment="fine")
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "approve", comment="ok")
    assert_refused(outcome, order, unmet=["joint_review_incomplete"])

    services.record_signoff(
        user=cast.production_supervisor, order_id=order.pk, decision="object", comment="no capacity"
    )
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "approve", comment="ok")
    assert_refused(outcome, order, unmet=["joint_review_incomplete"])

    # the latest decision of a department counts
    services.record_signoff(
        user=cast.production_supervisor, order_id=order.pk, decision="approve", comment="capacity found"
    )
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "approve", comment="ok")
    assert outcome.status == 200, outcome


def test_edit_after_signoff_voids_the_joint_review(cast, settings):
    settings.JOINT_REVIEW_THRESHOLD = Decimal("5000.00")
    order = make_order("received", cast=cast, submitted=True, unit_price=Decimal("500"))
    services.record_signoff(user=cast.finance_manager, order_id=order.pk, decision="approve", comment="ok")
    services.record_signoff(user=cast.production_supervisor, order_id=order.pk, decision="approve", comment="ok")
    services.update_order(user=cast.owner, order_id=order.pk, data={"delivery_address": "New address 2"})
    order.refresh_from_db()
    assert order.submitted_at is None and order.review_round == 2
    factories.run(order, "submit", cast.owner)
    outcome = run_transition("service", None, cast.sales_manager, order.pk, "approve", comment="ok")
    assert outcome.unmet == ["joint_review_incomplete"]


@pytest.mark.parametrize("via", VIA)
def test_promised_date_in_the_past_is_refused(via, cast, api_client_for):
    order = make_order("received", cast=cast, submitted=True)
    before, logs = snapshot(order)
    outcome = run_transition(
        via,
        api_client_for,
        cast.sales_manager,
        order.pk,
        "approve",
        comment="ok",
        promised_delivery_date=today() - datetime.timedelta(days=1),
    )
    assert_refused(outcome, order, unmet=["promised_date_invalid"], before=before, logs_before=logs)

    promised = days(60)
    outcome = run_transition(
        via, api_client_for, cast.sales_manager, order.pk, "approve", comment="ok", promised_delivery_date=promised
    )
    assert outcome.status == 200
    assert Order.objects.get(pk=order.pk).promised_delivery_date == promised


# --- schedule ----------------------------------------------------------------------------------
@pytest.mark.parametrize("via", VIA)
def test_schedule_needs_a_plan(via, cast, api_client_for):
    order = make_order("reviewed", cast=cast)
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.production_supervisor, order.pk, "schedule", comment="go")
    assert_refused(outcome, order, unmet=["no_workshop", "no_plan"], subset=True, before=before, logs_before=logs)

    factories.plan_order(order, cast)
    assert run_transition(via, api_client_for, cast.production_supervisor, order.pk, "schedule").status == 200


@pytest.mark.parametrize("via", VIA)
def test_schedule_late_plan_needs_an_acknowledged_delay(via, cast, api_client_for):
    order = make_order("reviewed", cast=cast)
    late = order.promised_delivery_date + datetime.timedelta(days=7)
    factories.plan_order(
        order,
        cast,
        milestones=[
            {"name": "all", "due_date": late, "responsible": cast.production_worker},
        ],
    )
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.production_supervisor, order.pk, "schedule", comment="go")
    assert_refused(outcome, order, unmet=["plan_late"], before=before, logs_before=logs)
    outcome = run_transition(
        via, api_client_for, cast.production_supervisor, order.pk, "schedule", acknowledge_delay=True
    )
    assert_refused(outcome, order, unmet=["plan_late"], before=before, logs_before=logs)

    outcome = run_transition(
        via,
        api_client_for,
        cast.production_supervisor,
        order.pk,
        "schedule",
        comment="supplier delay, customer informed",
        acknowledge_delay=True,
    )
    assert outcome.status == 200
    order.refresh_from_db()
    assert order.state == State.SCHEDULED
    assert order.schedule_delay_reason == "supplier delay, customer informed"


# --- start_production -----------------------------------------------------------------------------
@pytest.mark.parametrize("via", VIA)
def test_start_production_needs_materials_and_equipment(via, cast, api_client_for):
    order = make_order("scheduled", cast=cast)
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.production_supervisor, order.pk, "start_production")
    assert_refused(
        outcome, order, unmet=["materials_not_ready", "equipment_not_ready"], before=before, logs_before=logs
    )

    production.update_readiness(user=cast.production_supervisor, plan_id=order.production_plan.pk, materials_ready=True)
    outcome = run_transition(via, api_client_for, cast.production_supervisor, order.pk, "start_production")
    assert_refused(outcome, order, unmet=["equipment_not_ready"])

    production.update_readiness(user=cast.production_supervisor, plan_id=order.production_plan.pk, equipment_ready=True)
    assert run_transition(via, api_client_for, cast.production_supervisor, order.pk, "start_production").status == 200


# --- ship ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("via", VIA)
def test_ship_needs_complete_production_and_a_shipment(via, cast, api_client_for):
    order = make_order("producing", cast=cast)
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.logistics_specialist, order.pk, "ship")
    assert_refused(
        outcome,
        order,
        unmet=["production_incomplete", "no_shipment", "not_fully_shipped"],
        before=before,
        logs_before=logs,
    )

    production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=80)
    factories.record_shipment(order, cast)
    outcome = run_transition(via, api_client_for, cast.logistics_specialist, order.pk, "ship")
    assert_refused(outcome, order, unmet=["production_incomplete"])

    production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=100)
    issue = production.open_issue(
        user=cast.production_worker, order_id=order.pk, kind="quality", description="scratches"
    )
    outcome = run_transition(via, api_client_for, cast.logistics_supervisor, order.pk, "ship")
    assert_refused(outcome, order, unmet=["open_quality_issue"])

    production.resolve_issue(user=cast.production_supervisor, issue_id=issue.pk, resolution="polished")
    assert run_transition(via, api_client_for, cast.logistics_supervisor, order.pk, "ship").status == 200


def test_a_delay_issue_does_not_block_shipping(cast):
    order = make_order("producing", cast=cast, ready_for="ship")
    production.open_issue(user=cast.production_worker, order_id=order.pk, kind="delay", description="late parts")
    assert run_transition("service", None, cast.logistics_specialist, order.pk, "ship").status == 200


# --- accept / reject_delivery -----------------------------------------------------------------------------
@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("missing", [{"signed_by": ""}, {"signed_on": None}, {"receipt_reference": ""}, "all"], ids=str)
def test_accept_needs_a_signed_receipt(via, missing, cast, api_client_for):
    order = make_order("shipped", cast=cast)
    data = {} if missing == "all" else {k: v for k, v in {**receipt_data(), **missing}.items() if v is not None}
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.owner, order.pk, "accept", comment="ok", **data)
    assert_refused(outcome, order, unmet=["receipt_missing"], before=before, logs_before=logs)


@pytest.mark.parametrize("via", VIA)
def test_accept_refused_when_inspection_failed(via, cast, api_client_for):
    order = make_order("shipped", cast=cast)
    outcome = run_transition(
        via, api_client_for, cast.owner, order.pk, "accept", inspection_passed=False, **receipt_data()
    )
    assert_refused(outcome, order, unmet=["inspection_failed"])

    outcome = run_transition(via, api_client_for, cast.owner, order.pk, "accept", comment="fine", **receipt_data())
    assert outcome.status == 200
    order.refresh_from_db()
    assert order.state == State.ACCEPTED
    assert (order.receipt_signed_by, order.receipt_signed_on, order.receipt_reference) == (
        "Mr. Receiver",
        today(),
        "RCPT-001",
    )
    assert order.accepted_at is not None


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("actor", ["owner", "sales_manager"])
def test_reject_delivery_needs_a_reason_and_opens_rework(via, actor, cast, api_client_for):
    order = make_order("shipped", cast=cast)
    user = getattr(cast, actor)
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, user, order.pk, "reject_delivery")
    assert_refused(outcome, order, unmet=["comment_required"], before=before, logs_before=logs)

    outcome = run_transition(via, api_client_for, user, order.pk, "reject_delivery", comment="dents on delivery")
    assert outcome.status == 200
    order.refresh_from_db()
    assert order.state == State.PRODUCING
    issue = ProductionIssue.objects.get(order=order)
    assert issue.kind == "quality" and issue.is_open and issue.description == "dents on delivery"
    assert set(order.shipments.values_list("status", flat=True)) == {"returned"}

    # rework: cannot ship again until the rework is reported done (issue 10), the issue is resolved and a
    # new shipment is recorded
    assert issue.disposition == "rework"
    outcome = run_transition("service", None, cast.logistics_specialist, order.pk, "ship")
    assert sorted(outcome.unmet) == ["no_shipment", "not_fully_shipped", "open_quality_issue", "rework_not_reported"]
    production.resolve_issue(user=cast.production_supervisor, issue_id=issue.pk, resolution="reworked")
    factories.record_shipment(order, cast)
    outcome = run_transition("service", None, cast.logistics_specialist, order.pk, "ship")
    assert outcome.unmet == ["rework_not_reported"]  # the 100 % reported before the rejection does not count
    production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=100, note="reworked")
    assert run_transition("service", None, cast.logistics_specialist, order.pk, "ship").status == 200


# --- settle -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("via", VIA)
def test_settle_needs_invoices_covering_the_total_paid_in_full(via, cast, api_client_for):
    from finance import services as finance

    order = make_order("accepted", cast=cast)  # total 1000.00
    assert order.total_amount == Decimal("1000.00")
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.finance_specialist, order.pk, "settle")
    assert_refused(outcome, order, unmet=["invoices_short", "invoices_unpaid"], before=before, logs_before=logs)

    first = factories.invoice_and_pay(order, cast, amount=Decimal("400.00"))
    outcome = run_transition(via, api_client_for, cast.finance_specialist, order.pk, "settle")
    assert_refused(outcome, order, unmet=["invoices_short"])

    second = factories.invoice_and_pay(order, cast, amount=Decimal("600.00"), pay=False)
    outcome = run_transition(via, api_client_for, cast.finance_manager, order.pk, "settle")
    assert_refused(outcome, order, unmet=["invoices_unpaid"])

    finance.record_payment(
        user=cast.finance_specialist,
        invoice_id=second.pk,
        amount=Decimal("599.99"),
        received_on=today(),
        reference="partial",
    )
    outcome = run_transition(via, api_client_for, cast.finance_manager, order.pk, "settle")
    assert_refused(outcome, order, unmet=["invoices_unpaid"])

    finance.record_payment(
        user=cast.finance_specialist,
        invoice_id=second.pk,
        amount=Decimal("0.01"),
        received_on=today(),
        reference="rest",
    )
    assert first.pk != second.pk
    assert run_transition(via, api_client_for, cast.finance_manager, order.pk, "settle").status == 200
    order.refresh_from_db()
    assert order.state == State.SETTLED and order.settled_at is not None


# --- cancel ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("state", ["received", "reviewed", "scheduled"])
def test_cancel_needs_a_reason(via, state, cast, api_client_for):
    order = make_order(state, cast=cast)
    before, logs = snapshot(order)
    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "cancel", comment=" ")
    assert_refused(outcome, order, unmet=["comment_required"], before=before, logs_before=logs)

    outcome = run_transition(via, api_client_for, cast.sales_manager, order.pk, "cancel", comment="customer withdrew")
    assert outcome.status == 200
    order.refresh_from_db()
    assert order.state == State.CANCELLED and order.cancelled_at is not None
    log = state_logs(order.pk).order_by("-id").first()
    assert (log.transition, log.source_state, log.state, log.description, log.by_id) == (
        "cancel",
        state,
        "cancelled",
        "customer withdrew",
        cast.sales_manager.pk,
    )


# --- the protected state field -------------------------------------------------------------------------------
def test_state_cannot_be_written_directly(cast):
    order = make_order("received", cast=cast)
    with pytest.raises(AttributeError):
        order.state = State.SETTLED
