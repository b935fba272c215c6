"""The customer's tracking page (R4.4, R5.3): `/track/<token>/`, a signed link, no login.

The link is revocable (re-issued: :func:`orders.services.issue_tracking_link`) and expires after settlement
(:func:`orders.selectors.order_for_tracking_token`); anything else answers 404. The page shows nothing of the
field classes (DESIGN §5): no amounts, prices, credit, contact or address data, no internal notes.

Departments add their own sections (their own template include and context) with :func:`register_section`
from their ``ready()``: feedback adds the complaint form, the receipt confirmation and the outcome of the
customer's complaints (``feedback/_track.html``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orderdesk.errors import Forbidden, NotFound
from orders.conditions import fully_shipped
from orders.models import Order, State
from orders.selectors import order_for_tracking_token

# The customer's view of the lifecycle (the tracking page's progress steps).
CUSTOMER_STEPS = (State.RECEIVED, State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED)

#: (template, context(order, request) -> dict) of the sections departments add to the page
SECTIONS: list[tuple[str, Callable]] = []


def register_section(template: str, context: Callable) -> None:
    if (template, context) not in SECTIONS:
        SECTIONS.append((template, context))


def tracked_order(request, token: str) -> Order:
    """The order of a tracking link (404 when forged, revoked or expired), the page in the customer's language."""
    try:
        order = order_for_tracking_token(token)
    except NotFound:
        raise Http404 from None
    # The customer reads in their own language unless this visitor chose another one.
    language = order.customer.language
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and language in dict(settings.LANGUAGES):
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
    return order


def contact_of(order) -> dict:
    """The customer's contact at the company: the order's assistant (name, work phone, e-mail)."""
    person = order.assistant
    try:
        phone = person.staff_profile.phone
    except ObjectDoesNotExist:
        phone = ""
    return {"name": person.get_full_name() or person.get_username(), "phone": phone, "email": person.email}


def track(request, token: str, *, extra: dict | None = None, status: int = 200):
    order = tracked_order(request, token)
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
    # production's exceptions, as the assistant reviewed and sent them (R4.4); drafts never show
    exception_messages = list(
        order.production_issues.filter(message_state="sent").order_by("message_sent_at", "id")
        .only("kind", "customer_message", "message_sent_at", "expected_date", "order_id")
    )
    # the promise and its revisions, each with the reason the customer was given (R5.3)
    promise_changes = list(order.promise_changes.only("old_date", "new_date", "reason", "at", "order_id"))
    steps = []
    if order.state != State.CANCELLED:
        reached = CUSTOMER_STEPS.index(order.state) if order.state in CUSTOMER_STEPS else len(CUSTOMER_STEPS)
        steps = [
            {"label": s.label, "done": i <= reached, "current": i == reached} for i, s in enumerate(CUSTOMER_STEPS)
        ]
    sections = [{"template": template, "context": {**context(order, request), **(extra or {})}}
                for template, context in SECTIONS]
    response = render(
        request,
        "orders/track.html",
        {
            "order": order,
            "token": token,
            "steps": steps,
            "milestones": milestones,
            "percent": latest.percent_complete if latest else None,
            "progress_at": latest.reported_at if latest else None,
            "shipments": shipments,
            "exception_messages": exception_messages,
            "contact": contact_of(order),
            "sections": sections,
            "promise_changes": promise_changes,
            "partly_shipped": bool(shipments) and order.state == State.PRODUCING and not fully_shipped(order),
            "public_page": True,
        },
        status=status,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    # same-origin, not no-referrer: with no-referrer Chromium posts the page's forms with "Origin: null", which
    # Django's CSRF check refuses; the token still never reaches another site
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def issue_link(request, pk: int):
    """The order page's "issue a new link" button: the link sent before stops working."""
    from orders import services

    try:
        order = services.issue_tracking_link(user=request.user, order_id=pk)
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        return render(request, "403.html", {"exception": str(exc.detail)}, status=403)
    messages.success(request, _("A new tracking link was issued; the previous link no longer works."))
    return redirect(order.get_absolute_url() + "#h-tracking")
