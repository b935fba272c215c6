"""Notifications after commit (DESIGN §4, §6) and the scheduled overdue check (`check_overdue`)."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from notifications import events
from notifications.models import EmailOutbox, Notification
from orders import lifecycle, tasks
from orders.models import Alert, Order, State
from tests import factories
from tests.factories import Cast, make_order, receipt_data, today
from tests.utils import API, results, run_via_service, state_logs

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    cast = Cast()
    for role in (
        "sales_manager",
        "production_supervisor",
        "logistics_supervisor",
        "finance_specialist",
        "finance_manager",
        "production_worker",
        "logistics_specialist",
        "auditor",
    ):
        getattr(cast, role)
    cast._users["sales_manager2"] = factories.user_with_role("sales_manager", "sales_manager2")
    return cast


def notified(order, kind=None) -> set[str]:
    qs = Notification.objects.filter(order=order)
    if kind:
        qs = qs.filter(kind=kind)
    return set(qs.values_list("user__username", flat=True))


# transition → (state to start from, actor, data, kind, recipients). Recipients by username; the actor is never told.
NOTIFY_CASES = {
    "submit": ("received", "owner", {}, "review_requested", {"sales_manager", "sales_manager2"}),
    "return": ("received+submitted", "sales_manager", {"comment": "why"}, "order_returned", {"sales_assistant"}),
    "approve": (
        "received+submitted",
        "sales_manager",
        {"comment": "ok"},
        "order_approved",
        {"sales_assistant", "production_supervisor"},
    ),
    "schedule": (
        "reviewed",
        "production_supervisor",
        {},
        "order_scheduled",
        {"sales_assistant", "logistics_supervisor"},
    ),
    "start_production": ("scheduled", "production_supervisor", {}, "production_started", {"sales_assistant"}),
    "ship": ("producing", "logistics_specialist", {}, "order_shipped", {"sales_assistant", "finance_specialist"}),
    "accept": ("shipped", "owner", receipt_data(), "order_accepted", {"finance_specialist", "finance_manager"}),
    "reject_delivery": (
        "shipped",
        "sales_manager",
        {"comment": "broken"},
        "delivery_rejected",
        {"sales_assistant", "production_supervisor", "sales_manager2"},
    ),
    "settle": ("accepted", "finance_manager", {}, "order_settled", {"sales_assistant"}),
    "cancel": (
        "scheduled",
        "sales_manager",
        {"comment": "withdrawn"},
        "order_cancelled",
        {"sales_assistant", "production_supervisor"},
    ),
}


@pytest.mark.parametrize("name", list(NOTIFY_CASES))
def test_transition_notifies_the_right_people_after_commit(name, cast, django_capture_on_commit_callbacks):
    start, actor, data, kind, recipients = NOTIFY_CASES[name]
    state, _, submitted = start.partition("+")
    order = make_order(state, cast=cast, submitted=bool(submitted), ready_for=name)
    Notification.objects.all().delete()
    user = getattr(cast, actor)
    data = dict(data)
    comment = data.pop("comment", "")

    EmailOutbox.objects.all().delete()
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        factories.run(order, name, user, comment, **data)
        # the outbox (issue 5): in-app rows and e-mails are written with the transition ...
        assert notified(order, kind) == recipients
        pending = set(EmailOutbox.objects.values_list("status", flat=True))
        assert pending <= {"pending"}
    # ... and only the sending waits for the commit
    assert not mail.outbox, "e-mail sent before commit"
    assert bool(callbacks) == bool(pending), "sending not queued for after commit"
    for callback in callbacks:
        callback()
    assert set(EmailOutbox.objects.values_list("status", flat=True)) <= {"sent"}
    assert len(mail.outbox) == EmailOutbox.objects.count()

    assert notified(order, kind) == recipients
    assert user.username not in notified(order)
    assert set(Notification.objects.values_list("kind", flat=True)) == {kind}
    assert all(order.number in n.message for n in Notification.objects.all())


def test_joint_review_submit_asks_for_signoffs(cast, django_capture_on_commit_callbacks):
    order = make_order("received", cast=cast, special_terms="weekly partial deliveries")
    with django_capture_on_commit_callbacks(execute=True):
        factories.run(order, "submit", cast.owner)
    assert notified(order, "review_requested") == {"sales_manager", "sales_manager2"}
    assert notified(order, "signoff_requested") == {"finance_manager", "production_supervisor"}


def test_a_refused_transition_notifies_nobody(cast, django_capture_on_commit_callbacks):
    order = make_order("received", cast=cast)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert run_via_service(cast.sales_manager, order.pk, "cancel").status == 400
        assert run_via_service(cast.production_worker, order.pk, "cancel", "x").status == 404
        assert run_via_service(cast.owner, order.pk, "cancel", "x").status == 403
        assert run_via_service(cast.sales_manager, order.pk, "settle").status == 403
        assert run_via_service(cast.sales_manager, order.pk, "ship").status == 403
        assert run_via_service(cast.sales_manager, order.pk, "approve", "x").status == 400
    assert callbacks == []
    assert not Notification.objects.exists()


def test_re_running_a_transitions_notifications_is_idempotent(cast, django_capture_on_commit_callbacks):
    order = make_order("received", cast=cast, submitted=True)
    with django_capture_on_commit_callbacks(execute=True):
        factories.run(order, "approve", cast.sales_manager, comment="ok")
    first = Notification.objects.count()
    assert Notification.objects.filter(kind="order_approved").count() == 2
    emails = EmailOutbox.objects.count()
    log = state_logs(order.pk).get(transition="approve")
    # a re-run (same transition record) writes nothing new
    entry = lifecycle.spec("approve")
    for _ in range(2):
        events.notify_transition(log_id=log.pk, order_id=order.pk, name="approve", actor_id=cast.sales_manager.pk,
                                 notices=entry.notices, customer_events=entry.customer_events)
    assert Notification.objects.count() == first
    assert EmailOutbox.objects.count() == emails


def test_notifications_api_lists_only_the_callers_newest_first_and_marks_read(
    cast, api_client_for, django_capture_on_commit_callbacks
):
    order = make_order("received", cast=cast, submitted=True)
    with django_capture_on_commit_callbacks(execute=True):
        factories.run(order, "approve", cast.sales_manager, comment="ok")
        factories.plan_order(order, cast)
        factories.run(order, "schedule", cast.production_supervisor)
    client = api_client_for(cast.owner)
    items = results(client.get(f"{API}/notifications/").json())
    assert [n["kind"] for n in items] == ["order_scheduled", "order_approved"]
    assert all(n["order"] == order.pk and n["read"] is False and n["message"] for n in items)
    other = results(api_client_for(cast.logistics_supervisor).get(f"{API}/notifications/").json())
    assert [n["kind"] for n in other] == ["order_scheduled"]

    assert client.post(f"{API}/notifications/read/", {}, format="json").status_code == 200
    assert all(n["read"] for n in results(client.get(f"{API}/notifications/").json()))
    assert Notification.objects.filter(user=cast.logistics_supervisor, read=False).count() == 1


# --- check_overdue ----------------------------------------------------------------------------------------------
def shift_promised(order, days_ago: int):
    Order.objects.filter(pk=order.pk).update(promised_delivery_date=today() - datetime.timedelta(days=days_ago))


def run_check() -> str:
    out = StringIO()
    call_command("check_overdue", stdout=out)
    return out.getvalue()


def test_check_overdue_notifies_assistant_and_managers_once(cast, api_client_for):
    late = make_order("producing", cast=cast)
    on_time = make_order("producing", cast=cast)
    shift_promised(late, 2)

    output = run_check()
    assert "overdue: 1" in output
    assert notified(late, "order_overdue") == {"sales_assistant", "sales_manager", "sales_manager2"}
    assert not Notification.objects.filter(order=on_time, kind="order_overdue").exists()
    assert Alert.objects.filter(order=late, kind="overdue").count() == 1

    # again: nothing new
    assert "overdue: 0" in run_check()
    assert Notification.objects.filter(kind="order_overdue").count() == 3

    # the API shows it as overdue and filters on it
    client = api_client_for(cast.sales_manager)
    assert client.get(f"{API}/orders/{late.pk}/").json()["is_overdue"] is True
    overdue_ids = {row["id"] for row in results(client.get(f"{API}/orders/", {"overdue": "true"}).json())}
    assert late.pk in overdue_ids and on_time.pk not in overdue_ids
    not_overdue = {row["id"] for row in results(client.get(f"{API}/orders/", {"overdue": "false"}).json())}
    assert on_time.pk in not_overdue and late.pk not in not_overdue


@pytest.mark.parametrize("state", ["accepted", "settled", "cancelled"])
def test_delivered_or_cancelled_orders_are_never_overdue(state, cast):
    order = make_order(state, cast=cast) if state != "cancelled" else make_order("scheduled", cast=cast)
    if state == "cancelled":
        factories.run(order, "cancel", cast.sales_manager, comment="withdrawn")
    shift_promised(order, 5)
    assert "overdue: 0" in run_check()
    assert not Notification.objects.filter(order=order, kind="order_overdue").exists()
    assert not Alert.objects.filter(order=order).exists()


@pytest.mark.parametrize("state", ["reviewed", "scheduled", "producing", "shipped"])
def test_every_open_state_past_its_promise_is_overdue(state, cast):
    order = make_order(state, cast=cast)
    shift_promised(order, 1)
    assert "overdue: 1" in run_check()
    assert notified(order, "order_overdue") == {"sales_assistant", "sales_manager", "sales_manager2"}


def test_an_order_due_today_is_not_overdue(cast):
    order = make_order("producing", cast=cast)
    shift_promised(order, 0)
    assert "overdue: 0" in run_check()
    assert not Notification.objects.filter(kind="order_overdue").exists()


def test_the_overdue_celery_task_runs_the_same_check(cast):
    order = make_order("shipped", cast=cast)
    shift_promised(order, 3)
    assert tasks.check_overdue.apply().get()["overdue"] == 1
    assert tasks.check_overdue.apply().get()["overdue"] == 0
    assert Order.objects.get(pk=order.pk).state == State.SHIPPED
