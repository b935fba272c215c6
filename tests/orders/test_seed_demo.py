"""`seed_demo` (DESIGN §6): one user per role, orders in every state, idempotent, KPIs with history."""

import datetime
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from django_fsm_log.models import StateLog

from orderdesk.roles import ROLES
from orders.models import Alert, Order, State
from supervision.selectors.kpis import kpis

pytestmark = pytest.mark.django_db

User = get_user_model()


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_builds_every_state_and_is_idempotent(mailoutbox):
    seed()
    users = {u.username: u for u in User.objects.all()}
    for role in ROLES:
        assert users[role].groups.filter(name=role).exists()
        assert users[role].check_password(settings.DEMO_PASSWORD)
    assert users["sales_assistant2"].groups.filter(name="sales_assistant").exists()
    assert users["admin"].is_superuser
    states = set(Order.objects.values_list("state", flat=True))
    assert states == set(State.values)
    today = timezone.localdate()
    overdue = Order.objects.filter(promised_delivery_date__lt=today).exclude(
        state__in=[State.ACCEPTED, State.SETTLED, State.CANCELLED]
    )
    assert overdue.exists()
    # the scheduled checks ran: the dashboards show overdue and at-risk orders
    assert set(Alert.objects.values_list("kind", flat=True)) >= {Alert.Kind.OVERDUE, Alert.Kind.AT_RISK}
    # every state was reached through recorded transitions, never written directly
    for order in Order.objects.exclude(state=State.RECEIVED):
        assert StateLog.objects.filter(object_id=order.pk, state=order.state).exists(), order.number

    # a partly shipped order (R3.4) whose promise was revised with a reason (R5.3)
    from logistics.selectors import order_list

    partly = list(order_list(users["logistics_specialist"], "partly_shipped"))
    assert partly and any(o.promise_changes.exclude(reason="").exists() for o in partly)

    counts = (Order.objects.count(), StateLog.objects.count(), User.objects.count())
    out = seed()
    assert "none created" in out
    assert (Order.objects.count(), StateLog.objects.count(), User.objects.count()) == counts


def test_seed_demo_gives_the_kpis_months_of_history():
    seed()
    today = timezone.localdate()
    body = kpis(start=today - datetime.timedelta(days=180), end=today)
    assert body["accuracy_rate"] is not None and 0 < body["accuracy_rate"] < 1
    assert body["on_time_delivery_rate"] is not None and 0 < body["on_time_delivery_rate"] < 1
    assert body["review_turnaround_hours"] and body["review_turnaround_hours"] > 0
    assert len(body["series"]) >= 4  # finished orders spread over several months


def test_seed_demo_voices_the_customers():
    """Issue 12: most questionnaires answered, follow-ups, a complaint to closure, a confirmed loss, phones."""
    from feedback.models import Complaint, FollowUp, Survey
    from orderdesk.models import StaffProfile
    from supervision.models import LossIncident

    seed()
    sent = Survey.objects.count()
    answered = Survey.objects.filter(answered_at__isnull=False).count()
    assert sent >= 5 and answered >= sent - 1 and answered > sent / 2
    assert Survey.objects.filter(quality__isnull=False, punctuality__isnull=False).count() == answered
    assert FollowUp.objects.count() >= 3
    assert Complaint.objects.filter(source="customer", status="closed", customer_told_at__isnull=False).exists() \
        or Complaint.objects.filter(source="customer", status="closed").exists()
    assert LossIncident.objects.filter(status="confirmed").exists()
    assert StaffProfile.objects.filter(user__username="sales_assistant").exclude(phone="").exists()
    counts = (FollowUp.objects.count(), Complaint.objects.count(), LossIncident.objects.count())
    seed()
    assert (FollowUp.objects.count(), Complaint.objects.count(), LossIncident.objects.count()) == counts
