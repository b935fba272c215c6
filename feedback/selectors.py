"""Reads of customer feedback, scoped through the orders the caller may see."""

from feedback.models import Complaint, Survey
from orderdesk import roles
from orders.selectors import visible_orders

# What customers say is sales data: production and logistics do not read it (R5.2).
FEEDBACK_READERS = roles.SALES | roles.FINANCE | {roles.Role.AUDITOR}


def visible_surveys(user):
    if not roles.roles_of(user) & FEEDBACK_READERS:
        return Survey.objects.none()
    return Survey.objects.filter(order__in=visible_orders(user)).select_related("order", "order__customer")


def visible_complaints(user):
    if not roles.roles_of(user) & FEEDBACK_READERS:
        return Complaint.objects.none()
    return Complaint.objects.filter(order__in=visible_orders(user)).select_related(
        "order", "recorded_by", "handled_by"
    )
