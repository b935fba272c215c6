"""Reads of loss incidents (R6.3), scoped through the orders the caller may see."""

from orderdesk import roles
from orders.selectors import visible_orders
from supervision.models import LossIncident


def visible_losses(user):
    if not roles.may(user, "loss.view") and not roles.may(user, "loss.report"):
        return LossIncident.objects.none()
    return (
        LossIncident.objects.filter(order__in=visible_orders(user))
        .select_related("order", "responsible", "reported_by", "decided_by")
        .order_by("-reported_at", "-id")
    )
