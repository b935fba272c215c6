"""Periodic checks (R6.1): the population a check samples, the checks and their items."""

from __future__ import annotations

import datetime

from django.db.models import (
    Count,
    Exists,
    Q,
    Sum,
)

from orders.models import Order
from supervision.models import CheckItem, PeriodicCheck
from supervision.selectors.common import day_bounds, log_q


# --- periodic checks (R6.1) ----------------------------------------------------------------
def check_population(*, assistant, start: datetime.date, end: datetime.date):
    """The orders a periodic check samples from: the assistant's orders submitted at least once, created in
    [start, end], in a stable order (by id) so that a stored seed draws the same sample again."""
    lo, hi = day_bounds(start, end)
    return (
        Order.objects.filter(assistant=assistant, created_at__gte=lo, created_at__lt=hi)
        .filter(Exists(log_q("submit")))
        .order_by("pk")
    )


def periodic_checks():
    return PeriodicCheck.objects.select_related("assistant", "created_by").annotate(
        n_items=Count("items"),
        n_pending=Count("items", filter=Q(items__outcome=CheckItem.Outcome.PENDING)),
        n_errors=Count("items", filter=Q(items__outcome=CheckItem.Outcome.ERROR)),
        loss=Sum("items__loss_amount"),
    )


def get_check(check_id) -> PeriodicCheck:
    from orderdesk.errors import NotFound

    try:
        return periodic_checks().get(pk=check_id)
    except (PeriodicCheck.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def check_items(check):
    return check.items.select_related("order__customer", "responsible", "checked_by").order_by("order__number")
