"""CSV exports of finance's workspace lists (cells through :mod:`orderdesk.exports`)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from finance import selectors
from orderdesk.exports import csv_response


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def receivables(user):
    header = [
        _("Invoice"),
        _("Order"),
        _("Customer"),
        _("Assistant"),
        _("Due date"),
        _("Days overdue"),
        _("Bucket"),
        _("Amount"),
        _("Paid"),
        _("Credited"),
        _("Outstanding"),
    ]
    rows = (
        [
            i.number,
            i.order.number,
            i.order.customer.name,
            _who(i.order.assistant),
            i.due_date,
            i.days_overdue,
            i.bucket,
            i.amount,
            i.paid_amount,
            i.credited_amount,
            i.open_amount,
        ]
        for i in selectors.receivables(user).iterator(chunk_size=2000)
    )
    return csv_response("receivables", header, rows)


def overdue(user):
    from django.utils import timezone

    header = [_("Invoice"), _("Order"), _("Customer"), _("Due date"), _("Days overdue"), _("Outstanding")]
    rows = (
        [i.number, i.order.number, i.order.customer.name, i.due_date, i.days_overdue, i.open_amount]
        for i in selectors.receivables(user).filter(due_date__lt=timezone.localdate()).iterator(chunk_size=2000)
    )
    return csv_response("overdue", header, rows)


def _ageing(user, key):
    header = [_("Code"), _("Name"), *selectors.BUCKETS, _("Total")]
    rows = (
        [r["code"], r["name"], *[r["buckets"][b] for b in selectors.BUCKETS], r["total"]]
        for r in selectors.ageing_by(selectors.receivables(user), key)
    )
    return csv_response(f"ageing-by-{key}", header, rows)


def to_issue(user):
    header = [_("Order"), _("Customer"), _("State"), _("Total"), _("Invoiced"), _("Left to invoice")]
    rows = (
        [o.number, o.customer.name, o.get_state_display(), o.total_amount, o.invoiced, o.left]
        for o in selectors.invoices_to_issue(user).iterator(chunk_size=2000)
    )
    return csv_response("invoices-to-issue", header, rows)


def to_settle(user):
    header = [_("Order"), _("Customer"), _("Total"), _("Invoiced"), _("Accepted")]
    rows = (
        [o.number, o.customer.name, o.total_amount, o.invoiced, o.accepted_at.date() if o.accepted_at else ""]
        for o in selectors.orders_ready_to_settle(user).iterator(chunk_size=2000)
    )
    return csv_response("ready-to-settle", header, rows)


EXPORTS = {
    "receivables": receivables,
    "payments": receivables,  # payments to record: the open invoices, due first
    "overdue": overdue,
    "by-customer": lambda user: _ageing(user, "customer"),
    "by-assistant": lambda user: _ageing(user, "assistant"),
    "to-issue": to_issue,
    "to-settle": to_settle,
}
