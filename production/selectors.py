"""Reads of production, scoped through the orders the caller may see."""

from orders.selectors import visible_orders
from production.models import ProductionIssue, ProductionPlan, ProgressReport, Workshop


def workshops():
    return Workshop.objects.filter(is_active=True).select_related("supervisor")


def visible_plans(user):
    return (
        ProductionPlan.objects.filter(order__in=visible_orders(user))
        .select_related("order", "workshop")
        .prefetch_related("milestones__responsible")
    )


def visible_progress(user):
    return ProgressReport.objects.filter(order__in=visible_orders(user)).select_related("order", "reported_by")


def visible_issues(user):
    return ProductionIssue.objects.filter(order__in=visible_orders(user)).select_related("order", "opened_by")
