"""The beat schedule of issue 5, written into django-celery-beat (editable in admin afterwards).

* ``deliver_pending`` every minute: the outbox sweep (e-mails whose task never reached the broker).
* The checks: the ``check_overdue`` entry seeded by ``orders/0003`` (``orders.tasks.check_overdue``,
  every ``OVERDUE_CHECK_MINUTES``) runs *all* of them — overdue, at risk, stale, receivables, review
  waiting, with resolution and escalation — exactly like the ``check_overdue`` command. To give one
  check its own interval, add a PeriodicTask ``orders.tasks.run_check`` with args ``["<name>"]``
  in the admin (the entries below are created disabled as templates for that).
"""

import json

from django.db import migrations

# name → (check, minutes); disabled: `check_overdue` already runs every check
CHECK_SCHEDULES = {
    "check_at_risk": ("at_risk", 60),
    "check_stale": ("stale", 60),
    "check_payment_overdue": ("payment_overdue", 60),
    "check_review_waiting": ("review_waiting", 15),
}


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")

    def every(minutes):
        return IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")[0]

    PeriodicTask.objects.update_or_create(
        name="deliver_pending",
        defaults={"task": "notifications.tasks.deliver_pending", "interval": every(1), "enabled": True},
    )
    for name, (check, minutes) in CHECK_SCHEDULES.items():
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": "orders.tasks.run_check", "args": json.dumps([check]), "interval": every(minutes),
                "enabled": False,
                "description": "Disabled: check_overdue runs every check. Enable it (and narrow check_overdue) "
                "to run this check on its own interval.",
            },
        )


def backwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=["deliver_pending", *CHECK_SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("orders", "0003_roles_and_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
