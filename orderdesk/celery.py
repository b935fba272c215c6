"""The Celery app `orderdesk` (`celery -A orderdesk worker|beat`)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderdesk.settings")

app = Celery("orderdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
