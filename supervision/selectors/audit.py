"""The internal audit trail (R6.1): every transition, field change and sign-off as one row kind."""

from __future__ import annotations

import datetime

from django.db.models import (
    F,
)
from django.utils import timezone
from django_fsm_log.models import StateLog

from orders.models import OrderChange
from supervision.selectors.common import day_bounds, order_ct

# --- internal audit (R6.1) -----------------------------------------------------------------
AUDIT_COLUMNS = ("kind", "order_ref", "user_ref", "at", "name", "before", "after", "note")


def audit_trail(*, order_id=None, user_id=None, start=None, end=None):
    """Every recorded change of every order, newest first, as one SQL UNION (paginated in the database).

    Rows: ``kind`` "transition" (django-fsm-log: ``name`` the transition, ``before`` →
    ``after`` the states, ``note`` the comment) or "change" (field history: ``name``
    the field, ``before`` → ``after`` its values). Filters: order, user, and the
    local dates ``start`` … ``end`` (inclusive).
    """
    from django.db.models import BigIntegerField, CharField, TextField, Value
    from django.db.models.functions import Cast, Coalesce

    text = TextField()
    transitions = StateLog.objects.filter(content_type=order_ct()).annotate(
        kind=Value("transition", output_field=CharField()),
        order_ref=Cast("object_id", BigIntegerField()),
        user_ref=F("by_id"),
        at=F("timestamp"),
        name=Cast("transition", text),
        before=Coalesce(Cast("source_state", text), Value("", output_field=text)),
        after=Cast("state", text),
        note=Coalesce("description", Value("", output_field=text)),
    )
    changes = OrderChange.objects.annotate(
        kind=Value("change", output_field=CharField()),
        order_ref=F("order_id"),
        user_ref=F("user_id"),
        name=Cast("field", text),
        before=F("old_value"),
        after=F("new_value"),
        # a revised promise's reason (R5.3); other field changes carry none
        note=Coalesce(F("promise__reason"), Value("", output_field=text), output_field=text),
    )
    if order_id is not None:
        transitions = transitions.filter(object_id=order_id)
        changes = changes.filter(order_id=order_id)
    if user_id is not None:
        transitions = transitions.filter(by_id=user_id)
        changes = changes.filter(user_id=user_id)
    if start is not None or end is not None:
        lo, hi = day_bounds(start or datetime.date(1970, 1, 1), end or timezone.localdate())
        transitions = transitions.filter(timestamp__gte=lo, timestamp__lt=hi)
        changes = changes.filter(at__gte=lo, at__lt=hi)
    return (
        transitions.order_by().values_list(*AUDIT_COLUMNS)
        .union(changes.order_by().values_list(*AUDIT_COLUMNS), all=True)
        .order_by("-at", "kind")
    )
