"""What the supervision reads share: the order history's transition records (django-fsm-log) as
subqueries, local day bounds, rates and hours, the open states and the fields whose change is a correction."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    DurationField,
    Exists,
    ExpressionWrapper,
    OuterRef,
)
from django.utils import timezone
from django_fsm_log.models import StateLog

from orders.models import Order, State
from orders.services import EDITABLE_FIELDS

User = get_user_model()

OPEN_STATES = (State.RECEIVED, State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED)
# What the assistant recorded at intake (R4.1): a later change to one of these is a correction of
# their work. Production assigning a workshop, a manager reassigning the order or the withdrawal of a
# submission are not.
CORRECTION_FIELDS = (*EDITABLE_FIELDS, "lines")


# --- helpers ------------------------------------------------------------------------
def order_ct():
    return ContentType.objects.get_for_model(Order)  # cached after the first call


def log_q(name: str):
    return StateLog.objects.filter(content_type=order_ct(), object_id=OuterRef("pk"), transition=name)


def was_returned():
    return Exists(log_q("return"))


def delivery_rejected():
    return Exists(log_q("reject_delivery"))


def day_bounds(start: datetime.date, end: datetime.date):
    """[start 00:00, end+1 00:00) in the local time zone."""
    tz = timezone.get_current_timezone()
    lo = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    hi = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return lo, hi


def rate(numerator, denominator):
    if not denominator:
        return None
    return round(numerator / denominator, 4)


def hours(duration) -> float | None:
    if duration is None:
        return None
    if not isinstance(duration, datetime.timedelta):
        duration = datetime.timedelta(microseconds=float(duration))
    return round(duration.total_seconds() / 3600, 2)


def duration(expr):
    return ExpressionWrapper(expr, output_field=DurationField())


def as_date(value):
    """A truncated timestamp (TruncWeek, TruncMonth) as a local date."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value
