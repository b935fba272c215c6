"""Scheduled checks (R4.4, R6.1): the same code runs from Celery beat and `check_overdue`."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from orderdesk.roles import Role
from orders.models import Alert, Notification, Order
from orders.notifications import notify, users_with_role
from orders.selectors import overdue_q


def check_overdue_orders(*, today=None) -> int:
    """Tell the assistant and the managers, once per order, of each order past its promised date."""
    today = today or timezone.localdate()
    managers = users_with_role(Role.SALES_MANAGER)
    fired = 0
    candidates = (
        Order.objects.filter(overdue_q(today))
        .exclude(alerts__kind=Alert.Kind.OVERDUE)
        .select_related("assistant")
        .order_by("pk")
    )
    for order in candidates.iterator(chunk_size=500):
        try:
            with transaction.atomic():
                alert = Alert.objects.create(order=order, kind=Alert.Kind.OVERDUE)
                notify(
                    kind=Notification.Kind.ORDER_OVERDUE, order=order, users=[order.assistant, *managers],
                    dedupe=f"alert:{alert.pk}",
                )
        except IntegrityError:  # a concurrent run fired it
            continue
        fired += 1
    return fired


def run_checks() -> dict[str, int]:
    return {"overdue": check_overdue_orders()}
