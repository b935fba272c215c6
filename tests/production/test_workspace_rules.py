"""Issue 10 (R3.3, R4.3, R4.4): the rules of production's workspace, through the services and the API.

Completion by the responsible person only, the roll-up, the capacity conflict and its acknowledgement,
readiness from preparation tasks, dispositions, the customer message reviewed before sending, the
hand-over and the move, at-risk never raised for done work; and bad input refused with nothing written.
Expectations come from DESIGN §6b and the issue, not from the code under test.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from notifications.models import EmailOutbox, Notification
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.models import Alert, OrderChange, State
from production import selectors, services
from production.models import Milestone, PreparationTask, ProductionIssue, ProgressReport, WorkshopWeek
from tests import factories
from tests.factories import Cast, days, make_order
from tests.utils import call, results, run_via_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return Cast()


def producing_with_two(cast, *, quantities=(None, None), worker=None):
    """A producing order whose plan has two milestones: the worker's (or `worker`'s) and the supervisor's."""
    order = make_order("reviewed", cast=cast)
    promised = order.promised_delivery_date
    factories.plan_order(
        order,
        cast,
        milestones=[
            {
                "name": "cut",
                "due_date": days(3),
                "responsible": worker or cast.production_worker,
                "quantity": quantities[0],
            },
            {
                "name": "assemble",
                "due_date": promised - datetime.timedelta(days=2),
                "responsible": cast.production_supervisor,
                "quantity": quantities[1],
            },
        ],
    )
    factories.run(order, "schedule", cast.production_supervisor)
    factories.make_ready(order, cast)
    factories.run(order, "start_production", cast.production_supervisor)
    order.refresh_from_db()
    first, second = Milestone.objects.filter(plan__order=order).order_by("due_date")
    return order, first, second


# --- completion: the responsible person (or a supervisor), once ------------------------------------------
def test_the_responsible_person_completes_their_milestone_once(cast):
    order, mine, theirs = producing_with_two(cast)
    services.complete_milestone(user=cast.production_worker, milestone_id=mine.pk, note="all cut")
    mine.refresh_from_db()
    assert mine.done_at is not None and mine.done_by == cast.production_worker and mine.done_note == "all cut"
    with pytest.raises(Conflict) as exc:
        services.complete_milestone(user=cast.production_worker, milestone_id=mine.pk)
    assert exc.value.code == "already_done"
    # another person's milestone: 403, nothing written
    with pytest.raises(Forbidden):
        services.complete_milestone(user=cast.production_worker, milestone_id=theirs.pk)
    assert Milestone.objects.get(pk=theirs.pk).done_at is None
    # a supervisor may complete anyone's
    other_worker = factories.user_with_role("production_worker", "worker2")
    _order, foreign, _ = producing_with_two(cast, worker=other_worker)
    services.complete_milestone(user=cast.production_supervisor, milestone_id=foreign.pk)
    assert Milestone.objects.get(pk=foreign.pk).done_by == cast.production_supervisor


def test_milestone_endpoints_mine_complete_403_404_409(cast, api_client_for):
    order, mine, theirs = producing_with_two(cast)
    worker = api_client_for(cast.production_worker)
    listed = results(call(worker, "get", "/production/milestones/", {"mine": "true"}, expect=200))
    assert [m["id"] for m in listed] == [mine.pk]
    assert listed[0]["order"] == order.pk and listed[0]["done_at"] is None
    body = call(worker, "post", f"/production/milestones/{theirs.pk}/complete/", {"note": "x"}, expect=403)
    assert body["code"] == "not_responsible"
    body = call(worker, "post", f"/production/milestones/{mine.pk}/complete/", {"note": "done"}, expect=200)
    assert body["done_at"] and body["done_note"] == "done"
    assert call(worker, "post", f"/production/milestones/{mine.pk}/complete/", {}, expect=409)["code"] == "already_done"
    assert results(call(worker, "get", "/production/milestones/", {"mine": "true"}, expect=200)) == []
    call(worker, "post", "/production/milestones/999999/complete/", {}, expect=404)
    # a role that does not see the order (another assistant) gets 404, never 403
    outsider = api_client_for(factories.user_with_role("sales_assistant", "sales_assistant2"))
    call(outsider, "post", f"/production/milestones/{theirs.pk}/complete/", {}, expect=404)
    # the auditor changes nothing
    call(api_client_for(cast.auditor), "post", f"/production/milestones/{theirs.pk}/complete/", {}, expect=403)
    assert Milestone.objects.get(pk=theirs.pk).done_at is None


# --- roll-up: milestones and their reports ------------------------------------------------------------------
def test_progress_rolls_up_from_milestones_and_reports(cast):
    order, first, second = producing_with_two(cast, quantities=(Decimal("10"), Decimal("20")))
    assert selectors.rollup(order)["percent"] == 0
    report = services.report_progress(user=cast.production_worker, milestone_id=first.pk, quantity_done=5)
    assert report.order == order and report.percent_complete == 25  # half of one of two milestones
    services.complete_milestone(user=cast.production_worker, milestone_id=first.pk)
    assert selectors.rollup(order) == {"percent": 50, "done": 1, "total": 2, "reported": 25}
    report = services.report_progress(user=cast.production_supervisor, milestone_id=second.pk, quantity_done=20)
    assert report.percent_complete == 100
    # an explicit percent wins over the roll-up
    report = services.report_progress(user=cast.production_supervisor, order_id=order.pk, percent_complete=90)
    assert report.percent_complete == 90


def test_progress_against_a_milestone_with_a_photo_via_multipart(cast, api_client_for):
    order, first, _second = producing_with_two(cast, quantities=(Decimal("4"), None))
    worker = api_client_for(cast.production_worker)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = worker.post(
        "/api/v1/production/progress/",
        {
            "milestone": first.pk,
            "quantity_done": "4",
            "note": "cut",
            "photo": SimpleUploadedFile("../../evil.html", png, content_type="image/png"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["milestone"] == first.pk and body["quantity_done"] == "4.000" and body["percent_complete"] == 50
    report = ProgressReport.objects.get(pk=body["id"])
    assert report.photo.name.startswith("progress/") and report.photo.name.endswith(".png")
    # the photo is served through the permission-checked media view: production sees it, an outsider 404
    from django.test import Client

    page = Client()
    page.force_login(cast.production_supervisor)
    response = page.get(body["photo_url"], secure=True)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"\x89PNG")
    page.force_login(factories.user_with_role("sales_assistant", "sales_assistant2"))
    assert page.get(body["photo_url"], secure=True).status_code == 404


# --- bad input: nothing written -------------------------------------------------------------------------------
def test_bad_progress_reports_are_refused_and_nothing_is_written(cast, api_client_for):
    order, first, second = producing_with_two(cast, quantities=(Decimal("10"), None))
    other, other_first, _ = producing_with_two(cast)
    services.report_progress(user=cast.production_worker, milestone_id=first.pk, quantity_done=8)
    worker = api_client_for(cast.production_worker)
    before = ProgressReport.objects.count()
    # more than what remains of the milestone (10 - 8)
    body = call(worker, "post", "/production/progress/", {"milestone": first.pk, "quantity_done": "3"}, expect=400)
    assert "quantity_done" in body["errors"]
    # a milestone of another order
    body = call(
        worker,
        "post",
        "/production/progress/",
        {"order": order.pk, "milestone": other_first.pk, "quantity_done": "1"},
        expect=400,
    )
    assert "milestone" in body["errors"]
    # zero, negative, not a number
    for bad in ("0", "-1", "abc"):
        call(worker, "post", "/production/progress/", {"milestone": first.pk, "quantity_done": bad}, expect=400)
    # a quantity without a milestone; neither order nor milestone
    call(
        worker,
        "post",
        "/production/progress/",
        {"order": order.pk, "percent_complete": 50, "quantity_done": "1"},
        expect=400,
    )
    call(worker, "post", "/production/progress/", {"percent_complete": 50}, expect=400)
    # other users' milestones: 403; unknown: 404; a photo that is no image: 400
    call(worker, "post", "/production/progress/", {"milestone": second.pk, "percent_complete": 10}, expect=403)
    call(worker, "post", "/production/progress/", {"milestone": 999999, "percent_complete": 10}, expect=404)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = worker.post(
        "/api/v1/production/progress/",
        {
            "milestone": first.pk,
            "percent_complete": 10,
            "photo": SimpleUploadedFile("x.png", b"<html>not an image</html>", content_type="image/png"),
        },
        format="multipart",
    )
    assert response.status_code == 400 and "photo" in response.json()["errors"]
    assert ProgressReport.objects.count() == before


def test_bad_plans_and_tasks_are_refused(cast, api_client_for):
    order = make_order("reviewed", cast=cast)
    supervisor = api_client_for(cast.production_supervisor)
    workshop = factories.WorkshopFactory()
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    base = {
        "order": order.pk,
        "workshop": workshop.pk,
        "milestones": [{"name": "cut", "due_date": days(3).isoformat(), "responsible": cast.production_worker.pk}],
    }
    call(supervisor, "post", "/production/plans/", {**base, "start_date": yesterday}, expect=400)
    call(
        supervisor,
        "post",
        "/production/plans/",
        {**base, "milestones": [{**base["milestones"][0], "quantity": "-1"}]},
        expect=400,
    )
    assert not hasattr(order, "production_plan") or not Milestone.objects.filter(plan__order=order).exists()
    call(
        supervisor,
        "post",
        "/production/preparations/",
        {
            "order": order.pk,
            "kind": "material",
            "description": "steel",
            "owner": cast.production_worker.pk,
            "due_date": yesterday,
        },
        expect=400,
    )
    call(
        supervisor,
        "post",
        "/production/preparations/",
        {
            "order": order.pk,
            "kind": "paint",
            "description": "steel",
            "owner": cast.production_worker.pk,
            "due_date": days(2).isoformat(),
        },
        expect=400,
    )
    assert not PreparationTask.objects.exists()


# --- capacity: the load, the conflict, the acknowledgement -----------------------------------------------
def test_capacity_conflict_and_its_acknowledgement(cast, api_client_for):
    workshop = factories.WorkshopFactory(capacity=1)
    first = make_order("reviewed", cast=cast)
    factories.plan_order(first, cast, workshop=workshop)
    assert run_via_service(cast.production_supervisor, first.pk, "schedule").status == 200
    second = make_order("reviewed", cast=cast)
    factories.plan_order(second, cast, workshop=workshop)
    outcome = run_via_service(cast.production_supervisor, second.pk, "schedule")
    assert outcome.status == 400 and outcome.unmet == ["capacity_exceeded"]
    # acknowledged without a reason: still refused
    outcome = run_via_service(cast.production_supervisor, second.pk, "schedule", acknowledge_capacity=True)
    assert outcome.unmet == ["capacity_exceeded"]
    second.refresh_from_db()
    assert second.state == State.REVIEWED
    # the load API shows the overloaded week once both count (the first is scheduled)
    supervisor = api_client_for(cast.production_supervisor)
    load = call(
        supervisor,
        "get",
        f"/production/workshops/{workshop.pk}/load/",
        {"start": timezone.localdate().isoformat(), "end": days(14).isoformat()},
        expect=200,
    )
    assert load["weeks"][0]["planned"] == 1 and load["weeks"][0]["capacity"] == 1
    assert [o["id"] for o in load["weeks"][0]["orders"]] == [first.pk]
    # through the API, with a reason
    body = call(
        supervisor,
        "post",
        f"/orders/{second.pk}/transitions/schedule/",
        {"comment": "rush order, second shift", "acknowledge_capacity": True},
        expect=200,
    )
    assert body["state"] == "scheduled"
    plan = second.production_plan
    plan.refresh_from_db()
    assert (
        plan.capacity_reason == "rush order, second shift"
        and plan.capacity_acknowledged_by == cast.production_supervisor
    )
    load = call(supervisor, "get", f"/production/workshops/{workshop.pk}/load/", expect=200)
    assert load["weeks"][0]["planned"] == 2 > load["weeks"][0]["capacity"]


def test_a_week_of_more_capacity_removes_the_conflict(cast):
    workshop = factories.WorkshopFactory(capacity=1)
    first = make_order("reviewed", cast=cast)
    factories.plan_order(
        first,
        cast,
        workshop=workshop,
        milestones=[{"name": "x", "due_date": days(2), "responsible": cast.production_worker}],
    )
    assert run_via_service(cast.production_supervisor, first.pk, "schedule").status == 200
    second = make_order("reviewed", cast=cast)
    factories.plan_order(
        second,
        cast,
        workshop=workshop,
        milestones=[{"name": "y", "due_date": days(2), "responsible": cast.production_worker}],
    )
    assert run_via_service(cast.production_supervisor, second.pk, "schedule").unmet == ["capacity_exceeded"]
    for week in {selectors.monday(timezone.localdate()), selectors.monday(days(2))}:
        WorkshopWeek.objects.create(workshop=workshop, week=week, capacity=3, note="second shift")
    assert run_via_service(cast.production_supervisor, second.pk, "schedule").status == 200


def test_load_endpoint_bad_input(cast, api_client_for):
    workshop = factories.WorkshopFactory()
    client = api_client_for(cast.production_supervisor)
    call(client, "get", f"/production/workshops/{workshop.pk}/load/", {"start": "nope"}, expect=400)
    call(
        client,
        "get",
        f"/production/workshops/{workshop.pk}/load/",
        {"start": days(10).isoformat(), "end": days(1).isoformat()},
        expect=400,
    )
    call(
        client,
        "get",
        f"/production/workshops/{workshop.pk}/load/",
        {"start": days(0).isoformat(), "end": days(800).isoformat()},
        expect=400,
    )
    call(client, "get", "/production/workshops/999999/load/", expect=404)


# --- readiness from preparation tasks -----------------------------------------------------------------------
def test_readiness_means_all_tasks_of_a_kind_are_ready(cast, api_client_for):
    order = make_order("scheduled", cast=cast)
    factories.make_ready(order, cast)  # the two flags say ready ...
    supervisor = api_client_for(cast.production_supervisor)
    worker = api_client_for(cast.production_worker)
    task = call(
        supervisor,
        "post",
        "/production/preparations/",
        {
            "order": order.pk,
            "kind": "material",
            "description": "steel sheet",
            "owner": cast.production_worker.pk,
            "due_date": days(2).isoformat(),
        },
        expect=201,
    )
    assert Notification.objects.filter(user=cast.production_worker, kind="preparation_assigned").exists()
    # ... but a material task is open: materials are not ready
    outcome = run_via_service(cast.production_supervisor, order.pk, "start_production")
    assert outcome.unmet == ["materials_not_ready"]
    # only the owner (or a supervisor) marks it ready, once
    other = factories.user_with_role("production_worker", "worker2")
    call(api_client_for(other), "post", f"/production/preparations/{task['id']}/ready/", expect=403)
    body = call(worker, "post", f"/production/preparations/{task['id']}/ready/", expect=200)
    assert body["is_ready"] is True
    call(worker, "post", f"/production/preparations/{task['id']}/ready/", expect=409)
    assert run_via_service(cast.production_supervisor, order.pk, "start_production").status == 200


def test_equipment_tasks_gate_equipment_only(cast):
    order = make_order("scheduled", cast=cast)
    factories.make_ready(order, cast)
    task = services.add_preparation(
        user=cast.production_supervisor,
        order_id=order.pk,
        kind="equipment",
        description="fixture",
        owner=cast.production_worker,
        due_date=days(1),
    )
    assert run_via_service(cast.production_supervisor, order.pk, "start_production").unmet == ["equipment_not_ready"]
    services.mark_preparation_ready(user=cast.production_supervisor, task_id=task.pk)
    assert order.production_plan.__class__.objects.get(order=order).equipment_ready is True


# --- issues: expected date, disposition, owner; the customer message reviewed before sending ----------------
def test_issue_values_are_checked(cast):
    order = make_order("producing", cast=cast)
    past = timezone.localdate() - datetime.timedelta(days=1)
    for kwargs in (
        {"kind": "delay", "expected_date": past},
        {"kind": "delay", "disposition": "rework"},
        {"kind": "quality", "expected_date": days(3)},
        {"kind": "quality", "disposition": "melt"},
    ):
        with pytest.raises(InvalidInput):
            services.open_issue(user=cast.production_worker, order_id=order.pk, description="x", **kwargs)
    assert not ProductionIssue.objects.filter(order=order).exists()


def test_a_rework_disposition_needs_a_new_report_before_shipping(cast):
    order = make_order("producing", ready_for="ship", cast=cast)
    issue = services.open_issue(
        user=cast.production_worker,
        order_id=order.pk,
        kind="quality",
        description="burrs",
        disposition="rework",
        owner=cast.production_supervisor,
    )
    assert Notification.objects.filter(user=cast.production_supervisor, kind="issue_opened").exists()
    services.resolve_issue(user=cast.production_supervisor, issue_id=issue.pk, resolution="deburred")
    assert run_via_service(cast.logistics_specialist, order.pk, "ship").unmet == ["rework_not_reported"]
    services.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=100)
    assert run_via_service(cast.logistics_specialist, order.pk, "ship").status == 200


@pytest.mark.parametrize("disposition", ["scrap", "concession"])
def test_scrap_and_concession_do_not_ask_for_rework(cast, disposition):
    order = make_order("producing", ready_for="ship", cast=cast)
    issue = services.open_issue(user=cast.production_worker, order_id=order.pk, kind="quality", description="dent")
    services.resolve_issue(user=cast.production_supervisor, issue_id=issue.pk, resolution="ok", disposition=disposition)
    issue.refresh_from_db()
    assert issue.disposition == disposition
    assert run_via_service(cast.logistics_specialist, order.pk, "ship").status == 200


def test_the_customer_message_is_reviewed_before_it_is_sent(cast, api_client_for, django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(language="en")
    order = make_order("producing", cast=cast, customer=customer)
    worker, owner = api_client_for(cast.production_worker), api_client_for(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        issue = call(
            worker,
            "post",
            "/production/issues/",
            {
                "order": order.pk,
                "kind": "delay",
                "description": "casting supplier late (internal)",
                "expected_date": days(30).isoformat(),
                "owner": cast.production_supervisor.pk,
            },
            expect=201,
        )
    assert issue["message_state"] == "draft" and days(30).isoformat() in issue["customer_message"]
    assert "internal" not in issue["customer_message"]  # drafted for the customer, in English (their language)
    assert "delayed" in issue["customer_message"]
    assert not EmailOutbox.objects.filter(order=order, kind="customer_delayed").exists()
    assert Notification.objects.filter(user=cast.owner, kind="issue_opened", message_id="issue_opened_review").exists()
    # production may not send it; another assistant does not see the order
    call(worker, "post", f"/production/issues/{issue['id']}/send-message/", {}, expect=403)
    other = api_client_for(factories.user_with_role("sales_assistant", "sales_assistant2"))
    call(other, "post", f"/production/issues/{issue['id']}/send-message/", {}, expect=404)
    call(owner, "post", f"/production/issues/{issue['id']}/customer-message/", {"customer_message": " "}, expect=400)
    body = call(
        owner,
        "post",
        f"/production/issues/{issue['id']}/customer-message/",
        {"customer_message": "We are one week late, sorry."},
        expect=200,
    )
    assert body["message_state"] == "draft"
    # nothing reaches the tracking page before sending
    assert "We are one week late" not in factories_track(order)
    with django_capture_on_commit_callbacks(execute=True):
        body = call(owner, "post", f"/production/issues/{issue['id']}/send-message/", {}, expect=200)
    assert body["message_state"] == "sent" and body["message_sent_by"] == cast.owner.pk
    mail = EmailOutbox.objects.get(order=order, kind="customer_delayed")
    assert mail.language == "en" and "We are one week late, sorry." in mail.body and "internal" not in mail.body
    assert "We are one week late, sorry." in factories_track(order)
    call(owner, "post", f"/production/issues/{issue['id']}/send-message/", {}, expect=409)
    call(owner, "post", f"/production/issues/{issue['id']}/customer-message/", {"customer_message": "x"}, expect=409)
    assert EmailOutbox.objects.filter(order=order, kind="customer_delayed").count() == 1


def factories_track(order) -> str:
    from urllib.parse import urlsplit

    from django.test import Client

    response = Client().get(urlsplit(order.tracking_url).path, secure=True)
    assert response.status_code == 200
    return response.content.decode()


def test_a_quality_message_is_drafted_in_chinese_by_disposition(cast):
    order = make_order("producing", cast=cast, customer=factories.CustomerFactory(language="zh-hans"))
    issue = services.open_issue(
        user=cast.production_worker,
        order_id=order.pk,
        kind="quality",
        description="weld porosity",
        disposition="rework",
    )
    assert "weld" not in issue.customer_message and any("\u4e00" <= ch <= "\u9fff" for ch in issue.customer_message)


# --- the hand-over (R4.3) and the move --------------------------------------------------------------------
def test_hand_over_and_move_with_a_reason(cast, api_client_for):
    order = make_order("reviewed", cast=cast)
    w1, w2 = factories.WorkshopFactory(), factories.WorkshopFactory()
    owner, supervisor = api_client_for(cast.owner), api_client_for(cast.production_supervisor)
    call(
        api_client_for(cast.production_worker),
        "post",
        "/production/handovers/",
        {"order": order.pk, "workshop": w1.pk, "note": "x"},
        expect=403,
    )
    body = call(
        owner,
        "post",
        "/production/handovers/",
        {"order": order.pk, "workshop": w1.pk, "note": "key customer: first"},
        expect=201,
    )
    assert body["workshop"] == w1.pk and body["note"] == "key customer: first"
    order.refresh_from_db()
    assert order.workshop == w1
    assert Notification.objects.filter(user=cast.production_supervisor, kind="handed_over").exists()
    call(supervisor, "post", "/production/moves/", {"order": order.pk, "workshop": w2.pk, "reason": ""}, expect=400)
    call(owner, "post", "/production/moves/", {"order": order.pk, "workshop": w2.pk, "reason": "x"}, expect=403)
    body = call(
        supervisor,
        "post",
        "/production/moves/",
        {"order": order.pk, "workshop": w2.pk, "reason": "W1 overloaded"},
        expect=200,
    )
    assert body["moved_reason"] == "W1 overloaded"
    changes = dict(OrderChange.objects.filter(order=order).values_list("field", "new_value"))
    assert w2.code in changes["workshop"] and changes["workshop_move_reason"] == "W1 overloaded"
    history = call(supervisor, "get", f"/orders/{order.pk}/history/", expect=200)
    assert "W1 overloaded" in str(history)
    # after scheduling the assistant no longer hands over
    factories.plan_order(order, cast, workshop=w2)
    factories.run(order, "schedule", cast.production_supervisor)
    call(owner, "post", "/production/handovers/", {"order": order.pk, "workshop": w1.pk}, expect=409)


# --- at risk: never for done work ---------------------------------------------------------------------------
def test_a_complete_order_is_never_at_risk(cast):
    from orders import checks

    order, first, second = producing_with_two(cast)
    services.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=100)
    late = timezone.now() + datetime.timedelta(days=5)  # the first milestone is past due, not completed
    import time_machine

    with time_machine.travel(late, tick=False):
        checks.run_check("at_risk")
    assert not Alert.objects.filter(order=order, kind="at_risk").exists()


def test_a_completed_milestone_is_not_late(cast):
    from orders import checks

    order, first, second = producing_with_two(cast)
    services.complete_milestone(user=cast.production_worker, milestone_id=first.pk)
    import time_machine

    with time_machine.travel(timezone.now() + datetime.timedelta(days=5), tick=False):
        checks.run_check("at_risk")
    assert not Alert.objects.filter(order=order, kind="at_risk").exists()
    # the same order with the milestone open is flagged (the oracle works)
    Milestone.objects.filter(pk=first.pk).update(done_at=None)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=5), tick=False):
        checks.run_check("at_risk")
    assert Alert.objects.filter(order=order, kind="at_risk").exists()


def test_scope_of_the_new_lists(cast, api_client_for):
    order, first, _ = producing_with_two(cast)
    services.add_preparation(
        user=cast.production_supervisor,
        order_id=make_order("scheduled", cast=cast).pk,
        kind="material",
        description="steel",
        owner=cast.production_worker,
        due_date=days(2),
    )
    other = api_client_for(factories.user_with_role("sales_assistant", "sales_assistant2"))
    assert results(call(other, "get", "/production/milestones/", expect=200)) == []
    assert results(call(other, "get", "/production/preparations/", expect=200)) == []
    with pytest.raises(NotFound):
        services.complete_milestone(
            user=factories.user_with_role("sales_assistant", "sales_assistant2"), milestone_id=first.pk
        )
