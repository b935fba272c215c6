"""Notifications through a REAL Celery worker (Redis in CI, the embedded broker otherwise).

* a transition's notifications and e-mails arrive, each exactly once, even when its send
  task is delivered twice and the sweep runs as well;
* with the broker unreachable, transitions still succeed, the in-app rows exist and the
  e-mails wait in the outbox; once the broker is back the worker's sweep delivers them.
"""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings
from django.core import mail, signing

from notifications import tasks as notification_tasks
from notifications.models import EmailOutbox, Notification
from orders.models import Order, State
from tests.factories import Cast, make_order, run
from tests.notifications.live import DEAD_BROKER, celery_on, live_worker, real_broker, result_of, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def tracked_order(body: str):
    """The order id of the signed tracking link in an e-mail body."""
    match = re.search(re.escape(settings.SITE_URL.rstrip("/")) + r"/track/([^/\s]+)/", body)
    assert match, body
    return signing.loads(match.group(1), salt=settings.TRACKING_SALT)


@pytest.fixture
def mailbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 0
    db = settings.DATABASES["default"]
    max_age, db["CONN_MAX_AGE"] = db.get("CONN_MAX_AGE", 0), 0  # the worker thread's connection closes
    mail.outbox = []
    yield mail.outbox
    db["CONN_MAX_AGE"] = max_age


def _all_sent():
    return EmailOutbox.objects.exists() and not EmailOutbox.objects.exclude(status=EmailOutbox.Status.SENT).exists()


def test_a_transition_is_delivered_exactly_once_by_a_real_worker(mailbox, tmp_path):
    cast = Cast()
    cast.production_supervisor  # noqa: B018 - exists before the approval tells them
    order = make_order("received", cast=cast, submitted=True)  # eager: its own e-mails are sent already
    EmailOutbox.objects.all().delete()
    mailbox.clear()
    url, options = real_broker(tmp_path)

    with celery_on(url, options) as queue:
        started = time.monotonic()
        run(order, "approve", cast.sales_manager, comment="ok")  # commits; its send tasks go to the broker
        assert Order.objects.get(pk=order.pk).state == State.REVIEWED
        assert time.monotonic() - started < 10
        rows = list(EmailOutbox.objects.order_by("pk"))
        assert rows and all(r.status == EmailOutbox.Status.PENDING for r in rows), "e-mails sent without a worker"
        assert not mailbox
        for row in rows:
            notification_tasks.send_email.delay(row.pk)  # each task delivered a second time (retry, redelivery)

        with live_worker(queue):  # the worker starts after the fact and works the queue off
            wait_until(_all_sent, message="every e-mail sent")
            assert result_of(notification_tasks.deliver_pending.delay()) == 0  # the sweep finds nothing left
            assert result_of(notification_tasks.send_email.delay(rows[0].pk)) == "already_sent"

    sent = list(EmailOutbox.objects.order_by("pk"))
    assert [r.pk for r in sent] == [r.pk for r in rows]
    assert all(r.status == "sent" and r.attempts == 1 and r.sent_at for r in sent)
    assert len(mailbox) == len(rows), [m.to for m in mailbox]
    recipients = sorted(m.to[0] for m in mailbox)
    assert recipients == sorted(
        [cast.owner.email, cast.production_supervisor.email, order.customer.email]
    )
    customer_mail = next(m for m in mailbox if m.to == [order.customer.email])
    order.refresh_from_db()
    assert tracked_order(customer_mail.body) == order.pk
    assert order.promised_delivery_date.isoformat() in customer_mail.body
    assert set(Notification.objects.filter(order=order, kind="order_approved").values_list("user__username", flat=True)) == {
        "sales_assistant", "production_supervisor"
    }


def test_the_worker_delivers_what_the_transition_queued(mailbox, tmp_path):
    """The plain path: transition → task on the broker → worker → e-mail, once."""
    cast = Cast()
    order = make_order("reviewed", cast=cast, ready_for="schedule")
    EmailOutbox.objects.all().delete()
    mailbox.clear()
    url, options = real_broker(tmp_path)
    with celery_on(url, options) as queue, live_worker(queue):
        run(order, "schedule", cast.production_supervisor, comment="planned")
        wait_until(_all_sent, message="the scheduling e-mails")
        time.sleep(0.5)  # nothing more arrives
    assert len(mailbox) == EmailOutbox.objects.count() >= 1
    assert order.customer.email in [m.to[0] for m in mailbox]
    assert all(r.attempts == 1 for r in EmailOutbox.objects.all())


def test_with_the_broker_down_transitions_succeed_and_the_worker_catches_up(mailbox, tmp_path):
    cast = Cast()
    cast.production_supervisor  # noqa: B018 - exists before the approval tells them
    order = make_order("received", cast=cast, submitted=True)
    EmailOutbox.objects.all().delete()
    mailbox.clear()

    with celery_on(DEAD_BROKER, {"socket_connect_timeout": 0.5, "max_retries": 0}):
        started = time.monotonic()
        run(order, "approve", cast.sales_manager, comment="ok")  # queueing after commit fails: logged, not raised
        assert time.monotonic() - started < 15, "a dead broker held the transition up"
    order.refresh_from_db()
    assert order.state == State.REVIEWED
    assert Notification.objects.filter(order=order, kind="order_approved").count() == 2
    pending = EmailOutbox.objects.filter(status=EmailOutbox.Status.PENDING)
    assert pending.count() == 3 and not mailbox

    url, options = real_broker(tmp_path)
    with celery_on(url, options) as queue, live_worker(queue):
        # the broker is back: the beat's sweep (queued like beat would) delivers on the worker
        assert result_of(notification_tasks.deliver_pending.delay()) == 3
        wait_until(_all_sent, message="the outbox drained")
    assert len(mailbox) == 3
    assert sorted(m.to[0] for m in mailbox) == sorted(
        [cast.owner.email, cast.production_supervisor.email, order.customer.email]
    )
    assert all(r.attempts == 1 for r in EmailOutbox.objects.all())
