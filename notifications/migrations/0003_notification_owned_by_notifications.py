"""The in-app Notification moves from `orders` to `notifications` (issue 8), keeping its table.

State only: the table `orders_notification` and its rows stay as they are (no data moves);
`orders/0006` removes the model from the orders app's state.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0002_schedules"),
        ("orders", "0005_communications_escalations_imports"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(choices=[('review_requested', 'Review requested'), ('order_approved', 'Order approved'), ('order_returned', 'Order returned'), ('order_scheduled', 'Order scheduled'), ('production_started', 'Production started'), ('order_shipped', 'Order shipped'), ('order_accepted', 'Order accepted'), ('delivery_rejected', 'Delivery rejected'), ('order_settled', 'Order settled'), ('order_cancelled', 'Order cancelled'), ('signoff_requested', 'Joint review sign-off requested'), ('signoff_recorded', 'Joint review sign-off recorded'), ('clarification_opened', 'Clarification opened'), ('escalation', 'Problem escalated'), ('progress_reported', 'Progress reported'), ('issue_opened', 'Production issue opened'), ('shipment_updated', 'Shipment updated'), ('payment_received', 'Payment received'), ('order_overdue', 'Order overdue'), ('order_at_risk', 'Order at risk'), ('order_stale', 'No progress reported'), ('payment_overdue', 'Payment overdue'), ('review_waiting', 'Review waiting too long'), ('alert_escalated', 'Unresolved alert escalated'), ('complaint', 'Complaint received')], max_length=40, verbose_name="kind")),
                        ("message", models.TextField(verbose_name="message")),
                        ("read", models.BooleanField(default=False, verbose_name="read")),
                        ("dedupe_key", models.CharField(blank=True, max_length=200, null=True, unique=True)),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="created at")),
                        ("order", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="notifications", to="orders.order")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="notifications", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "notification",
                        "verbose_name_plural": "notifications",
                        "ordering": ["-created_at", "-id"],
                        "db_table": "orders_notification",
                        "indexes": [models.Index(fields=["user", "read"], name="orders_noti_user_id_5f6044_idx")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
