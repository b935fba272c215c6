"""Writes of logistics (R3.4, R4.4): shipments and their tracking events."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from logistics.models import Shipment, ShipmentEvent, ShipmentStatus
from orderdesk import roles
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.models import State
from orders.services import _lock_visible_order

SHIPMENT_STATES = (State.PRODUCING, State.SHIPPED)


@transaction.atomic
def create_shipment(*, user, order_id, carrier: str, tracking_number: str, expected_arrival=None) -> Shipment:
    order = _lock_visible_order(user, order_id)
    if not roles.may(user, "shipment.manage", order):
        raise Forbidden()
    errors = {}
    if not carrier.strip():
        errors["carrier"] = [_("This field is required.")]
    if not tracking_number.strip():
        errors["tracking_number"] = [_("This field is required.")]
    if errors:
        raise InvalidInput(errors=errors)
    if order.state not in SHIPMENT_STATES:
        raise Conflict(_("A shipment is prepared once the order is in production."), code="invalid_state")
    shipment = Shipment.objects.create(
        order=order, carrier=carrier.strip(), tracking_number=tracking_number.strip(),
        expected_arrival=expected_arrival, created_by=user,
    )
    ShipmentEvent.objects.create(shipment=shipment, status=ShipmentStatus.PREPARING, recorded_by=user)
    return shipment


def mark_shipments_returned(*, order, user=None, comment: str = "") -> int:
    """`reject_delivery`'s after-effect (lifecycle registry): the order's shipments come back.

    Runs inside :func:`orders.services.run_transition`'s transaction; returns how many changed.
    """
    return Shipment.objects.filter(order=order).exclude(status=ShipmentStatus.RETURNED).update(
        status=ShipmentStatus.RETURNED
    )


@transaction.atomic
def add_event(*, user, shipment_id, status: str, location: str = "", note: str = "") -> ShipmentEvent:
    """Keep the shipment's status current (R4.4)."""
    try:
        shipment = Shipment.objects.get(pk=shipment_id)
    except (Shipment.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    order = _lock_visible_order(user, shipment.order_id)
    if not roles.may(user, "shipment.manage", order):
        raise Forbidden()
    if status not in ShipmentStatus.values or status == ShipmentStatus.RETURNED:
        raise InvalidInput(errors={"status": [_("Unknown shipment status.")]})
    shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if shipment.status == ShipmentStatus.RETURNED:
        raise Conflict(_("This shipment was returned."), code="invalid_state")
    event = ShipmentEvent.objects.create(
        shipment=shipment, status=status, location=location.strip(), note=note.strip(), recorded_by=user
    )
    shipment.status = status
    shipment.save(update_fields=["status"])
    from notifications import events

    events.shipment_event(event=event)  # the assistant passes it on to the customer (the outbox)
    return event
