"""Reads of finance, scoped: invoices and payments are price records (orderdesk.roles.FIELD_CLASSES)."""

from finance.models import Invoice, Payment
from orderdesk import roles
from orders.selectors import visible_orders


def visible_invoices(user):
    if roles.is_record_hidden(user, Invoice):
        return Invoice.objects.none()
    return Invoice.objects.filter(order__in=visible_orders(user)).select_related("order")


def visible_payments(user):
    if roles.is_record_hidden(user, Payment):
        return Payment.objects.none()
    return Payment.objects.filter(invoice__order__in=visible_orders(user)).select_related("invoice")
