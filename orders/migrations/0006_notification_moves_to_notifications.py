"""The in-app Notification now belongs to the notifications app (issue 8): state only, the
table ``orders_notification`` and its rows stay (see ``notifications/0003``)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0005_communications_escalations_imports"),
        ("notifications", "0003_notification_owned_by_notifications"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]
