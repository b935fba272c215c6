"""Reads of logistics, scoped through the orders the caller may see."""

from django.db.models import Prefetch

from logistics.models import Shipment, ShipmentEvent
from orders.selectors import visible_orders


def visible_shipments(user):
    return (
        Shipment.objects.filter(order__in=visible_orders(user))
        .select_related("order")
        .prefetch_related(
            Prefetch("events", queryset=ShipmentEvent.objects.select_related("recorded_by").order_by("at", "id"))
        )
    )
