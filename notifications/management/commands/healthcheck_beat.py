"""`manage.py healthcheck_beat`: exit 0 when the beat scheduler ticked recently, else 1.

Beat (``orderdesk.celery.HeartbeatScheduler``) touches ``BEAT_HEARTBEAT_FILE`` on every
tick (at least every ``CELERY_BEAT_MAX_LOOP_INTERVAL`` seconds); the compose health
check of the beat service runs this command in the beat container.
"""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Fail when the beat scheduler's heartbeat is missing or stale."

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-age", type=float, default=settings.BEAT_HEARTBEAT_MAX_AGE,
            help="seconds since the last tick beyond which beat counts as stuck",
        )

    def handle(self, *args, max_age, **options):
        path = Path(settings.BEAT_HEARTBEAT_FILE)
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            raise CommandError(f"no beat heartbeat at {path}: beat is not running")
        if age > max_age:
            raise CommandError(f"beat heartbeat {path} is {age:.0f}s old (limit {max_age:.0f}s): beat is stuck")
        self.stdout.write(f"beat ok: last tick {age:.0f}s ago")
