"""The internal audit trail (R6.1): one append-only table (:class:`orderdesk.models.AuditEntry`) that every
service writes through :func:`orderdesk.audit.record` — transitions, field changes, sign-offs, invoices,
payments, shipments, progress, issues, promise changes, complaints, follow-ups, tracking links and losses."""

from __future__ import annotations

import datetime

from django.db.models import F
from django.utils import timezone

from orderdesk.models import AuditEntry
from supervision.selectors.common import day_bounds

# --- internal audit (R6.1) -----------------------------------------------------------------
AUDIT_COLUMNS = ("kind", "order_ref", "user_ref", "at", "name", "before", "after", "note", "address")


def audit_trail(*, order_id=None, user_id=None, start=None, end=None, kind=None):
    """Every recorded change, newest first, as rows of :data:`AUDIT_COLUMNS` (paginated in the database).

    Filters: order id, user id, kind, and the local dates ``start`` … ``end`` (inclusive)."""
    rows = AuditEntry.objects.all()
    if order_id is not None:
        rows = rows.filter(order_ref=order_id)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if kind:
        rows = rows.filter(kind=kind)
    if start is not None or end is not None:
        lo, hi = day_bounds(start or datetime.date(1970, 1, 1), end or timezone.localdate())
        rows = rows.filter(at__gte=lo, at__lt=hi)
    return rows.annotate(user_ref=F("user_id")).order_by("-at", "-id").values_list(*AUDIT_COLUMNS)
