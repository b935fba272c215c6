"""The customer's tracking page (R4.4, R5.3): `/track/<token>/`, a signed link, no login."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import render
from django.utils import translation

from orders.conditions import fully_shipped
from orders.models import Order, State

# The customer's view of the lifecycle (the tracking page's progress steps).
CUSTOMER_STEPS = (State.RECEIVED, State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED)


def track(request, token: str):
    try:
        order_id = int(signing.loads(token, salt=settings.TRACKING_SALT))
        order = Order.objects.select_related("customer").get(pk=order_id)
    except (signing.BadSignature, Order.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    # The customer reads in their own language unless this visitor chose another one.
    language = order.customer.language
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and language in dict(settings.LANGUAGES):
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
    # the departments' rows through the order's reverse relations (orders imports no department)
    try:
        milestones = list(order.production_plan.milestones.only("name", "due_date", "done_at"))
    except ObjectDoesNotExist:  # no plan yet
        milestones = []
    latest = order.progress_reports.order_by("-reported_at", "-id").only("percent_complete", "reported_at").first()
    # every shipment, partial ones too, with what it carries (R3.4); returned ones are not on their way
    shipments = list(
        order.shipments.exclude(status="returned")
        .only(
            "carrier",
            "tracking_number",
            "status",
            "expected_arrival",
            "tracking_link",
            "delivered_at",
            "created_at",
            "order_id",
        )
        .prefetch_related("events", "lines__order_line__product")  # events oldest first (their Meta.ordering)
    )
    # the promise and its revisions, each with the reason the customer was given (R5.3)
    promise_changes = list(order.promise_changes.only("old_date", "new_date", "reason", "at", "order_id"))
    steps = []
    if order.state != State.CANCELLED:
        reached = CUSTOMER_STEPS.index(order.state) if order.state in CUSTOMER_STEPS else len(CUSTOMER_STEPS)
        steps = [
            {"label": s.label, "done": i <= reached, "current": i == reached} for i, s in enumerate(CUSTOMER_STEPS)
        ]
    response = render(
        request,
        "orders/track.html",
        {
            "order": order,
            "steps": steps,
            "milestones": milestones,
            "percent": latest.percent_complete if latest else None,
            "progress_at": latest.reported_at if latest else None,
            "shipments": shipments,
            "promise_changes": promise_changes,
            "partly_shipped": bool(shipments) and order.state == State.PRODUCING and not fully_shipped(order),
            "public_page": True,
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
