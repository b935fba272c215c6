"""The server-rendered pages of the order desk (DESIGN §6 "Pages").

Pages read through :mod:`orders.selectors` (an order outside the caller's scope
is a 404, R5.2) and write through :mod:`orders.services`, exactly like the API;
what a role may not see (prices, credit, customer contact) is left out here, and
which transition buttons show comes from :func:`orders.services.available_transitions`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm_log.models import StateLog

from orderdesk import roles
from orderdesk.errors import ConditionsUnmet, Conflict, Forbidden, NotFound, ServiceError
from orders import selectors, services
from orders.forms import (
    COMMENT_REQUIRED,
    DANGEROUS_TRANSITIONS,
    HIDDEN_TRANSITION_FIELDS,
    LINES_PREFIX,
    TRANSITION_LABELS,
    OrderForm,
    OrderLineFormSet,
    page_transition_form,
    transition_form_class,
)
from orders.models import Order, State

PAGE_SIZE = 25
DASHBOARD_LIST_SIZE = 10
# Field changes whose values only some roles may read (R5.2).
CONTACT_FIELDS = frozenset({"contact_name", "contact_phone", "delivery_address"})
PRICE_FIELDS = frozenset({"lines", "total_amount"})
# The customer's view of the lifecycle (the tracking page's progress steps).
CUSTOMER_STEPS = (State.RECEIVED, State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED)


# --- dashboard ---------------------------------------------------------------------
@login_required
def dashboard(request):
    user = request.user
    orders = selectors.visible_orders(user)
    counts = dict(orders.order_by().values_list("state").annotate(n=Count("pk")))
    today = timezone.localdate()
    overdue = selectors.order_list(user).filter(selectors.overdue_q(today)).order_by("promised_delivery_date", "id")
    return render(
        request,
        "orders/dashboard.html",
        {
            "state_counts": [{"state": s, "label": s.label, "count": counts.get(s.value, 0)} for s in State],
            "total_count": sum(counts.values()),
            "overdue": list(overdue[:DASHBOARD_LIST_SIZE]),
            "overdue_count": overdue.count(),
            "notifications": list(user.notifications.select_related("order")[:DASHBOARD_LIST_SIZE]),
            "may_create": roles.may(user, "order.create"),
            "today": today,
        },
    )


@login_required
@require_POST
def notifications_read(request):
    request.user.notifications.filter(read=False).update(read=True)
    messages.success(request, _("All notifications are marked read."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "orders:dashboard"
    return redirect(target)


# --- list --------------------------------------------------------------------------
@login_required
def order_list(request):
    user = request.user
    orders = selectors.order_list(user).order_by("-created_at", "-id")
    state = request.GET.get("state", "")
    if state in State.values:
        orders = orders.filter(state=state)
    else:
        state = ""
    overdue = request.GET.get("overdue") in ("1", "true")
    if overdue:
        orders = orders.filter(selectors.overdue_q(timezone.localdate()))
    query = request.GET.get("q", "").strip()[:100]
    if query:
        orders = orders.filter(
            Q(number__icontains=query) | Q(customer__name__icontains=query) | Q(customer__code__icontains=query)
        )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/order_list.html",
        {
            "page": page,
            "orders": page.object_list,
            "states": State.choices,
            "state": state,
            "query": query,
            "overdue": overdue,
            "sees_prices": roles.sees_prices(user),
            "may_create": roles.may(user, "order.create"),
            "today": timezone.localdate(),
        },
    )


# --- intake (R4.1) -----------------------------------------------------------------
@login_required
def order_create(request):
    user = request.user
    if not roles.may(user, "order.create"):
        raise PermissionDenied(_("Your role may not enter orders."))
    top_errors: list[str] = []
    line_errors: list[str] = []
    if request.method == "POST":
        form = OrderForm(request.POST)
        formset = OrderLineFormSet(request.POST, prefix=LINES_PREFIX)
        form_valid = form.is_valid()  # validate both, so every error shows at once
        if formset.is_valid() and form_valid:
            data = form.cleaned_data
            try:
                order = services.create_order(
                    user=user,
                    customer=data["customer"],
                    channel=data["channel"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    delivery_address=data["delivery_address"],
                    requested_delivery_date=data["requested_delivery_date"],
                    special_terms=data["special_terms"],
                    lines=formset.filled_lines(),
                )
            except Forbidden as exc:
                raise PermissionDenied(str(exc.detail)) from None
            except ServiceError as exc:
                top_errors.append(str(exc.detail))
                for field, problems in exc.errors.items():
                    for problem in problems:
                        text = problem.get("message", "") if isinstance(problem, dict) else str(problem)
                        if field in form.fields:
                            form.add_error(field, text)
                        elif field == "lines":
                            line_errors.append(text)
                        else:
                            top_errors.append(text)
            else:
                messages.success(request, _("Order %(number)s was recorded.") % {"number": order.number})
                return redirect(order)
        else:
            top_errors.append(_("Please correct the errors below; nothing was saved."))
    else:
        form = OrderForm(initial={"channel": "phone"})
        formset = OrderLineFormSet(prefix=LINES_PREFIX)
    from orders.selectors import products

    return render(
        request,
        "orders/order_form.html",
        {
            "form": form,
            "formset": formset,
            "top_errors": top_errors,
            "line_errors": [*formset.non_form_errors(), *line_errors] if formset.is_bound else line_errors,
            "product_defaults": {
                str(p.pk): {"specification": p.specification, "unit_price": str(p.standard_price)}
                for p in products().only("pk", "specification", "standard_price")
            },
        },
    )


# --- detail (R4.2–R4.5) ------------------------------------------------------------
def _who(user) -> str:
    if user is None:
        return _("system")
    return user.get_full_name() or user.get_username()


def _field_label(name: str) -> str:
    if name == "lines":
        return _("lines")
    try:
        return str(Order._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _timeline(order: Order, user) -> list[dict]:
    """Transitions (django-fsm-log) and field changes of the order, oldest first."""
    sees_contact = roles.sees_customer_contact(user)
    sees_prices = roles.sees_prices(user)
    sees_credit = roles.sees_credit(user)
    states = dict(State.choices)
    entries = []
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), object_id=order.pk
    ).select_related("by")
    for log in logs:
        # an approval's comment may carry the credit override reason (credit data)
        comment = log.description or ""
        if log.transition == "approve" and not sees_credit:
            comment = ""
        entries.append(
            {
                "kind": "transition",
                "at": log.timestamp,
                "who": _who(log.by),
                "name": log.transition,
                "label": TRANSITION_LABELS.get(log.transition, log.transition),
                "source": states.get(log.source_state, log.source_state),
                "target": states.get(log.state, log.state),
                "comment": comment,
                "key": (log.timestamp, 0, log.pk),
            }
        )
    for change in order.changes.select_related("user"):
        hidden = (change.field in CONTACT_FIELDS and not sees_contact) or (
            change.field in PRICE_FIELDS and not sees_prices
        )
        entries.append(
            {
                "kind": "change",
                "at": change.at,
                "who": _who(change.user),
                "field": _field_label(change.field),
                "old": "" if hidden else change.old_value,
                "new": "" if hidden else change.new_value,
                "hidden": hidden,
                "key": (change.at, 1, change.pk),
            }
        )
    entries.sort(key=lambda e: e["key"])
    return entries


def _transition_buttons(order: Order, user, *, failed: str | None = None, posted=None) -> list[dict]:
    buttons = []
    for item in services.available_transitions(user=user, order=order):
        if not item["allowed"]:
            continue
        name = item["name"]
        form = page_transition_form(name, data=posted if name == failed else None)
        if name == "approve":
            form.initial["promised_delivery_date"] = order.requested_delivery_date
        elif name == "accept":
            form.initial["signed_on"] = timezone.localdate()
        buttons.append(
            {
                "name": name,
                "label": TRANSITION_LABELS.get(name, name),
                # shown only where the state changes (submit and return keep it)
                "target": dict(State.choices).get(item["target"], "") if item["target"] != order.state else "",
                "form": form,
                "extra_fields": [f for f in form if f.name not in HIDDEN_TRANSITION_FIELDS and f.name != "comment"],
                "multipart": any(f.field.widget.needs_multipart_form for f in form),
                "danger": name in DANGEROUS_TRANSITIONS,
                "comment_required": name in COMMENT_REQUIRED,
                "open": name == failed,
            }
        )
    return buttons


def _detail_context(request, order: Order, *, failed: str | None = None) -> dict:
    from logistics.models import ShipmentEvent
    from production.models import ProductionPlan

    user = request.user
    sees_prices = roles.sees_prices(user)
    try:
        plan = ProductionPlan.objects.select_related("workshop").get(order=order)
        milestones = list(plan.milestones.select_related("responsible"))
    except ProductionPlan.DoesNotExist:
        plan, milestones = None, []
    reports = list(order.progress_reports.select_related("reported_by").order_by("-reported_at", "-id")[:5])
    shipments = list(
        order.shipments.prefetch_related(
            Prefetch("events", queryset=ShipmentEvent.objects.select_related("recorded_by").order_by("at", "id"))
        ).select_related("created_by")
    )
    invoices = list(order.invoices.prefetch_related("payments")) if sees_prices else []
    signoffs = list(order.signoffs.select_related("user"))
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "sees_prices": sees_prices,
        "sees_credit": roles.sees_credit(user),
        "sees_contact": roles.sees_customer_contact(user),
        "sees_tracking_url": roles.sees_tracking_url(user),
        "timeline": _timeline(order, user),
        "plan": plan,
        "milestones": milestones,
        "latest_report": reports[0] if reports else None,
        "reports": reports,
        "issues": list(order.production_issues.select_related("opened_by", "resolved_by")),
        "shipments": shipments,
        "invoices": invoices,
        "invoiced": sum((i.amount for i in invoices), 0),
        "paid": sum((i.paid_amount for i in invoices), 0),
        "signoffs": signoffs,
        "joint_review": order.requires_joint_review or bool(signoffs),
        "clarifications": list(order.clarifications.select_related("raised_by")),
        "transitions": _transition_buttons(order, user, failed=failed, posted=request.POST if failed else None),
        "read_only": roles.is_read_only(user),
        "today": timezone.localdate(),
    }


def _get_order(user, pk) -> Order:
    try:
        return selectors.get_visible_order(user, pk)
    except NotFound:
        raise Http404 from None


@login_required
def order_detail(request, pk: int):
    order = _get_order(request.user, pk)
    return render(request, "orders/order_detail.html", _detail_context(request, order))


def _problems(exc: ServiceError, name: str) -> list[str]:
    """Each problem of a failed transition as one readable line."""
    if isinstance(exc, ConditionsUnmet):
        return [str(item["message"]) for item in exc.unmet]
    form_fields = transition_form_class(name).base_fields
    problems = []
    for field, errors in (exc.errors or {}).items():
        label = str(form_fields[field].label) if field in form_fields else ""
        for error in errors:
            text = error.get("message", "") if isinstance(error, dict) else str(error)
            problems.append(_("%(field)s: %(error)s") % {"field": label, "error": text} if label else text)
    return problems or [str(exc.detail)]


@login_required
@require_POST
def order_transition(request, pk: int, name: str):
    try:
        order = services.run_transition(
            user=request.user,
            order_id=pk,
            name=name,
            comment=request.POST.get("comment", ""),
            data=request.POST.dict(),
            files=request.FILES,
        )
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        return render(request, "403.html", {"exception": str(exc.detail)}, status=403)
    except ServiceError as exc:  # Conflict (409), ConditionsUnmet and InvalidInput (400)
        order = _get_order(request.user, pk)
        status = 409 if isinstance(exc, Conflict) else 400
        context = _detail_context(request, order, failed=name)
        context["failure"] = {
            "label": TRANSITION_LABELS.get(name, name),
            "detail": str(exc.detail),
            "problems": [] if isinstance(exc, Conflict) else _problems(exc, name),
        }
        return render(request, "orders/order_detail.html", context, status=status)
    label = TRANSITION_LABELS.get(name, name)
    if name in ("submit", "return"):  # the state stays `received`
        messages.success(request, _("%(action)s: done.") % {"action": label})
    else:
        messages.success(
            request,
            _("%(action)s: done. The order is now “%(state)s”.")
            % {
                "action": label,
                "state": order.get_state_display(),
            },
        )
    return redirect(order)


# --- the customer's tracking page (R4.4, R5.3) ------------------------------------
def track(request, token: str):
    from logistics.models import ShipmentEvent, ShipmentStatus
    from production.models import ProductionPlan

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
    try:
        milestones = list(ProductionPlan.objects.get(order=order).milestones.only("name", "due_date", "done_at"))
    except ProductionPlan.DoesNotExist:
        milestones = []
    latest = order.progress_reports.order_by("-reported_at", "-id").only("percent_complete", "reported_at").first()
    shipments = list(
        order.shipments.exclude(status=ShipmentStatus.RETURNED)
        .only("carrier", "tracking_number", "status", "expected_arrival", "order_id")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=ShipmentEvent.objects.only("shipment_id", "status", "location", "at").order_by("at", "id"),
            )
        )
    )
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
            "public_page": True,
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
