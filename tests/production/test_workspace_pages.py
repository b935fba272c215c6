"""Issue 10: the production workspace's pages — who sees them, their CSV exports (field classes), the page
actions (hand-over, customer message, plan, preparation, move, report, complete) with bad input refused and
nothing written."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from notifications.models import EmailOutbox
from orders.models import OrderChange, State
from production.models import Handover, Milestone, PreparationTask, ProductionIssue, ProgressReport
from tests import factories
from tests.factories import Cast, days, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return Cast()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


def test_who_sees_the_workspace(cast):
    order = make_order("reviewed", cast=cast)
    assert client_for(cast.production_supervisor).get("/production/", secure=True).status_code == 200
    assert client_for(cast.auditor).get("/production/", secure=True).status_code == 200
    assert client_for(cast.production_worker).get("/production/", secure=True).status_code == 403
    assert client_for(cast.sales_assistant).get("/production/", secure=True).status_code == 403
    assert client_for(cast.production_worker).get("/production/my/", secure=True).status_code == 200
    assert client_for(cast.sales_assistant).get("/production/my/", secure=True).status_code == 403
    # the plan page of an order outside the caller's scope is 404
    received = make_order("received", cast=cast)
    assert (
        client_for(cast.production_supervisor).get(f"/production/orders/{received.pk}/", secure=True).status_code == 404
    )
    assert client_for(cast.production_supervisor).get(f"/production/orders/{order.pk}/", secure=True).status_code == 200


def test_queues_and_exports_never_show_prices_or_contact(cast, django_assert_max_num_queries):
    order = make_order("reviewed", cast=cast, unit_price="98765.43")
    order.customer.contact_phone = "+86 999 PHONE"
    order.customer.save()
    factories.make_order("producing", cast=cast)
    client = client_for(cast.production_supervisor)
    with django_assert_max_num_queries(30):
        page = client.get("/production/", secure=True)
    html = page.content.decode()
    assert order.number in html and "98765" not in html and order.contact_phone not in html
    for export in ("to_plan", "to_get_ready", "in_production", "late", "calendar"):
        response = client.get(f"/production/?export={export}", secure=True)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        text = body(response)
        assert "98765" not in text and order.contact_phone not in text and order.delivery_address not in text
    assert order.number in body(client.get("/production/?export=to_plan", secure=True))
    plan_page = client.get(f"/production/orders/{order.pk}/", secure=True).content.decode()
    assert "98765" not in plan_page and order.contact_phone not in plan_page
    assert "js/plan_editor.js" in plan_page and "<script>" not in plan_page


def test_plan_editor_saves_and_refuses_bad_rows(cast):
    order = make_order("reviewed", cast=cast)
    workshop = factories.WorkshopFactory()
    client = client_for(cast.production_supervisor)
    data = {
        "workshop": workshop.pk,
        "start_date": "",
        "milestones-TOTAL_FORMS": "3",
        "milestones-INITIAL_FORMS": "0",
        "milestones-MAX_NUM_FORMS": "30",
        "milestones-0-name": "cut",
        "milestones-0-due_date": days(3).isoformat(),
        "milestones-0-responsible": cast.production_worker.pk,
        "milestones-0-quantity": "5",
        "milestones-1-name": "",
        "milestones-1-due_date": "",
        "milestones-1-responsible": "",
        "milestones-2-name": "paint",
        "milestones-2-due_date": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
        "milestones-2-responsible": cast.production_worker.pk,
    }
    response = client.post(f"/production/orders/{order.pk}/", data, secure=True)
    assert response.status_code == 400 and not Milestone.objects.filter(plan__order=order).exists()
    data["milestones-2-due_date"] = days(6).isoformat()
    response = client.post(f"/production/orders/{order.pk}/", data, secure=True)
    assert response.status_code == 302
    assert list(Milestone.objects.filter(plan__order=order).values_list("name", "quantity")) == [
        ("cut", 5),
        ("paint", None),
    ]
    # a worker may not plan: 403, nothing changes
    assert (
        client_for(cast.production_worker).post(f"/production/orders/{order.pk}/", data, secure=True).status_code == 403
    )
    # schedule from the page
    response = client.post(f"/production/orders/{order.pk}/schedule/", {"comment": ""}, secure=True)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == State.SCHEDULED


def test_preparation_and_move_from_the_page(cast):
    order = make_order("scheduled", cast=cast)
    w2 = factories.WorkshopFactory()
    client = client_for(cast.production_supervisor)
    bad = {
        "kind": "material",
        "description": "steel",
        "owner": cast.production_worker.pk,
        "due_date": (timezone.localdate() - datetime.timedelta(days=2)).isoformat(),
    }
    assert client.post(f"/production/orders/{order.pk}/preparations/", bad, secure=True).status_code == 400
    assert not PreparationTask.objects.exists()
    good = {**bad, "due_date": days(2).isoformat()}
    assert client.post(f"/production/orders/{order.pk}/preparations/", good, secure=True).status_code == 302
    task = PreparationTask.objects.get()
    worker = client_for(cast.production_worker)
    assert worker.post(f"/production/preparations/{task.pk}/ready/", {"next": "my"}, secure=True).status_code == 302
    assert worker.post(f"/production/preparations/{task.pk}/ready/", {}, secure=True).status_code == 409
    assert (
        client.post(f"/production/orders/{order.pk}/move/", {"workshop": w2.pk, "reason": ""}, secure=True).status_code
        == 400
    )
    assert (
        client.post(
            f"/production/orders/{order.pk}/move/", {"workshop": w2.pk, "reason": "balance"}, secure=True
        ).status_code
        == 302
    )
    assert OrderChange.objects.filter(order=order, field="workshop_move_reason", new_value="balance").exists()


def test_worker_reports_and_completes_from_the_page(cast):
    order = make_order("producing", cast=cast)
    mine = Milestone.objects.get(plan__order=order, responsible=cast.production_worker)
    theirs = Milestone.objects.get(plan__order=order, responsible=cast.production_supervisor)
    worker = client_for(cast.production_worker)
    html = worker.get("/production/my/", secure=True).content.decode()
    assert f'data-milestone="{mine.pk}"' in html and f'data-milestone="{theirs.pk}"' not in html
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("p.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 32, content_type="image/jpeg")
    response = worker.post(
        f"/production/milestones/{mine.pk}/report/",
        {"percent_complete": "30", "note": "half", "photo": photo},
        secure=True,
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get(order=order, milestone=mine)
    assert report.percent_complete == 30 and report.photo.name.endswith(".jpg")
    # someone else's milestone: 403; over 100: 400; nothing written
    assert worker.post(f"/production/milestones/{theirs.pk}/complete/", {}, secure=True).status_code == 403
    assert (
        worker.post(f"/production/milestones/{mine.pk}/report/", {"percent_complete": "101"}, secure=True).status_code
        == 400
    )
    assert ProgressReport.objects.filter(order=order).count() == 1
    assert worker.post(f"/production/milestones/{mine.pk}/complete/", {"note": "ok"}, secure=True).status_code == 302
    assert worker.post(f"/production/milestones/{mine.pk}/complete/", {}, secure=True).status_code == 409
    assert worker.post("/production/milestones/999999/complete/", {}, secure=True).status_code == 404
    assert worker.get("/production/my/?export=csv", secure=True)["Content-Type"].startswith("text/csv")


def test_assistant_hands_over_and_sends_the_message_on_the_order_page(cast, django_capture_on_commit_callbacks):
    order = make_order("reviewed", cast=cast)
    workshop = factories.WorkshopFactory()
    owner = client_for(cast.owner)
    page = owner.get(f"/orders/{order.pk}/", secure=True).content.decode()
    assert f"/orders/{order.pk}/handover/" in page
    assert owner.post(f"/orders/{order.pk}/handover/", {"workshop": "", "note": "x"}, secure=True).status_code == 400
    assert (
        owner.post(
            f"/orders/{order.pk}/handover/", {"workshop": workshop.pk, "note": "urgent"}, secure=True
        ).status_code
        == 302
    )
    assert Handover.objects.get(order=order).note == "urgent"
    assert (
        client_for(cast.production_worker)
        .post(f"/orders/{order.pk}/handover/", {"workshop": workshop.pk}, secure=True)
        .status_code
        == 403
    )
    producing = make_order("producing", cast=cast)
    from production import services

    issue = services.open_issue(
        user=cast.production_worker,
        order_id=producing.pk,
        kind="quality",
        description="scratches (internal)",
        disposition="rework",
    )
    url = f"/orders/{producing.pk}/issues/{issue.pk}/message/"
    assert url in owner.get(f"/orders/{producing.pk}/", secure=True).content.decode()
    assert url not in client_for(cast.production_worker).get(f"/orders/{producing.pk}/", secure=True).content.decode()
    assert owner.post(url, {"customer_message": "", "action": "send"}, secure=True).status_code == 400
    assert (
        owner.post(url, {"customer_message": "Reworking two units.", "action": "save"}, secure=True).status_code == 302
    )
    issue.refresh_from_db()
    assert issue.message_state == "draft" and issue.customer_message == "Reworking two units."
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            owner.post(
                url, {"customer_message": "Reworking two units, done Friday.", "action": "send"}, secure=True
            ).status_code
            == 302
        )
    assert EmailOutbox.objects.filter(order=producing, kind="customer_quality").count() == 1
    assert owner.post(url, {"customer_message": "again", "action": "send"}, secure=True).status_code == 409
    assert ProductionIssue.objects.get(pk=issue.pk).customer_message == "Reworking two units, done Friday."
