"""Reads of customer feedback, scoped through the orders the caller may see."""

from feedback.models import Complaint, FollowUp, Survey
from orderdesk import roles
from orders.selectors import visible_orders


def reads_feedback(user) -> bool:
    """What customers say is sales data: production and logistics do not read it (R5.2; ``feedback.view``)."""
    return roles.may(user, "feedback.view")


def visible_surveys(user):
    if not reads_feedback(user):
        return Survey.objects.none()
    return Survey.objects.filter(order__in=visible_orders(user)).select_related("order", "order__customer")


def visible_complaints(user):
    if not reads_feedback(user):
        return Complaint.objects.none()
    return Complaint.objects.filter(order__in=visible_orders(user)).select_related(
        "order", "recorded_by", "handled_by", "owner"
    )


def visible_followups(user):
    if not reads_feedback(user):
        return FollowUp.objects.none()
    return FollowUp.objects.filter(order__in=visible_orders(user)).select_related("order", "recorded_by")
