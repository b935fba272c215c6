"""Reads of finance, scoped: only roles that see prices see invoices and payments."""

from finance.models import Invoice, Payment
from orderdesk import roles
from orders.selectors import visible_orders


def visible_invoices(user):
    if not roles.sees_prices(user):
        return Invoice.objects.none()
    return Invoice.objects.filter(order__in=visible_orders(user)).select_related("order")


def visible_payments(user):
    if not roles.sees_prices(user):
        return Payment.objects.none()
    return Payment.objects.filter(invoice__order__in=visible_orders(user)).select_related("invoice")
