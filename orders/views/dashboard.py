"""The caller's dashboard (`/`): orders by state, overdue orders, notifications, the work queues."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from orderdesk import roles
from orders import selectors
from orders.models import State

DASHBOARD_LIST_SIZE = 10


@login_required
def dashboard(request):
    user = request.user
    today = timezone.localdate()
    counts, overdue_count = selectors.state_counts(user, today)
    overdue = (selectors.visible_orders(user).filter(selectors.overdue_q(today))
               .select_related("customer").only(*selectors.DASHBOARD_ROW_FIELDS)
               .order_by("promised_delivery_date", "id"))
    return render(
        request,
        "orders/dashboard.html",
        {
            "state_counts": [{"state": s, "label": s.label, "count": counts.get(s.value, 0)} for s in State],
            "total_count": sum(counts.values()),
            "overdue": list(overdue[:DASHBOARD_LIST_SIZE]),
            "overdue_count": overdue_count,
            # a notification shows its text, kind, time and a link to its order by id: the order is not read
            "notifications": list(user.notifications.all()[:DASHBOARD_LIST_SIZE]),
            "work_queues": selectors.work_queues(user),
            "may_create": roles.may(user, "order.create"),
            "today": today,
        },
    )
