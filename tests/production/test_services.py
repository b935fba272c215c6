"""Production (R3.3, R4.3, R4.4): plans with milestones, readiness, progress, issues — services and API."""

from __future__ import annotations

import datetime

import pytest

from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.models import OrderChange, State
from production import services
from production.models import Milestone, ProductionIssue, ProductionPlan, ProgressReport
from tests import factories
from tests.factories import Cast, days, make_order, today
from tests.utils import call

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return Cast()


def milestones(cast, *due):
    return [{"name": f"step {i}", "due_date": d, "responsible": cast.production_worker} for i, d in enumerate(due)]


# --- plans ------------------------------------------------------------------------------------------------
def test_plan_assigns_the_workshop_and_records_the_change(cast):
    order = make_order("reviewed", cast=cast)
    workshop = factories.WorkshopFactory()
    plan = services.create_plan(
        user=cast.production_supervisor,
        order_id=order.pk,
        workshop=workshop,
        milestones=milestones(cast, days(3), days(10)),
    )
    order.refresh_from_db()
    assert order.workshop == workshop and plan.workshop == workshop
    assert list(plan.milestones.values_list("name", flat=True)) == ["step 0", "step 1"]
    change = OrderChange.objects.get(order=order, field="workshop")
    assert change.user == cast.production_supervisor and workshop.code in change.new_value


def test_planning_again_replaces_the_plan(cast):
    order = make_order("reviewed", cast=cast)
    factories.plan_order(order, cast)
    second = services.create_plan(
        user=cast.production_supervisor,
        order_id=order.pk,
        workshop=factories.WorkshopFactory(),
        milestones=milestones(cast, days(4)),
    )
    assert ProductionPlan.objects.filter(order=order).get() == second
    assert Milestone.objects.filter(plan__order=order).count() == 1


@pytest.mark.parametrize(
    "bad",
    [
        [],
        [{"name": "", "due_date": "D+3", "responsible": "worker"}],
        [{"name": "x", "due_date": None, "responsible": "worker"}],
        [{"name": "x", "due_date": "D-1", "responsible": "worker"}],
        [{"name": "x", "due_date": "D+3", "responsible": None}],
        [{"name": "x", "due_date": "D+3", "responsible": "inactive"}],
    ],
    ids=["none", "no-name", "no-date", "past-date", "no-responsible", "inactive-responsible"],
)
def test_bad_milestones_are_refused(cast, bad):
    order = make_order("reviewed", cast=cast)
    inactive = factories.UserFactory(is_active=False)
    people = {"worker": cast.production_worker, "inactive": inactive, None: None}
    dates = {"D+3": days(3), "D-1": today() - datetime.timedelta(days=1), None: None}
    data = [{**m, "due_date": dates[m["due_date"]], "responsible": people[m["responsible"]]} for m in bad]
    with pytest.raises(InvalidInput) as exc:
        services.create_plan(
            user=cast.production_supervisor, order_id=order.pk, workshop=factories.WorkshopFactory(), milestones=data
        )
    assert "milestones" in exc.value.errors
    assert not ProductionPlan.objects.filter(order=order).exists()
    order.refresh_from_db()
    assert order.workshop is None


def test_inactive_workshop_is_refused(cast):
    order = make_order("reviewed", cast=cast)
    with pytest.raises(InvalidInput):
        services.create_plan(
            user=cast.production_supervisor,
            order_id=order.pk,
            workshop=factories.WorkshopFactory(is_active=False),
            milestones=milestones(cast, days(3)),
        )


@pytest.mark.parametrize(
    ("role", "error"),
    [
        ("production_worker", Forbidden),
        ("sales_manager", Forbidden),
        ("finance_manager", Forbidden),
        ("auditor", Forbidden),
        ("logistics_supervisor", NotFound),
        ("owner", Forbidden),
    ],
)
def test_only_the_production_supervisor_plans(cast, role, error):
    order = make_order("reviewed", cast=cast)
    with pytest.raises(error):
        services.create_plan(
            user=getattr(cast, role),
            order_id=order.pk,
            workshop=factories.WorkshopFactory(),
            milestones=milestones(cast, days(3)),
        )
    assert not ProductionPlan.objects.exists()


@pytest.mark.parametrize(
    ("state", "error"),
    [("received", NotFound), ("scheduled", Conflict), ("producing", Conflict), ("cancelled", NotFound)],
)
def test_plans_are_made_while_reviewed(cast, state, error):
    order = make_order(state, cast=cast)
    with pytest.raises(error):
        services.create_plan(
            user=cast.production_supervisor,
            order_id=order.pk,
            workshop=factories.WorkshopFactory(),
            milestones=milestones(cast, days(3)),
        )


# --- readiness --------------------------------------------------------------------------------------------
def test_readiness_before_production_only(cast):
    order = make_order("scheduled", cast=cast)
    plan = order.production_plan
    services.update_readiness(user=cast.production_supervisor, plan_id=plan.pk, materials_ready=True)
    plan.refresh_from_db()
    assert plan.materials_ready and not plan.equipment_ready
    with pytest.raises(Forbidden):
        services.update_readiness(user=cast.production_worker, plan_id=plan.pk, equipment_ready=True)
    services.update_readiness(user=cast.production_supervisor, plan_id=plan.pk, equipment_ready=True)
    factories.run(order, "start_production", cast.production_supervisor)
    with pytest.raises(Conflict):
        services.update_readiness(user=cast.production_supervisor, plan_id=plan.pk, materials_ready=False)
    with pytest.raises(NotFound):
        services.update_readiness(user=cast.production_supervisor, plan_id=999999, materials_ready=True)


# --- progress and issues ------------------------------------------------------------------------------------
def test_progress_is_reported_while_producing(cast):
    order = make_order("producing", cast=cast)
    report = services.report_progress(
        user=cast.production_worker, order_id=order.pk, percent_complete=30, note=" welding "
    )
    assert (report.percent_complete, report.note, report.reported_by) == (30, "welding", cast.production_worker)
    for bad in (101, -1, "50", 50.5):
        with pytest.raises(InvalidInput):
            services.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=bad)
    with pytest.raises(Forbidden):
        services.report_progress(user=cast.logistics_supervisor, order_id=order.pk, percent_complete=40)
    assert ProgressReport.objects.filter(order=order).count() == 1
    scheduled = make_order("scheduled", cast=cast)
    with pytest.raises(Conflict):
        services.report_progress(user=cast.production_worker, order_id=scheduled.pk, percent_complete=10)


def test_issues_open_and_resolve_once(cast):
    order = make_order("producing", cast=cast)
    issue = services.open_issue(user=cast.owner, order_id=order.pk, kind="delay", description="supplier late")
    assert issue.is_open and issue.opened_by == cast.owner
    with pytest.raises(InvalidInput):
        services.open_issue(user=cast.owner, order_id=order.pk, kind="fire", description="x")
    with pytest.raises(InvalidInput):
        services.open_issue(user=cast.owner, order_id=order.pk, kind="quality", description="  ")
    with pytest.raises(Forbidden):
        services.resolve_issue(user=cast.production_worker, issue_id=issue.pk, resolution="done")
    services.resolve_issue(user=cast.production_supervisor, issue_id=issue.pk, resolution="new supplier")
    issue.refresh_from_db()
    assert not issue.is_open and issue.resolved_by == cast.production_supervisor
    with pytest.raises(Conflict):
        services.resolve_issue(user=cast.sales_manager, issue_id=issue.pk, resolution="again")
    settled = make_order("settled", cast=cast)
    with pytest.raises(Conflict):
        services.open_issue(user=cast.production_worker, order_id=settled.pk, kind="quality", description="late")
    assert ProductionIssue.objects.count() == 1


# --- the API ------------------------------------------------------------------------------------------------
def test_plan_progress_and_issue_endpoints(cast, api_client_for):
    order = make_order("reviewed", cast=cast)
    supervisor = api_client_for(cast.production_supervisor)
    worker = api_client_for(cast.production_worker)
    workshop = factories.WorkshopFactory()
    payload = {
        "order": order.pk,
        "workshop": workshop.pk,
        "milestones": [
            {"name": "cut", "due_date": days(3).isoformat(), "responsible": cast.production_worker.pk},
        ],
    }
    call(worker, "post", "/production/plans/", payload, expect=403)
    call(supervisor, "post", "/production/plans/", {**payload, "milestones": []}, expect=400)
    bad_person = {**payload, "milestones": [{**payload["milestones"][0], "responsible": 999999}]}
    call(supervisor, "post", "/production/plans/", bad_person, expect=400)
    plan = call(supervisor, "post", "/production/plans/", payload, expect=201)
    assert plan["workshop"] == workshop.pk and plan["milestones"][0]["responsible"] == cast.production_worker.pk
    call(worker, "patch", f"/production/plans/{plan['id']}/", {"materials_ready": True}, expect=403)
    factories.run(order, "schedule", cast.production_supervisor)
    call(
        supervisor,
        "patch",
        f"/production/plans/{plan['id']}/",
        {"materials_ready": True, "equipment_ready": True},
        expect=200,
    )
    call(worker, "post", "/production/progress/", {"order": order.pk, "percent_complete": 10}, expect=409)
    factories.run(order, "start_production", cast.production_supervisor)
    call(worker, "post", "/production/progress/", {"order": order.pk, "percent_complete": 101}, expect=400)
    call(worker, "post", "/production/progress/", {"order": order.pk, "percent_complete": 60, "note": "ok"}, expect=201)
    issue = call(
        worker,
        "post",
        "/production/issues/",
        {"order": order.pk, "kind": "quality", "description": "burr on edges"},
        expect=201,
    )
    call(worker, "post", f"/production/issues/{issue['id']}/resolve/", {"resolution": "x"}, expect=403)
    call(supervisor, "post", f"/production/issues/{issue['id']}/resolve/", {"resolution": "deburred"}, expect=200)
    listed = call(worker, "get", "/production/progress/", {"order": order.pk}, expect=200)
    assert [r["percent_complete"] for r in listed["results"]] == [60]
    # a received order is outside production's scope
    received = make_order("received", cast=cast)
    call(worker, "post", "/production/progress/", {"order": received.pk, "percent_complete": 1}, expect=404)
    order.refresh_from_db()
    assert order.state == State.PRODUCING
