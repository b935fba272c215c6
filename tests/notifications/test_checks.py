"""The scheduled checks on frozen time: each fires once per condition, resolves when it clears,
fires again when it comes back, and escalates once to the managers when it stays unresolved."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from notifications.models import EmailOutbox, Notification
from orders import checks, tasks
from orders.models import Alert, Order
from production import checks as production_checks, services as production
from production.models import Milestone
from tests import factories
from tests.factories import Cast, make_order

pytestmark = pytest.mark.django_db

ESCALATION = datetime.timedelta(hours=48)


@pytest.fixture
def cast(db, settings):
    settings.STALE_PROGRESS_DAYS = 5
    settings.REVIEW_WAIT_HOURS = 24
    settings.ALERT_ESCALATION_HOURS = 48
    cast = Cast()
    for role in ("sales_manager", "production_supervisor", "finance_specialist", "finance_manager",
                 "production_worker", "logistics_specialist"):
        getattr(cast, role)
    return cast


def at(moment):
    return time_machine.travel(moment, tick=False)


def notified(order, kind) -> list[str]:
    return sorted(Notification.objects.filter(order=order, kind=kind).values_list("user__username", flat=True))


def alert(order, kind) -> Alert:
    return Alert.objects.get(order=order, kind=kind)


def start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))


def finish_milestones(order):
    Milestone.objects.filter(plan__order=order).update(done_at=timezone.now())


# --- overdue: fire once, escalate once, resolve, fire again ----------------------------------------
def test_overdue_fires_once_escalates_once_resolves_and_fires_again(cast):
    order = make_order("producing", cast=cast)
    finish_milestones(order)
    late = start_of(order.promised_delivery_date + datetime.timedelta(days=1))

    with at(late):
        assert checks.run_check("overdue") == {"resolved": 0, "fired": 1, "escalated": 0}
        assert checks.run_check("overdue") == {"resolved": 0, "fired": 0, "escalated": 0}
    assert notified(order, "order_overdue") == ["sales_assistant", "sales_manager"]
    assert alert(order, "overdue").fired_at == late
    assert EmailOutbox.objects.filter(order=order, kind="order_overdue").count() == 2

    with at(late + ESCALATION - datetime.timedelta(minutes=1)):
        assert checks.run_check("overdue")["escalated"] == 0
    with at(late + ESCALATION):
        assert checks.run_check("overdue") == {"resolved": 0, "fired": 0, "escalated": 1}
        assert checks.run_check("overdue")["escalated"] == 0
    assert alert(order, "overdue").escalated_at == late + ESCALATION
    assert notified(order, "alert_escalated") == ["sales_manager"]
    assert "48" in Notification.objects.get(order=order, kind="alert_escalated").message
    assert notified(order, "order_overdue") == ["sales_assistant", "sales_manager"]  # not repeated

    # the promise is renegotiated: the condition clears and the alert resolves
    later = late + ESCALATION + datetime.timedelta(hours=1)
    Order.objects.filter(pk=order.pk).update(promised_delivery_date=later.date() + datetime.timedelta(days=3))
    with at(later):
        assert checks.run_check("overdue") == {"resolved": 1, "fired": 0, "escalated": 0}
    assert alert(order, "overdue").resolved_at == later

    # ... and it is late again: a new episode fires (once), its escalation clock restarts
    again = later + datetime.timedelta(days=5)
    with at(again):
        assert checks.run_check("overdue") == {"resolved": 0, "fired": 1, "escalated": 0}
        assert checks.run_check("overdue")["fired"] == 0
    renewed = alert(order, "overdue")
    assert (renewed.fired_at, renewed.resolved_at, renewed.escalated_at) == (again, None, None)
    assert notified(order, "order_overdue") == ["sales_assistant", "sales_assistant", "sales_manager", "sales_manager"]
    assert Alert.objects.filter(order=order).count() == 1


def test_a_resolved_alert_is_not_escalated(cast):
    order = make_order("producing", cast=cast)
    finish_milestones(order)
    late = start_of(order.promised_delivery_date + datetime.timedelta(days=1))
    with at(late):
        checks.run_check("overdue")
    Order.objects.filter(pk=order.pk).update(promised_delivery_date=late.date() + datetime.timedelta(days=30))
    with at(late + ESCALATION * 2):
        assert checks.run_check("overdue") == {"resolved": 1, "fired": 0, "escalated": 0}
    assert not Notification.objects.filter(kind="alert_escalated").exists()


# --- at risk ------------------------------------------------------------------------------------------------
def test_at_risk_from_a_milestone_past_due_then_resolved_when_done(cast):
    order = make_order("producing", cast=cast)
    first = Milestone.objects.filter(plan__order=order).order_by("due_date").first()
    Milestone.objects.filter(plan__order=order).exclude(pk=first.pk).update(done_at=timezone.now())

    with at(start_of(first.due_date)):
        assert checks.run_check("at_risk")["fired"] == 0  # due today is not late yet
    with at(start_of(first.due_date + datetime.timedelta(days=1))):
        assert checks.run_check("at_risk")["fired"] == 1
        assert checks.run_check("at_risk")["fired"] == 0
        assert notified(order, "order_at_risk") == ["production_supervisor", "sales_assistant", "sales_manager"]
        assert "plan" in Notification.objects.filter(kind="order_at_risk").first().message
        Milestone.objects.filter(pk=first.pk).update(done_at=timezone.now())
        assert checks.run_check("at_risk") == {"resolved": 1, "fired": 0, "escalated": 0}
    assert alert(order, "at_risk").resolved_at is not None


def test_at_risk_when_the_plan_ends_after_the_promised_date(cast):
    order = make_order("scheduled", cast=cast)
    Milestone.objects.filter(plan__order=order).update(
        due_date=order.promised_delivery_date + datetime.timedelta(days=4)
    )
    assert checks.run_check("at_risk")["fired"] == 1


def _reports(order, cast, points):
    """Progress reports (percent) at the given moments."""
    for moment, percent in points:
        with at(moment):
            production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=percent)


def test_at_risk_from_the_pace_of_progress_reports(cast):
    slow, fast = make_order("producing", cast=cast), make_order("producing", cast=cast)
    for order in (slow, fast):
        finish_milestones(order)
    t0 = timezone.now()
    # 45 days to the promise: 1 %/day finishes in ~90 days (late), 5 %/day in ~18 days (in time)
    _reports(slow, cast, [(t0, 10), (t0 + datetime.timedelta(days=10), 20)])
    _reports(fast, cast, [(t0, 10), (t0 + datetime.timedelta(days=10), 60)])
    with at(t0 + datetime.timedelta(days=10, hours=1)):
        assert checks.run_check("at_risk")["fired"] == 1
    assert notified(slow, "order_at_risk") and not notified(fast, "order_at_risk")
    assert "pace" in Notification.objects.get(order=slow, kind="order_at_risk", user=cast.sales_manager).message

    # production speeds up: the projection is in time again → resolved
    _reports(slow, cast, [(t0 + datetime.timedelta(days=12), 95)])
    with at(t0 + datetime.timedelta(days=12, hours=1)):
        assert checks.run_check("at_risk")["resolved"] == 1


def test_projection_maths():
    t0 = timezone.now()
    day = datetime.timedelta(days=1)
    assert production_checks.projected_finish(t0, 0, t0 + 10 * day, 50) == t0 + 20 * day
    assert production_checks.projected_finish(t0, 40, t0 + day, 40).year == 9999  # stalled
    assert production_checks.projected_finish(t0, 40, t0, 40) is None  # one moment: no pace
    assert production_checks.projected_finish(t0, 40, t0 + day, 100) is None  # finished


# --- stale ---------------------------------------------------------------------------------------------------
def test_stale_producing_orders_without_progress(cast):
    order = make_order("producing", cast=cast)
    scheduled = make_order("scheduled", cast=cast)
    started = timezone.now()
    with at(started + datetime.timedelta(days=5, hours=-1)):
        assert checks.run_check("stale")["fired"] == 0
    with at(started + datetime.timedelta(days=5, hours=1)):
        assert checks.run_check("stale")["fired"] == 1
        assert checks.run_check("stale")["fired"] == 0
        production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=30)
        assert checks.run_check("stale")["resolved"] == 1
    assert notified(order, "order_stale") == ["production_supervisor", "sales_assistant"]
    assert not notified(scheduled, "order_stale")
    with at(started + datetime.timedelta(days=11)):  # silent again for 5 days after that report
        assert checks.run_check("stale")["fired"] == 1


# --- receivables ---------------------------------------------------------------------------------------------
def test_overdue_receivables_tell_finance_and_the_assistant(cast):
    order = make_order("accepted", cast=cast)
    invoice = factories.invoice_and_pay(order, cast, pay=False)
    with at(start_of(invoice.due_date)):
        assert checks.run_check("payment_overdue")["fired"] == 0
    with at(start_of(invoice.due_date + datetime.timedelta(days=1))):
        assert checks.run_check("payment_overdue")["fired"] == 1
        assert checks.run_check("payment_overdue")["fired"] == 0
        assert notified(order, "payment_overdue") == ["finance_manager", "finance_specialist", "sales_assistant"]
        from finance import services as finance

        finance.record_payment(user=cast.finance_specialist, invoice_id=invoice.pk, amount=invoice.amount,
                               received_on=timezone.localdate(), reference="LATE-1")
        assert checks.run_check("payment_overdue")["resolved"] == 1


# --- review waiting ------------------------------------------------------------------------------------------
def test_submitted_orders_waiting_too_long_for_review(cast):
    order = make_order("received", cast=cast, submitted=True)
    submitted = Order.objects.get(pk=order.pk).submitted_at
    with at(submitted + datetime.timedelta(hours=23)):
        assert checks.run_check("review_waiting")["fired"] == 0
    with at(submitted + datetime.timedelta(hours=25)):
        assert checks.run_check("review_waiting")["fired"] == 1
        assert checks.run_check("review_waiting")["fired"] == 0
        assert notified(order, "review_waiting") == ["sales_manager"]
        factories.run(order, "approve", cast.sales_manager, comment="ok")
        assert checks.run_check("review_waiting")["resolved"] == 1
    with at(submitted + datetime.timedelta(hours=25) + ESCALATION):
        assert checks.run_check("review_waiting")["escalated"] == 0


# --- one code path: command, task, schedule -----------------------------------------------------------------
def test_the_command_and_the_tasks_run_every_check(cast):
    order = make_order("received", cast=cast, submitted=True)
    with at(Order.objects.get(pk=order.pk).submitted_at + datetime.timedelta(hours=30)):
        out = StringIO()
        call_command("check_overdue", stdout=out)
        text = out.getvalue()
        for name in ("overdue", "at_risk", "stale", "payment_overdue", "review_waiting", "resolved", "escalated"):
            assert f"{name}: " in text
        assert "review_waiting: 1" in text
        assert tasks.check_overdue.apply().get()["review_waiting"] == 0
        assert tasks.run_check.apply(args=("review_waiting",)).get() == {"resolved": 0, "fired": 0, "escalated": 0}
        out = StringIO()
        call_command("check_overdue", "--only", "stale", stdout=out)
        assert out.getvalue().splitlines()[0] == "stale: 0"
    with pytest.raises(CommandError):
        call_command("check_overdue", "--only", "nonsense")


def test_the_beat_schedule_is_in_the_database(db):
    from django_celery_beat.models import PeriodicTask

    if not PeriodicTask.objects.filter(name="deliver_pending").exists():  # a transactional test flushed it
        import importlib

        from django.apps import apps

        importlib.import_module("notifications.migrations.0002_schedules").forwards(apps, None)
    tasks_by_name = dict(PeriodicTask.objects.values_list("name", "task"))
    assert tasks_by_name["deliver_pending"] == "notifications.tasks.deliver_pending"
    assert tasks_by_name["check_overdue"] == "orders.tasks.check_overdue"  # runs every check
    enabled = dict(PeriodicTask.objects.values_list("name", "enabled"))
    assert enabled["deliver_pending"] and enabled["check_overdue"]
    for name in ("check_at_risk", "check_stale", "check_payment_overdue", "check_review_waiting"):
        assert tasks_by_name[name] == "orders.tasks.run_check" and not enabled[name]
    from orderdesk.celery import app

    app.loader.import_default_modules()
    for task in set(tasks_by_name.values()):
        assert task in app.tasks
