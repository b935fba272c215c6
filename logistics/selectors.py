"""Reads of logistics, scoped through the orders the caller may see.

The workspace (`/logistics/`, R3.4) has four lists, each with its CSV export and its API:

* ``ready_to_ship`` — orders in production whose production is complete and nothing is on a shipment yet,
  or whose every line is on shipments already (the `ship` transition waits);
* ``partly_shipped`` — orders in production with some, but not all, of their quantities on shipments;
* ``in_transit`` — shipments on their way (not delivered, not returned);
* ``delivered`` — delivered shipments, newest first.
"""

from __future__ import annotations

from decimal import Decimal

from django.apps import apps
from django.db.models import DecimalField, Exists, F, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from logistics.models import CLOSED_STATUSES, Shipment, ShipmentEvent, ShipmentLine, ShipmentStatus
from orders.models import OrderLine, State
from orders.selectors import visible_orders

ORDER_LISTS = ("ready_to_ship", "partly_shipped")
SHIPMENT_LISTS = ("in_transit", "delivered")
LISTS = (*ORDER_LISTS, *SHIPMENT_LISTS)

_QUANTITY = DecimalField(max_digits=15, decimal_places=3)


def visible_shipments(user):
    return (
        Shipment.objects.filter(order__in=visible_orders(user))
        .select_related("order")
        .prefetch_related(
            Prefetch("events", queryset=ShipmentEvent.objects.select_related("recorded_by").order_by("at", "id")),
            Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line__product")),
        )
    )


def _line_shipped():
    """An order line's quantity on shipments, returned ones aside (a subquery on ``OuterRef("pk")``)."""
    return Subquery(
        ShipmentLine.objects.filter(order_line=OuterRef("pk"))
        .exclude(shipment__status=ShipmentStatus.RETURNED)
        .values("order_line")
        .annotate(s=Sum("quantity"))
        .values("s"),
        output_field=_QUANTITY,
    )


def lines_with_shipped():
    """Order lines annotated with ``shipped`` (on shipments, returned ones aside)."""
    return (
        OrderLine.objects.select_related("product")
        .annotate(shipped=Coalesce(_line_shipped(), Value(Decimal("0")), output_field=_QUANTITY))
        .order_by("position", "id")
    )


def _any_shipped() -> Exists:
    return Exists(
        ShipmentLine.objects.filter(shipment__order=OuterRef("pk")).exclude(shipment__status=ShipmentStatus.RETURNED)
    )


def _something_remains() -> Exists:
    return Exists(lines_with_shipped().filter(order=OuterRef("pk"), quantity__gt=F("shipped")))


def _production_complete() -> Exists:
    # production's progress reports through the model label (logistics imports no other department)
    report = apps.get_model("production", "ProgressReport")
    return Exists(report.objects.filter(order=OuterRef("pk"), percent_complete__gte=100))


def order_list(user, name: str):
    """The orders of one workspace list (``ready_to_ship`` or ``partly_shipped``), oldest promise first,
    each with ``shipping_lines``: its lines annotated with ``shipped``."""
    base = (
        visible_orders(user)
        .filter(state=State.PRODUCING)
        .annotate(
            any_shipped=_any_shipped(),
            remains=_something_remains(),
            complete=_production_complete(),
        )
    )
    if name == "ready_to_ship":
        base = base.filter((Q(complete=True) & Q(any_shipped=False)) | (Q(any_shipped=True) & Q(remains=False)))
    elif name == "partly_shipped":
        base = base.filter(any_shipped=True, remains=True)
    else:
        raise ValueError(name)
    return (
        base.select_related("customer", "assistant")
        .prefetch_related(Prefetch("lines", queryset=lines_with_shipped(), to_attr="shipping_lines"))
        .order_by(F("promised_delivery_date").asc(nulls_last=True), "id")
    )


def shipment_list(user, name: str):
    """The shipments of one workspace list (``in_transit``: oldest first; ``delivered``: newest first)."""
    base = (
        Shipment.objects.filter(order__in=visible_orders(user))
        .select_related("order__customer", "created_by")
        .prefetch_related(Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line__product")))
    )
    if name == "in_transit":
        return base.exclude(status__in=CLOSED_STATUSES).order_by("created_at", "id")
    if name == "delivered":
        return base.filter(status=ShipmentStatus.DELIVERED).order_by(F("delivered_at").desc(nulls_last=True), "-id")
    raise ValueError(name)


def shipping_lines(order) -> list[dict]:
    """Each line of the order with ``ordered``, ``shipped`` and ``remaining`` (for pages and the API)."""
    lines = getattr(order, "shipping_lines", None)
    if lines is None:
        lines = list(lines_with_shipped().filter(order=order))
    return [
        {
            "line": line,
            "ordered": line.quantity,
            "shipped": line.shipped,
            "remaining": max(line.quantity - line.shipped, Decimal("0")),
        }
        for line in lines
    ]
