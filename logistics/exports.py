"""The logistics workspace's CSV exports (R3.4): one row per order line (orders lists) or per shipment line
(shipment lists). No price is ever exported; contact fields only for who sees them (``roles.hidden_fields``).
Cells are written by :mod:`orderdesk.exports` (formula-leading text neutralised)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics import selectors
from orderdesk import exports, roles
from orders.models import Order

CONTACT_COLUMNS = ("contact_name", "contact_phone", "delivery_address")


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else ""


def _contact_columns(user) -> list[tuple[str, object]]:
    labels = {
        "contact_name": _("Contact name"),
        "contact_phone": _("Contact phone"),
        "delivery_address": _("Delivery address"),
    }
    hidden = roles.hidden_fields(user, Order)
    return [(labels[name], (lambda o, name=name: getattr(o, name))) for name in CONTACT_COLUMNS if name not in hidden]


def order_rows(user, orders):
    contact = _contact_columns(user)
    header = [
        _("Order"),
        _("Customer"),
        _("State"),
        _("Promised delivery"),
        *[label for label, _get in contact],
        _("Line"),
        _("Product"),
        _("Specification"),
        _("Ordered"),
        _("On shipments"),
        _("Remaining"),
    ]
    rows = (
        [
            order.number,
            order.customer.name,
            order.get_state_display(),
            order.promised_delivery_date,
            *[get(order) for _label, get in contact],
            entry["line"].position,
            entry["line"].product.sku,
            entry["line"].specification,
            entry["ordered"],
            entry["shipped"],
            entry["remaining"],
        ]
        for order in orders.iterator(chunk_size=500)
        for entry in selectors.shipping_lines(order)
    )
    return header, rows


def shipment_rows(user, shipments):
    contact = _contact_columns(user)
    header = [
        _("Order"),
        _("Customer"),
        *[label for label, _get in contact],
        _("Carrier"),
        _("Tracking number"),
        _("Tracking link"),
        _("Vehicle"),
        _("Driver"),
        _("Warehouse"),
        _("Status"),
        _("Dispatched"),
        _("Expected arrival"),
        _("Delivered"),
        _("Line"),
        _("Product"),
        _("Quantity"),
    ]

    def rows():
        for s in shipments.iterator(chunk_size=500):
            head = [
                s.order.number,
                s.order.customer.name,
                *[get(s.order) for _label, get in contact],
                s.carrier,
                s.tracking_number,
                s.tracking_link,
                s.vehicle,
                s.driver,
                s.warehouse,
                s.get_status_display(),
                _local(s.created_at),
                s.expected_arrival or "",
                _local(s.delivered_at),
            ]
            lines = list(s.lines.all())
            if not lines:
                yield [*head, "", "", ""]
            for line in lines:
                yield [*head, line.order_line.position, line.order_line.product.sku, line.quantity]

    return header, rows()


def export_response(user, name: str):
    if name in selectors.ORDER_LISTS:
        header, rows = order_rows(user, selectors.order_list(user, name))
    else:
        header, rows = shipment_rows(user, selectors.shipment_list(user, name))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        exports.csv_stream([str(h) for h in header], rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="logistics-{name}-{stamp}.csv"'
    return response
