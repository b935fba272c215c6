"""Create the role groups (DESIGN §3) and the beat schedule of the overdue check.

The groups come from :data:`orderdesk.roles.ROLES` so they are declared once. The
schedule is written into django-celery-beat, where admins can change it.
"""

from django.db import migrations

from orderdesk.roles import ROLES


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="check_overdue",
        defaults={"task": "orders.tasks.check_overdue", "interval": every, "enabled": True},
    )


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="check_overdue").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
