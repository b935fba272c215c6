"""Writes of logistics (R3.4, R4.4): shipments with their line quantities, and their tracking events.

Partial shipments: a shipment carries ``lines`` (order line, quantity); without lines it carries everything
that remains of the order. What remains of a line is its quantity less what its shipments carry, returned
ones aside; the order's row lock (:func:`orders.selectors.lock_visible_order`) serializes two shipments of
one order, so their quantities never exceed the order, also under concurrency. The `ship` transition waits
until every line is on shipments (``orders.conditions.fully_shipped``). A `delivered` event closes its
shipment; the customer's acceptance closes any still open (:func:`close_open_shipments`, the lifecycle's
after-effect of `accept` and `settle`), so a settled order never has one "in transit".
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import CLOSED_STATUSES, Shipment, ShipmentEvent, ShipmentLine, ShipmentStatus
from logistics.selectors import shipping_lines
from orderdesk import audit, roles
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orderdesk.rules import allows
from orders.models import OrderLine, State  # noqa: F401 (OrderLine: typing)
from orders.selectors import lock_visible_order

SHIPMENT_STATES = (State.PRODUCING, State.SHIPPED)
MAX_QUANTITY = Decimal("999999999.999")
TEXT_FIELDS = ("carrier", "tracking_number", "vehicle", "driver", "warehouse")


# --- the rules: who may, and when (each service and the order page's panel ask the same check) -----------
def check_shipment(user, order) -> None:
    """Record a shipment (R3.4): logistics, once the order is in production (and until it is accepted)."""
    if not roles.may(user, "shipment.manage", order):
        raise Forbidden()
    if order.state not in SHIPMENT_STATES:
        raise Conflict(_("A shipment is prepared once the order is in production."), code="invalid_state")


def check_shipment_event(user, order, shipment=None) -> None:
    """Record a tracking event (R4.4): logistics, on a shipment still open (``shipment`` None: any)."""
    if not roles.may(user, "shipment.manage", order):
        raise Forbidden()
    if shipment is not None and shipment.status == ShipmentStatus.RETURNED:
        raise Conflict(_("This shipment was returned."), code="invalid_state")
    if shipment is not None and shipment.status == ShipmentStatus.DELIVERED:
        raise Conflict(_("This shipment is delivered and closed."), code="shipment_closed")


may_record_shipment = allows(check_shipment)
may_record_event = allows(check_shipment_event)


# --- what remains to ship -----------------------------------------------------------------------------------
def remaining_lines(order) -> list[dict]:
    """Each line of the order with ``ordered``, ``shipped`` and ``remaining`` (never below zero)."""
    return shipping_lines(order)


def _quantity(value) -> Decimal | None:
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        return None
    return quantity if quantity.is_finite() else None


def _shipment_lines(order, lines) -> list[tuple[OrderLine, Decimal]]:
    """The (order line, quantity) pairs a new shipment carries; 400 naming each bad line, nothing written."""
    remaining = {entry["line"].pk: entry for entry in remaining_lines(order)}
    if not lines:  # the whole remaining order
        pairs = [(e["line"], e["remaining"]) for e in remaining.values() if e["remaining"] > 0]
        if not pairs:
            raise InvalidInput(_("Every line of the order is on shipments already."), code="nothing_to_ship",
                               errors={"lines": [_("Nothing remains to be shipped.")]})
        return pairs
    if not isinstance(lines, (list, tuple)):
        raise InvalidInput(errors={"lines": [_("Expected a list of order lines with quantities.")]})
    problems, pairs, seen = [], [], set()
    for i, item in enumerate(lines, start=1):
        item = item if isinstance(item, dict) else {}
        raw_line = item.get("order_line")
        line_id = getattr(raw_line, "pk", raw_line)
        try:
            line_id = int(line_id)
        except (ValueError, TypeError):
            line_id = None
        quantity = _quantity(item.get("quantity"))
        entry = remaining.get(line_id)
        if entry is None:
            problems.append(_("Line %(n)s: not a line of this order.") % {"n": i})
        elif line_id in seen:
            problems.append(_("Line %(n)s: order line %(position)s is named twice.")
                            % {"n": i, "position": entry["line"].position})
        elif quantity is None or quantity <= 0:
            problems.append(_("Line %(n)s: the quantity must be greater than zero.") % {"n": i})
        elif quantity > MAX_QUANTITY or quantity != quantity.quantize(Decimal("0.001")):
            problems.append(_("Line %(n)s: the quantity must have at most three decimals and be at most %(max)s.")
                            % {"n": i, "max": MAX_QUANTITY})
        elif quantity > entry["remaining"]:
            problems.append(
                _("Line %(n)s: %(quantity)s is more than what remains of order line %(position)s (%(remaining)s).")
                % {"n": i, "quantity": quantity, "position": entry["line"].position,
                   "remaining": f"{entry['remaining'].normalize():f}"}
            )
        else:
            pairs.append((entry["line"], quantity))
        if line_id is not None:
            seen.add(line_id)
    if problems:
        raise InvalidInput(_("The shipment's lines are invalid."), code="invalid_lines", errors={"lines": problems})
    return pairs


def _texts(values: dict) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for name, value in values.items():
        text = ("" if value is None else str(value)).strip()
        limit = Shipment._meta.get_field(name).max_length
        if "\x00" in text:
            errors[name] = [_("Null characters are not allowed.")]
        elif len(text) > limit:
            errors[name] = [_("Ensure this value has at most %(limit)s characters (it has %(n)s).")
                            % {"limit": limit, "n": len(text)}]
        cleaned[name] = text
    for name in ("carrier", "tracking_number"):
        if name not in errors and not cleaned.get(name):
            errors[name] = [_("This field is required.")]
    link = cleaned.get("tracking_link", "")
    if link and "tracking_link" not in errors:
        try:
            URLValidator(schemes=["http", "https"])(link)
        except ValidationError:
            errors["tracking_link"] = [_("Enter a web address starting with http:// or https://.")]
    if errors:
        raise InvalidInput(_("The shipment has invalid values."), errors=errors)
    return cleaned


@transaction.atomic
def create_shipment(*, user, order_id, carrier: str, tracking_number: str, expected_arrival=None,
                    lines=None, vehicle: str = "", driver: str = "", warehouse: str = "",
                    tracking_link: str = "") -> Shipment:
    """Record a shipment of the order (R3.4): ``lines`` [{"order_line", "quantity"}] (none: all that remains)."""
    order = lock_visible_order(user, order_id)  # the row lock: two shipments of one order never overlap
    check_shipment(user, order)
    texts = _texts({"carrier": carrier, "tracking_number": tracking_number, "vehicle": vehicle, "driver": driver,
                    "warehouse": warehouse, "tracking_link": tracking_link})
    if expected_arrival is not None and expected_arrival < timezone.localdate():
        raise InvalidInput(errors={"expected_arrival": [_("The expected arrival may not be in the past.")]})
    pairs = _shipment_lines(order, lines)
    shipment = Shipment.objects.create(order=order, expected_arrival=expected_arrival, created_by=user, **texts)
    ShipmentLine.objects.bulk_create(
        [ShipmentLine(shipment=shipment, order_line=line, quantity=quantity) for line, quantity in pairs]
    )
    ShipmentEvent.objects.create(shipment=shipment, status=ShipmentStatus.PREPARING, recorded_by=user)
    audit.record(kind="shipment", user=user, order=order, obj=shipment, name="create",
                 after=f"{shipment.carrier} {shipment.tracking_number}",
                 note="; ".join(f"{line.pk}×{qty}" for line, qty in pairs))
    from notifications import events

    # the assistant passes it on to the customer (R4.4), in this transaction (the outbox)
    events.shipment_recorded(shipment=shipment, lines=pairs)
    return shipment


def mark_shipments_returned(*, order, user=None, comment: str = "") -> int:
    """`reject_delivery`'s after-effect (lifecycle registry): the order's shipments come back.

    Runs inside :func:`orders.services.run_transition`'s transaction; returns how many changed.
    """
    return Shipment.objects.filter(order=order).exclude(status=ShipmentStatus.RETURNED).update(
        status=ShipmentStatus.RETURNED
    )


def close_open_shipments(*, order, user=None, comment: str = "") -> int:
    """`accept`'s (and `settle`'s) after-effect: every shipment still open is delivered and closed, with a
    `delivered` event by whoever ran the transition. Runs inside the transition's transaction."""
    now = timezone.now()
    open_ones = list(Shipment.objects.select_for_update().filter(order=order).exclude(status__in=CLOSED_STATUSES))
    if not open_ones:
        return 0
    actor = user or order.assistant
    ShipmentEvent.objects.bulk_create(
        [ShipmentEvent(shipment=s, status=ShipmentStatus.DELIVERED, recorded_by=actor, at=now) for s in open_ones]
    )
    return Shipment.objects.filter(pk__in=[s.pk for s in open_ones]).update(
        status=ShipmentStatus.DELIVERED, delivered_at=now
    )


@transaction.atomic
def add_event(*, user, shipment_id, status: str, location: str = "", note: str = "") -> ShipmentEvent:
    """Keep the shipment's status current (R4.4); a `delivered` event closes the shipment."""
    try:
        shipment = Shipment.objects.get(pk=shipment_id)
    except (Shipment.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    order = lock_visible_order(user, shipment.order_id)
    check_shipment_event(user, order)
    if status not in ShipmentStatus.values or status == ShipmentStatus.RETURNED:
        raise InvalidInput(errors={"status": [_("Unknown shipment status.")]})
    errors = {}
    for name, value, limit in (("location", location, 200), ("note", note, 5000)):
        if "\x00" in (value or "") or len((value or "").strip()) > limit:
            errors[name] = [_("Ensure this value has at most %(limit)s characters and no null characters.")
                            % {"limit": limit}]
    if errors:
        raise InvalidInput(errors=errors)
    shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
    check_shipment_event(user, order, shipment)
    event = ShipmentEvent.objects.create(
        shipment=shipment, status=status, location=(location or "").strip(), note=(note or "").strip(),
        recorded_by=user,
    )
    before = shipment.status
    shipment.status = status
    fields = ["status"]
    if status == ShipmentStatus.DELIVERED:
        shipment.delivered_at = event.at
        fields.append("delivered_at")
    shipment.save(update_fields=fields)
    audit.record(kind="shipment", user=user, order=order, obj=shipment, name="event", before=before, after=status,
                 note=" ".join(x for x in (event.location, event.note) if x))
    from notifications import events

    events.shipment_event(event=event)  # the assistant passes it on to the customer (the outbox)
    return event


def open_q() -> Q:
    """Shipments still on their way (not delivered, not returned)."""
    return ~Q(status__in=CLOSED_STATUSES)
