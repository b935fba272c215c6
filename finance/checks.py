"""Finance's scheduled check (R4.5), run by the engine of :mod:`orders.checks`: an invoice past its due date
and not fully paid. Registered by :meth:`finance.apps.FinanceConfig.ready`."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, QuerySet

from finance.models import Invoice
from orderdesk.roles import Role
from orders.checks import Check, Kind, local_today, people
from orders.models import Alert, Order


def payment_overdue_candidates(now) -> QuerySet:
    unpaid = Invoice.objects.filter(order=OuterRef("pk"), due_date__lt=local_today(now), paid_amount__lt=F("amount"))
    return Order.objects.filter(Exists(unpaid))


PAYMENT_OVERDUE = Check(
    Alert.Kind.PAYMENT_OVERDUE,
    Kind.PAYMENT_OVERDUE,
    payment_overdue_candidates,
    people("assistant", Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER),
)
