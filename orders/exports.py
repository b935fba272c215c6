"""The order list's exports (CSV, Excel) with the caller's field hiding (DESIGN §5); cells are written by
:mod:`orderdesk.exports`."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from orderdesk import roles
from orders.models import Order


def export_columns(user) -> list[tuple[str, object]]:
    """The export's columns: each names the order field it shows; hidden fields (DESIGN §5) are left out."""
    columns = [
        (_("Number"), "number", lambda o: o.number),
        (_("Customer"), "customer", lambda o: o.customer.name),
        (_("State"), "state", lambda o: o.get_state_display()),
        (_("Channel"), "channel", lambda o: o.get_channel_display()),
        (_("Requested delivery"), "requested_delivery_date", lambda o: o.requested_delivery_date),
        (_("Promised delivery"), "promised_delivery_date", lambda o: o.promised_delivery_date),
        (_("Assistant"), "assistant", lambda o: o.assistant.get_full_name() or o.assistant.get_username()),
        (_("Workshop"), "workshop", lambda o: str(o.workshop) if o.workshop else ""),
        (_("Created"), "created_at", lambda o: timezone.localtime(o.created_at).replace(tzinfo=None)),
        (_("Contact name"), "contact_name", lambda o: o.contact_name),
        (_("Contact phone"), "contact_phone", lambda o: o.contact_phone),
        (_("Delivery address"), "delivery_address", lambda o: o.delivery_address),
        (_("Total"), "total_amount", lambda o: o.total_amount),
    ]
    hidden = roles.hidden_fields(user, Order)
    return [(label, get) for label, field, get in columns if field not in hidden]


def export_response(request, orders, kind: str):
    """Exactly the rows the list's filter shows (every page), with only the fields the caller may see.

    Cells go through :mod:`orderdesk.exports` (formula-leading text neutralised, XLSX text kept text)."""
    from django.http import HttpResponse, StreamingHttpResponse

    from orderdesk import exports

    columns = export_columns(request.user)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    header = [str(label) for label, _get in columns]
    rows = ([get(order) for _label, get in columns] for order in orders.iterator(chunk_size=2000))
    if kind == "csv":
        response = StreamingHttpResponse(exports.csv_stream(header, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
        return response
    book = exports.XlsxWriter(_("Orders"))
    book.append(header)
    for row in rows:
        book.append(row)
    response = HttpResponse(book.to_bytes(), content_type=exports.XlsxWriter.content_type)
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.xlsx"'
    return response
