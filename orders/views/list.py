"""The order list (`/orders/`): filters, sortable columns, pagination; `?export=csv|xlsx` writes what the
filter shows through :mod:`orders.exports`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from orderdesk import roles
from orderdesk.pages import parse_date
from orders import selectors
from orders.exports import export_response
from orders.models import Order, State

PAGE_SIZE = 25


def _filtered_orders(request):
    """The caller's orders as the list's filters and sort ask (also what an export writes)."""
    user = request.user
    params = request.GET
    orders = selectors.order_list(user).annotate(at_risk=selectors.at_risk_exists())
    f: dict = {}
    state = params.get("state", "")
    if state in State.values:
        orders = orders.filter(state=state)
        f["state"] = state
    customer = params.get("customer", "").strip()
    if customer.isdigit():
        orders = orders.filter(customer_id=int(customer))
        f["customer"] = int(customer)
    created_from, created_to = parse_date(params.get("from")), parse_date(params.get("to"))
    if created_from:
        orders = orders.filter(created_at__date__gte=created_from)
        f["from"] = created_from.isoformat()
    if created_to:
        orders = orders.filter(created_at__date__lte=created_to)
        f["to"] = created_to.isoformat()
    if params.get("overdue") in ("1", "true", "on"):
        orders = orders.filter(selectors.overdue_q(timezone.localdate()))
        f["overdue"] = True
    if params.get("at_risk") in ("1", "true", "on"):
        orders = orders.filter(at_risk=True)
        f["at_risk"] = True
    query = params.get("q", "").strip()[:100]
    if query:
        orders = orders.filter(
            Q(number__icontains=query) | Q(customer__name__icontains=query) | Q(customer__code__icontains=query)
        )
        f["q"] = query
    sort = params.get("sort", "")
    key = sort.lstrip("-")
    if key not in selectors.LIST_SORTS or roles.is_hidden(user, Order, selectors.LIST_SORTS[key]):
        sort, key = "", ""
    if key:
        field = selectors.LIST_SORTS[key]
        orders = orders.order_by(f"-{field}" if sort.startswith("-") else field, "-id")
    else:
        orders = orders.order_by("-created_at", "-id")
    f["sort"] = sort
    return orders, f


def _sort_links(current: str, user) -> dict:
    links = {}
    hidden = roles.hidden_fields(user, Order)
    for key, field in selectors.LIST_SORTS.items():
        if field in hidden:
            continue
        if current == key:
            links[key] = {"next": f"-{key}", "dir": "asc"}
        elif current == f"-{key}":
            links[key] = {"next": key, "dir": "desc"}
        else:
            links[key] = {"next": key, "dir": ""}
    return links


@login_required
def order_list(request):
    from orders.models import Customer

    user = request.user
    orders, f = _filtered_orders(request)
    export = request.GET.get("export", "")
    if export in ("csv", "xlsx"):
        return export_response(request, orders, export)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    sees_prices = roles.sees_prices(user)
    customer = Customer.objects.filter(pk=f["customer"]).first() if "customer" in f else None
    return render(
        request,
        "orders/order_list.html",
        {
            "page": page,
            "orders": page.object_list,
            "states": State.choices,
            "f": f,
            "state": f.get("state", ""),
            "query": f.get("q", ""),
            "overdue": f.get("overdue", False),
            "customer": customer,
            "filtered": any(k for k in f if k != "sort"),
            "sorts": _sort_links(f.get("sort", ""), user),
            "sees_prices": sees_prices,
            "may_create": roles.may(user, "order.create"),
            "may_import": roles.may(user, "order.import"),
            "today": timezone.localdate(),
        },
    )
