"""The Celery app `orderdesk` (`celery -A orderdesk worker|beat`).

Operations (issue 9):

* :class:`orderdesk.beat.HeartbeatScheduler` is django-celery-beat's ``DatabaseScheduler`` that also
  touches ``BEAT_HEARTBEAT_FILE`` on every tick; ``manage.py healthcheck_beat`` fails
  when the file is stale (the compose health check of beat).
* ``sqla+`` broker URLs use :mod:`orderdesk.broker` (kombu's SQLAlchemy transport that
  survives processes racing to create a queue).
* :class:`Consumer` is the worker's consumer with a bounded reconnect backoff: after a
  broker outage the worker is back within ``CELERY_BROKER_RECONNECT_MAX`` seconds
  (kombu's default grows to 30 s), so the outbox sweep of the next beat interval
  reaches a worker that listens.
"""

import functools
import os

from celery import Celery
from celery.worker.consumer import Consumer as CeleryConsumer
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderdesk.settings")

# sqla+sqlite:// (the embedded broker) through the race-safe subclass (orderdesk.broker)
TRANSPORT_ALIASES["sqla"] = TRANSPORT_ALIASES["sqlalchemy"] = "orderdesk.broker:Transport"

app = Celery("orderdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class Consumer(CeleryConsumer):
    def ensure_connected(self, conn):
        from django.conf import settings

        bound = settings.CELERY_BROKER_RECONNECT_MAX
        conn.ensure_connection = functools.partial(
            conn.ensure_connection, interval_start=min(1, bound), interval_step=1, interval_max=bound
        )
        return super().ensure_connected(conn)
