"""Writes of logistics (R3.4, R4.4): shipments and their tracking events."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from logistics.models import Shipment, ShipmentEvent, ShipmentStatus
from orderdesk import audit, roles
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orderdesk.rules import allows
from orders.models import State
from orders.selectors import lock_visible_order

SHIPMENT_STATES = (State.PRODUCING, State.SHIPPED)


# --- the rules: who may, and when (each service and the order page's panel ask the same check) -----------
def check_shipment(user, order) -> None:
    """Record a shipment (R3.4): logistics, once the order is in production (and until it is accepted)."""
    if not roles.may(user, "shipment.manage", order):
        raise Forbidden()
    if order.state not in SHIPMENT_STATES:
        raise Conflict(_("A shipment is prepared once the order is in production."), code="invalid_state")


def check_shipment_event(user, order, shipment=None) -> None:
    """Record a tracking event (R4.4): logistics, on a shipment not returned (``shipment`` None: any)."""
    if not roles.may(user, "shipment.manage", order):
        raise Forbidden()
    if shipment is not None and shipment.status == ShipmentStatus.RETURNED:
        raise Conflict(_("This shipment was returned."), code="invalid_state")


may_record_shipment = allows(check_shipment)
may_record_event = allows(check_shipment_event)


@transaction.atomic
def create_shipment(*, user, order_id, carrier: str, tracking_number: str, expected_arrival=None) -> Shipment:
    order = lock_visible_order(user, order_id)
    check_shipment(user, order)
    errors = {}
    if not carrier.strip():
        errors["carrier"] = [_("This field is required.")]
    if not tracking_number.strip():
        errors["tracking_number"] = [_("This field is required.")]
    if errors:
        raise InvalidInput(errors=errors)
    shipment = Shipment.objects.create(
        order=order, carrier=carrier.strip(), tracking_number=tracking_number.strip(),
        expected_arrival=expected_arrival, created_by=user,
    )
    ShipmentEvent.objects.create(shipment=shipment, status=ShipmentStatus.PREPARING, recorded_by=user)
    audit.record(kind="shipment", user=user, order=order, obj=shipment, name="create",
                 after=f"{shipment.carrier} {shipment.tracking_number}")
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
    order = lock_visible_order(user, shipment.order_id)
    check_shipment_event(user, order)
    if status not in ShipmentStatus.values or status == ShipmentStatus.RETURNED:
        raise InvalidInput(errors={"status": [_("Unknown shipment status.")]})
    shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
    check_shipment_event(user, order, shipment)
    event = ShipmentEvent.objects.create(
        shipment=shipment, status=status, location=location.strip(), note=note.strip(), recorded_by=user
    )
    before = shipment.status
    shipment.status = status
    shipment.save(update_fields=["status"])
    audit.record(kind="shipment", user=user, order=order, obj=shipment, name="event", before=before, after=status,
                 note=" ".join(x for x in (event.location, event.note) if x))
    from notifications import events

    events.shipment_event(event=event)  # the assistant passes it on to the customer (the outbox)
    return event
