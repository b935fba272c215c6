"""Logistics' panel on the order page (R3.4, R4.4): the shipments with their tracking events, and the forms
to record them, offered where :mod:`logistics.services`' rule passes. Registered in
:meth:`logistics.apps.LogisticsConfig.ready`."""

from __future__ import annotations

from django.db.models import Prefetch

from logistics import services
from logistics.forms import ShipmentEventForm, ShipmentForm
from logistics.models import ShipmentEvent, ShipmentLine
from orderdesk.pages import who
from orders.panels import Panel, has_rows


def _shipments(order) -> list:
    """The order's shipments with their events and lines, read once for the panel and the timeline (kept on the
    order), and only when it has any."""
    shipments = order.__dict__.get("_page_shipments")
    if shipments is None:
        shipments = order.__dict__["_page_shipments"] = list(
            order.shipments.prefetch_related(
                Prefetch("events", queryset=ShipmentEvent.objects.select_related("recorded_by").order_by("at", "id")),
                Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line__product")),
            ).select_related("created_by")
        ) if has_rows(order, "shipments") else []
    return shipments


def context(*, order, user, forms: dict) -> dict:
    shipments = _shipments(order)
    ctx: dict = {"shipments": shipments, "may_record_shipment": services.may_record_shipment(user, order)}
    if shipments or ctx["may_record_shipment"]:
        ctx["shipping_lines"] = services.remaining_lines(order)
        ctx["partly_shipped"] = any(e["shipped"] > 0 for e in ctx["shipping_lines"]) and any(
            e["remaining"] > 0 for e in ctx["shipping_lines"])
    if ctx["may_record_shipment"]:
        ctx["shipment_form"] = forms.get("shipment") or ShipmentForm(lines=ctx["shipping_lines"])
    for shipment in shipments:
        shipment.event_form = (
            forms.get(f"event-{shipment.pk}") or ShipmentEventForm(auto_id=f"id_event{shipment.pk}_%s")
            if services.may_record_event(user, order, shipment) else None
        )
        shipment.event_open = forms.get("open", "") == f"event-{shipment.pk}"
    return ctx


def timeline(*, order, user):
    """The shipments' tracking events, for the order's timeline."""
    for event in (event for shipment in _shipments(order) for event in shipment.events.all()):
        yield {"kind": "shipment", "template": "logistics/_timeline_shipment.html", "at": event.at,
               "who": who(event.recorded_by), "status": event.get_status_display(), "location": event.location,
               "note": event.note, "carrier": event.shipment.carrier, "tracking": event.shipment.tracking_number,
               "key": (event.at, 3, event.pk)}


PANEL = Panel(key="logistics", template="logistics/_panel.html", context=context, position=20, timeline=timeline,
              reads=("shipments",))
