"""The beat scheduler: django-celery-beat's DatabaseScheduler plus a heartbeat file.

Imported by beat only (``CELERY_BEAT_SCHEDULER``), after Django is set up: every tick
touches ``BEAT_HEARTBEAT_FILE``; ``manage.py healthcheck_beat`` fails when it is stale.
"""

from pathlib import Path

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler


class HeartbeatScheduler(DatabaseScheduler):
    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        path = Path(settings.BEAT_HEARTBEAT_FILE)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        except OSError:  # a read-only disk must not stop the schedule; the health check will say so
            pass
        return interval
