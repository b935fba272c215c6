"""Demo data of supervision, called by ``seed_demo`` (idempotent): one periodic check sample (R6.1)."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from orderdesk.errors import ServiceError
from supervision import services
from supervision.models import PeriodicCheck

DEMO_SEED = 20260401


def seed(stdout=None) -> PeriodicCheck | None:
    """Draw the demo periodic check of `sales_assistant` by `sales_manager` (seed 20260401) once, with two outcomes."""
    User = get_user_model()
    manager = User.objects.filter(username="sales_manager").first()
    assistant = User.objects.filter(username="sales_assistant").first()
    if manager is None or assistant is None:
        if stdout:
            stdout.write("supervision: no sales_manager / sales_assistant yet; periodic check skipped")
        return None
    existing = PeriodicCheck.objects.filter(assistant=assistant, seed=DEMO_SEED).first()
    if existing:
        return existing
    today = timezone.localdate()
    try:
        check = services.create_periodic_check(
            user=manager, assistant_id=assistant.pk, period_start=today - datetime.timedelta(days=90),
            period_end=today, sample_size=5, seed=DEMO_SEED,
        )
    except ServiceError as exc:
        if stdout:
            stdout.write(f"supervision: periodic check skipped ({exc.detail})")
        return None
    items = list(check.items.order_by("id"))
    if items:
        services.record_check_outcome(user=manager, item_id=items[0].pk, outcome="correct")
    if len(items) > 1:
        services.record_check_outcome(user=manager, item_id=items[1].pk, outcome="error",
                                      error_description="Delivery address missing the building number.",
                                      loss_amount="350.00")
    if stdout:
        stdout.write(f"supervision: periodic check of {assistant.username} with {len(items)} orders (seed {DEMO_SEED})")
    return check
