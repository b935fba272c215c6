"""Who is told what, by which channel (preferences), customer e-mails, the outbox's sending
(idempotent, retried, visible in admin) and the notification pages."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail, signing
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from notifications import services
from notifications.models import EmailOutbox, Notification, NotificationPreference
from orders.models import Order
from production import services as production
from tests import factories
from tests.factories import Cast, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cast = Cast()
    for role in ("sales_manager", "production_supervisor", "logistics_supervisor", "finance_specialist",
                 "finance_manager", "production_worker", "logistics_specialist"):
        getattr(cast, role)
    return cast


def outbox_for(order, kind):
    return EmailOutbox.objects.filter(order=order, kind=kind)


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


# --- the outbox is part of the cause's transaction ---------------------------------------------------
def test_notifications_roll_back_with_their_transition(cast):
    order = make_order("received", cast=cast, submitted=True)
    before = (Notification.objects.count(), EmailOutbox.objects.count())
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.run(order, "approve", cast.sales_manager, comment="ok")
        assert Notification.objects.filter(order=order, kind="order_approved").count() == 2
        assert outbox_for(order, "customer_confirmed").count() == 1
        raise RuntimeError("the surrounding work failed")
    assert (Notification.objects.count(), EmailOutbox.objects.count()) == before
    assert Order.objects.get(pk=order.pk).state == "received"


# --- preferences ---------------------------------------------------------------------------------------
def test_each_user_chooses_per_kind_and_channel(cast, django_capture_on_commit_callbacks):
    order = make_order("received", cast=cast, submitted=True)
    services.save_preferences(user=cast.production_supervisor, enabled=set())  # everything off
    services.save_preferences(user=cast.owner, enabled={("order_approved", "in_app")})  # app only
    with django_capture_on_commit_callbacks(execute=True):
        factories.run(order, "approve", cast.sales_manager, comment="ok")
    assert list(Notification.objects.filter(order=order, kind="order_approved").values_list("user__username", flat=True)) == [
        "sales_assistant"
    ]
    assert not outbox_for(order, "order_approved").exists()
    assert [m.to for m in mail.outbox] == [[order.customer.email]]  # the customer's confirmation only


def test_default_preferences_email_what_needs_action(cast, django_capture_on_commit_callbacks):
    order = make_order("received", cast=cast)
    with django_capture_on_commit_callbacks(execute=True):
        factories.run(order, "submit", cast.owner)
    assert outbox_for(order, "review_requested").get().recipient == cast.sales_manager.email
    assert mail.outbox[-1].to == [cast.sales_manager.email]
    assert order.number in mail.outbox[-1].subject
    assert f"/orders/{order.pk}/" in mail.outbox[-1].body
    table = {row["kind"]: row for row in services.preference_table(cast.owner)}
    assert table["review_requested"]["email"] and table["production_started"]["in_app"]
    assert not table["production_started"]["email"]


# --- customer e-mails ----------------------------------------------------------------------------------
def test_customers_are_told_through_the_lifecycle_in_their_language(cast, django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(language="en")
    order = make_order("received", cast=cast, submitted=True, customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        factories.run(order, "approve", cast.sales_manager, comment="ok")
        factories.plan_order(order, cast)
        factories.run(order, "schedule", cast.production_supervisor)
        factories.make_ready(order, cast)
        factories.run(order, "start_production", cast.production_supervisor)
        delay = production.open_issue(user=cast.production_worker, order_id=order.pk, kind="delay",
                                      description="a supplier is late", expected_date=factories.days(20))
        quality = production.open_issue(user=cast.production_worker, order_id=order.pk, kind="quality",
                                        description="scratches")
        production.resolve_issue(user=cast.production_supervisor, issue_id=quality.pk, resolution="polished")
        # nothing reaches the customer before the assistant sends the reviewed message (issue 10)
        assert not EmailOutbox.objects.filter(kind="customer_delayed").exists()
        production.send_customer_message(user=cast.owner, issue_id=delay.pk,
                                         customer_message="Your order is a week late; we are sorry.")
        factories.complete_production(order, cast)
        factories.record_shipment(order, cast)
        factories.run(order, "ship", cast.logistics_specialist)
        factories.run(order, "accept", cast.owner, **factories.receipt_data())
    order.refresh_from_db()
    rows = EmailOutbox.objects.filter(recipient=customer.email).order_by("pk")
    assert [r.kind for r in rows] == [
        "customer_confirmed", "customer_scheduled", "customer_delayed", "customer_shipped", "customer_delivered",
        "customer_survey",
    ]
    assert {r.language for r in rows} == {"en"} and {r.status for r in rows} == {"sent"}
    bodies = {r.kind: r.body for r in rows}
    assert order.promised_delivery_date.isoformat() in bodies["customer_confirmed"]
    assert "Your order is a week late; we are sorry." in bodies["customer_delayed"]
    assert "a supplier is late" not in bodies["customer_delayed"]  # the internal description stays inside
    assert factories.days(20).isoformat() in bodies["customer_delayed"]
    assert f"SF{order.pk:010d}" in bodies["customer_shipped"]
    for body in bodies.values():
        assert settings.SITE_URL.rstrip("/") + "/track/" in body
    token = bodies["customer_survey"].split("/survey/")[1].split("/")[0]
    assert signing.loads(token, salt="orderdesk.survey") == order.pk
    # the delay and the quality issue are both told in-app; only the delay's sent message goes to the customer
    assert Notification.objects.filter(order=order, kind="issue_opened").count() == 4
    assert len([m for m in mail.outbox if m.to == [customer.email]]) == 6


def test_a_customer_without_email_is_skipped(cast, django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(email="")
    order = make_order("received", cast=cast, submitted=True, customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        factories.run(order, "approve", cast.sales_manager, comment="ok")
    assert not EmailOutbox.objects.filter(kind__startswith="customer_").exists()


# --- sending: idempotent, retried, visible -----------------------------------------------------------------
def test_sending_is_idempotent_and_failures_are_recorded_then_retried_from_admin(cast, settings, admin_client):
    order = make_order("received", cast=cast, submitted=True)
    factories.run(order, "approve", cast.sales_manager, comment="ok")  # on-commit never runs here: rows pending
    row = outbox_for(order, "customer_confirmed").get()
    assert row.status == "pending"

    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.BrokenBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    with pytest.raises(services.DeliveryFailed):
        services.send_outbox(outbox_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1) and "smtp down" in row.last_error
    with pytest.raises(services.DeliveryFailed):
        services.send_outbox(outbox_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)
    services.deliver_pending(grace_seconds=0)  # the sweep leaves failed rows alone
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)

    # visible in admin, and the "retry" action sends it once the mail server is back
    assert admin_client.get("/admin/notifications/emailoutbox/?status=failed").status_code == 200
    assert admin_client.get(f"/admin/notifications/emailoutbox/{row.pk}/change/").status_code == 200
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(
            "/admin/notifications/emailoutbox/", {"action": "retry", "_selected_action": [row.pk]}
        )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)
    assert len(mail.outbox) == 1
    assert services.send_outbox(outbox_id=row.pk) == "already_sent"
    assert len(mail.outbox) == 1


def test_the_sweep_sends_pending_rows_once(cast, settings):
    order = make_order("received", cast=cast, submitted=True)
    factories.run(order, "approve", cast.sales_manager, comment="ok")
    pending = EmailOutbox.objects.filter(status="pending").count()
    assert pending >= 3
    assert services.deliver_pending(grace_seconds=3600) == 0  # too young: their own tasks will send them
    assert services.deliver_pending(grace_seconds=0) == pending
    assert services.deliver_pending(grace_seconds=0) == 0
    assert len(mail.outbox) == pending


# --- pages ---------------------------------------------------------------------------------------------------
def test_the_notification_page_lists_links_and_marks_read(cast, client, django_capture_on_commit_callbacks):
    order = make_order("received", cast=cast, submitted=True)
    factories.run(order, "approve", cast.sales_manager, comment="ok")
    client.force_login(cast.owner)
    page = client.get("/notifications/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f'href="/orders/{order.pk}/"' in body and order.number in body
    note = Notification.objects.get(user=cast.owner, kind="order_approved")

    assert client.post("/notifications/read/", {"id": "abc"}).status_code == 302  # bad input: a message, no 500
    assert not Notification.objects.get(pk=note.pk).read
    assert client.post("/notifications/read/", {"id": note.pk, "next": "https://evil.example/"})["Location"] == (
        "/notifications/"
    )
    assert Notification.objects.get(pk=note.pk).read
    other = Notification.objects.filter(user=cast.production_supervisor).first()
    client.post("/notifications/read/", {"id": other.pk})  # someone else's: untouched
    assert not Notification.objects.get(pk=other.pk).read
    assert client.get("/notifications/read/").status_code == 405
    assert client.get("/notifications/?unread=1&page=zz").status_code == 200
    assert client.get("/").status_code == 200  # the dashboard's "mark all read" form points here


def test_the_preferences_page(cast, client):
    client.force_login(cast.sales_assistant)
    assert client.get("/notifications/preferences/").status_code == 200
    response = client.post(
        "/notifications/preferences/", {"pref": ["order_approved:in_app", "order_overdue:email"]}
    )
    assert response.status_code == 302
    enabled = set(
        NotificationPreference.objects.filter(user=cast.sales_assistant, enabled=True).values_list("kind", "channel")
    )
    assert enabled == {("order_approved", "in_app"), ("order_overdue", "email")}
    response = client.post("/notifications/preferences/", {"pref": ["nonsense:email", "x"]})
    assert response.status_code == 200  # re-rendered with an error, nothing changed
    assert NotificationPreference.objects.filter(user=cast.sales_assistant, enabled=True).count() == 2
    client.logout()
    assert client.get("/notifications/preferences/").status_code == 302
