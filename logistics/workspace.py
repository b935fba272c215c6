"""The logistics workspace `/logistics/` (R3.4): ready to ship, partly shipped, in transit, delivered; each
list with its CSV export (`/logistics/<list>.csv`). Reads through :mod:`logistics.selectors` (the orders the
caller sees), never a price; contact only where the caller sees it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from logistics import exports, selectors
from orderdesk import roles

TITLES = {
    "ready_to_ship": _("Ready to ship"),
    "partly_shipped": _("Partly shipped"),
    "in_transit": _("In transit"),
    "delivered": _("Delivered"),
}
HELP = {
    "ready_to_ship": _(
        "In production and complete with nothing shipped yet, or every line on shipments: "
        "record the shipment or run “Ship”."
    ),
    "partly_shipped": _("Some quantities are on shipments, the rest still to ship."),
    "in_transit": _("Shipments on their way: keep their tracking current."),
    "delivered": _("Delivered shipments, newest first."),
}


def _require(user) -> None:
    if not roles.may(user, "logistics.workspace"):
        raise PermissionDenied


@login_required
def workspace(request):
    _require(request.user)
    name = request.GET.get("list") or "ready_to_ship"
    if name not in selectors.LISTS:
        name = "ready_to_ship"
    if name in selectors.ORDER_LISTS:
        rows = selectors.order_list(request.user, name)
    else:
        rows = selectors.shipment_list(request.user, name)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    if name in selectors.ORDER_LISTS:
        for order in page.object_list:
            order.lines_shipping = selectors.shipping_lines(order)
            order.fully_on_shipments = all(e["remaining"] == 0 for e in order.lines_shipping)
    counts = {
        key: (
            selectors.order_list(request.user, key)
            if key in selectors.ORDER_LISTS
            else selectors.shipment_list(request.user, key)
        ).count()
        for key in selectors.LISTS
    }
    tabs = [{"key": key, "title": TITLES[key], "count": counts[key], "current": key == name} for key in selectors.LISTS]
    return render(
        request,
        "logistics/workspace.html",
        {
            "list": name,
            "title": TITLES[name],
            "help": HELP[name],
            "tabs": tabs,
            "page": page,
            "is_orders": name in selectors.ORDER_LISTS,
            **roles.page_visibility(request.user),
        },
    )


@login_required
def workspace_export(request, name: str):
    _require(request.user)
    if name not in selectors.LISTS:
        raise Http404
    return exports.export_response(request.user, name)
