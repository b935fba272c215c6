"""The server-rendered pages of the order desk (DESIGN §6 "Pages").

Pages read through :mod:`orders.selectors` (an order outside the caller's scope
is a 404, R5.2) and write through :mod:`orders.services`, exactly like the API;
what a role may not see (prices, credit, customer contact) is left out here, and
which transition buttons show comes from :func:`orders.services.available_transitions`.
"""

from __future__ import annotations

from django import forms as django_forms
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
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm_log.models import StateLog

from orderdesk import roles
from orderdesk.errors import ConditionsUnmet, Conflict, Forbidden, NotFound, ServiceError
from orders import lifecycle, selectors, services
from orders.forms import (
    LINES_PREFIX,
    OrderForm,
    OrderLineFormSet,
    page_transition_form,
    transition_form_class,
)
from orders.models import Order, State

PAGE_SIZE = 25
DASHBOARD_LIST_SIZE = 10
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
            "work_queues": selectors.work_queues(user),
            "may_create": roles.may(user, "order.create"),
            "today": today,
        },
    )


# --- list --------------------------------------------------------------------------
def _parse_date(value):
    import datetime

    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


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
    created_from, created_to = _parse_date(params.get("from")), _parse_date(params.get("to"))
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
        return _export(request, orders, export)
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


def _export_columns(user) -> list[tuple[str, object]]:
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


def _export(request, orders, kind: str):
    """Exactly the rows the list's filter shows (every page), with only the fields the caller may see.

    Cells go through :mod:`orderdesk.exports` (formula-leading text neutralised, XLSX text kept text)."""
    from django.http import HttpResponse, StreamingHttpResponse

    from orderdesk import exports

    columns = _export_columns(request.user)
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


# --- intake (R4.1) and editing while received ----------------------------------------------------
def _service_errors_to_form(exc: ServiceError, form, top_errors: list, line_errors: list) -> None:
    top_errors.append(str(exc.detail))
    for field, problems in (exc.errors or {}).items():
        for problem in problems:
            text = problem.get("message", "") if isinstance(problem, dict) else str(problem)
            if field in form.fields:
                form.add_error(field, text)
            elif field == "lines":
                line_errors.append(text)
            else:
                top_errors.append(text)


def _earliest_feasible(product_ids) -> object:
    import datetime

    from orders.models import Product

    ids = [int(p) for p in product_ids if str(p).isdigit()]
    lead = max(Product.objects.filter(pk__in=ids).values_list("lead_time_days", flat=True), default=0)
    return timezone.localdate() + datetime.timedelta(days=lead) if ids else None


def _form_context(form, formset, top_errors, line_errors, **extra) -> dict:
    from orders.selectors import products

    return {
        "form": form,
        "formset": formset,
        "top_errors": top_errors,
        "line_errors": [*formset.non_form_errors(), *line_errors] if formset.is_bound else line_errors,
        "product_defaults": {
            str(p.pk): {"specification": p.specification, "unit_price": str(p.standard_price),
                        "lead_time_days": p.lead_time_days}
            for p in products().only("pk", "specification", "standard_price", "lead_time_days")
        },
        **extra,
    }


@login_required
def order_create(request):
    user = request.user
    if not roles.may(user, "order.create"):
        raise PermissionDenied(_("Your role may not enter orders."))
    with_assistant = roles.may(user, "order.reassign")
    top_errors: list[str] = []
    line_errors: list[str] = []
    duplicates = []
    earliest = None
    if request.method == "POST":
        form = OrderForm(request.POST, with_assistant=with_assistant)
        formset = OrderLineFormSet(request.POST, prefix=LINES_PREFIX)
        form_valid = form.is_valid()  # validate both, so every error shows at once
        if formset.is_valid() and form_valid:
            data = form.cleaned_data
            lines = formset.filled_lines()
            earliest = _earliest_feasible([line["product"].pk for line in lines])
            duplicates = selectors.likely_duplicates(
                user, customer_id=data["customer"].pk, product_ids=[line["product"].pk for line in lines]
            )
            if duplicates and not data.get("confirm_duplicate"):
                top_errors.append(_("This looks like an order already recorded; check it, or confirm "
                                    "“Save anyway” below. Nothing was saved."))
            else:
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
                        lines=lines,
                        assistant=data.get("assistant"),
                    )
                except Forbidden as exc:
                    raise PermissionDenied(str(exc.detail)) from None
                except ServiceError as exc:
                    _service_errors_to_form(exc, form, top_errors, line_errors)
                else:
                    messages.success(request, _("Order %(number)s was recorded.") % {"number": order.number})
                    return redirect(order)
        else:
            top_errors.append(_("Please correct the errors below; nothing was saved."))
    else:
        form = OrderForm(initial={"channel": "phone"}, with_assistant=with_assistant)
        formset = OrderLineFormSet(prefix=LINES_PREFIX)
    return render(
        request,
        "orders/order_form.html",
        _form_context(form, formset, top_errors, line_errors, duplicates=duplicates, earliest=earliest,
                      is_edit=False),
    )


@login_required
def intake_check(request):
    """For the intake form, as the assistant types: likely duplicates and the earliest feasible date."""
    from django.http import JsonResponse

    user = request.user
    if not roles.may(user, "order.create") and not roles.may(user, "order.edit"):
        raise PermissionDenied
    product_ids = [p for p in request.GET.getlist("product") if p.isdigit()][:100]
    customer = request.GET.get("customer", "")
    exclude = request.GET.get("exclude", "")
    duplicates = []
    if customer.isdigit() and product_ids:
        duplicates = selectors.likely_duplicates(
            user, customer_id=int(customer), product_ids=product_ids,
            exclude_id=int(exclude) if exclude.isdigit() else None,
        )
    earliest = _earliest_feasible(product_ids)
    return JsonResponse({
        "earliest_feasible_date": earliest.isoformat() if earliest else None,
        "duplicates": [
            {"id": o.pk, "number": o.number, "url": o.get_absolute_url(), "state": o.get_state_display(),
             "created_at": timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M")}
            for o in duplicates
        ],
    })


@login_required
def order_edit(request, pk: int):
    from orders.forms import OrderEditForm

    user = request.user
    order = _get_order(user, pk)
    if not roles.may(user, "order.edit", order):
        raise PermissionDenied(_("Your role may not change this order."))
    if order.state != State.RECEIVED:
        messages.error(request, _("An order can be changed only while it is received."))
        return redirect(order)
    top_errors: list[str] = []
    line_errors: list[str] = []
    if request.method == "POST":
        form = OrderEditForm(request.POST)
        formset = OrderLineFormSet(request.POST, prefix=LINES_PREFIX)
        form_valid = form.is_valid()
        if formset.is_valid() and form_valid:
            data = {k: v for k, v in form.cleaned_data.items() if k in services.EDITABLE_FIELDS}
            data["lines"] = formset.filled_lines()
            try:
                services.update_order(user=user, order_id=order.pk, data=data)
            except NotFound:
                raise Http404 from None
            except Forbidden as exc:
                raise PermissionDenied(str(exc.detail)) from None
            except ServiceError as exc:
                _service_errors_to_form(exc, form, top_errors, line_errors)
            else:
                messages.success(request, _("Order %(number)s was changed.") % {"number": order.number})
                return redirect(order)
        else:
            top_errors.append(_("Please correct the errors below; nothing was saved."))
    else:
        form = OrderEditForm(initial={name: getattr(order, name) for name in services.EDITABLE_FIELDS})
        initial_lines = [
            {"product": line.product_id, "specification": line.specification, "quantity": line.quantity,
             "unit_price": line.unit_price}
            for line in order.lines.all()
        ]
        formset = OrderLineFormSet(prefix=LINES_PREFIX, initial=initial_lines)
    earliest = _earliest_feasible([str(line.product_id) for line in order.lines.all()])
    return render(
        request, "orders/order_form.html",
        _form_context(form, formset, top_errors, line_errors, order=order, is_edit=True, earliest=earliest,
                      duplicates=[]),
        status=400 if top_errors else 200,
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
    hidden_changes = roles.hidden_history_fields(user)
    override = bool(order.credit_override_reason)
    states = dict(State.choices)
    entries = []
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), object_id=order.pk
    ).select_related("by")
    for log in logs:
        # review comments are internal; an approval's comment may carry the credit override reason
        comment = roles.transition_comment_for(user, log.transition, log.description, credit_override=override)
        entries.append(
            {
                "kind": "transition",
                "at": log.timestamp,
                "who": _who(log.by),
                "name": log.transition,
                "label": lifecycle.label(log.transition),
                "source": states.get(log.source_state, log.source_state),
                "target": states.get(log.state, log.state),
                "comment": comment,
                "key": (log.timestamp, 0, log.pk),
            }
        )
    for change in order.changes.select_related("user"):
        hidden = change.field in hidden_changes
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
    _timeline_extras(order, user, entries)
    entries.sort(key=lambda e: e["key"])
    return entries


def _sees_records(user) -> dict[str, bool]:
    return roles.page_visibility(user)["sees"]


def visibility_context(user) -> dict:
    """What the order pages may show the user (orderdesk.roles.page_visibility). Templates read only this."""
    return roles.page_visibility(user)


def _timeline_extras(order: Order, user, entries: list) -> None:
    """Progress reports, shipment events, communications, clarifications, escalations and the caller's
    notifications about the order (each a fixed number of queries)."""
    from logistics.models import ShipmentEvent

    sees = _sees_records(user)
    for report in order.progress_reports.select_related("reported_by"):
        entries.append({"kind": "progress", "at": report.reported_at, "who": _who(report.reported_by),
                        "percent": report.percent_complete, "note": report.note,
                        "key": (report.reported_at, 2, report.pk)})
    for event in ShipmentEvent.objects.filter(shipment__order=order).select_related("shipment", "recorded_by"):
        entries.append({"kind": "shipment", "at": event.at, "who": _who(event.recorded_by),
                        "status": event.get_status_display(), "location": event.location, "note": event.note,
                        "carrier": event.shipment.carrier, "tracking": event.shipment.tracking_number,
                        "key": (event.at, 3, event.pk)})
    if sees["communications"]:
        for comm in order.communications.select_related("recorded_by"):
            entries.append({"kind": "communication", "at": comm.at, "who": _who(comm.recorded_by),
                            "channel": comm.get_channel_display(), "with_whom": comm.with_whom,
                            "summary": comm.summary, "key": (comm.at, 4, comm.pk)})
    if sees["clarifications"]:
        for clar in order.clarifications.select_related("raised_by"):
            entries.append({"kind": "clarification", "at": clar.raised_at, "who": _who(clar.raised_by),
                            "question": clar.question, "resolution": clar.resolution,
                            "resolved_at": clar.resolved_at, "key": (clar.raised_at, 5, clar.pk)})
    if sees["escalations"]:
        for esc in order.escalations.select_related("raised_by", "resolved_by"):
            entries.append({"kind": "escalation", "at": esc.raised_at, "who": _who(esc.raised_by),
                            "reason": esc.reason, "resolution": esc.resolution,
                            "resolved_by": _who(esc.resolved_by) if esc.resolved_by_id else "",
                            "resolved_at": esc.resolved_at, "key": (esc.raised_at, 6, esc.pk)})
    for note in order.notifications.filter(user=user):
        entries.append({"kind": "notification", "at": note.created_at, "who": "", "message": note.text,
                        "label": note.get_kind_display(), "key": (note.created_at, 7, note.pk)})


def _transition_buttons(order: Order, user, *, failed: str | None = None, posted=None) -> list[dict]:
    buttons = []
    for item in services.available_transitions(user=user, order=order):
        if not item["allowed"]:
            continue
        name = item["name"]
        entry = lifecycle.TRANSITIONS[name]
        form = page_transition_form(name, data=posted if name == failed else None)
        form.initial.update(lifecycle.initial(name, order))
        buttons.append(
            {
                "name": name,
                "label": lifecycle.label(name),
                # shown only where the state changes (submit and return keep it)
                "target": dict(State.choices).get(item["target"], "") if item["target"] != order.state else "",
                "form": form,
                "extra_fields": [f for f in form if f.name not in entry.page_hidden and f.name != "comment"],
                "multipart": any(f.field.widget.needs_multipart_form for f in form),
                "danger": entry.danger,
                "comment_required": entry.comment_required,
                "open": name == failed,
            }
        )
    return buttons


def _desk_context(order: Order, user, forms: dict) -> dict:
    """The assistant's check (R4.2), the communication log and escalations (R5.1) with their forms."""
    from orders.forms import ClarificationForm, CommunicationForm, EscalationForm, ResolutionForm

    sees = _sees_records(user)
    sales_side = sees["communications"]  # the assistant's check and the talks with the customer are internal
    may_clarify = roles.may(user, "clarification.manage", order)
    context = {
        "checklist": selectors.submit_checklist(order)
        if order.state == State.RECEIVED and not order.is_submitted and sales_side else [],
        "communications": list(order.communications.select_related("recorded_by")) if sales_side else [],
        "escalations": list(order.escalations.select_related("raised_by", "resolved_by"))
        if sees["escalations"] else [],
        "sales_side": sales_side,
        "may_edit": order.state == State.RECEIVED and roles.may(user, "order.edit", order),
        "may_communicate": roles.may(user, "communication.log", order),
        "may_clarify": may_clarify and order.state == State.RECEIVED,
        "may_resolve_clarification": may_clarify,
        "may_escalate": roles.may(user, "escalation.raise", order),
        "may_resolve_escalation": roles.may(user, "escalation.resolve", order),
        "communication_form": forms.get("communication") or CommunicationForm(),
        "clarification_form": forms.get("clarification") or ClarificationForm(),
        "escalation_form": forms.get("escalation") or EscalationForm(),
        "resolution_form": ResolutionForm(auto_id=False),
        "resolution_errors": forms.get("resolution_errors") or {},
        **_feedback_context(order, user, forms),
    }
    return context


def _feedback_context(order: Order, user, forms: dict) -> dict:
    """The customer's questionnaire answer and complaints (R6.2), for those who read feedback."""
    from feedback.forms import ComplaintForm, ComplaintHandleForm
    from feedback.models import Survey
    from feedback.selectors import FEEDBACK_READERS

    if not roles.roles_of(user) & FEEDBACK_READERS:
        return {"shows_feedback": False}
    return {
        "shows_feedback": True,
        "survey": Survey.objects.filter(order=order).first(),
        "complaints": list(order.complaints.select_related("recorded_by", "handled_by")),
        "may_record_complaint": roles.may(user, "complaint.record", order),
        "may_handle_complaint": roles.may(user, "complaint.handle", order),
        "complaint_form": forms.get("complaint") or ComplaintForm(),
        "complaint_handle_form": ComplaintHandleForm(auto_id=False),
    }


def _detail_context(request, order: Order, *, failed: str | None = None, forms: dict | None = None) -> dict:
    from logistics.models import ShipmentEvent
    from production.models import ProductionPlan

    user = request.user
    visibility = visibility_context(user)
    sees = visibility["sees"]
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
    invoices = list(order.invoices.prefetch_related("payments")) if sees["invoices"] else []
    signoffs = list(order.signoffs.select_related("user"))
    issues = list(order.production_issues.select_related("opened_by", "resolved_by"))
    return {
        "order": order,
        "lines": list(order.lines.all()),
        **visibility,
        "timeline": _timeline(order, user),
        "plan": plan,
        "milestones": milestones,
        "latest_report": reports[0] if reports else None,
        "reports": reports,
        "issues": issues,
        "shipments": shipments,
        "invoices": invoices,
        "invoiced": sum((i.amount for i in invoices), 0),
        "paid": sum((i.paid_amount for i in invoices), 0),
        "signoffs": signoffs,
        "joint_review": order.requires_joint_review or bool(signoffs),
        "clarifications": list(order.clarifications.select_related("raised_by")) if sees["clarifications"] else [],
        **_desk_context(order, user, forms or {}),
        "transitions": _transition_buttons(order, user, failed=failed, posted=request.POST if failed else None),
        "read_only": roles.is_read_only(user),
        "today": timezone.localdate(),
        **_department_context(order, user, forms or {}, plan=plan, milestones=milestones, issues=issues,
                              shipments=shipments, invoices=invoices),
    }


def _department_context(order: Order, user, forms: dict, *, plan, milestones, issues, shipments, invoices) -> dict:
    """The forms of production, logistics and finance on the order page, each only where the caller's role
    (:func:`orderdesk.roles.may`) and the order's state let it be used (the same rules as the services,
    which still enforce them). Reads only what the page has already read, plus the form's choices."""
    from finance.forms import InvoiceForm, PaymentForm
    from finance.services import INVOICE_STATES
    from logistics.forms import ShipmentEventForm, ShipmentForm
    from logistics.models import ShipmentStatus
    from logistics.services import SHIPMENT_STATES
    from production.forms import IssueForm, IssueResolutionForm, MilestoneFormSet, PlanForm, ProgressForm, ReadinessForm
    from production.services import ISSUE_STATES, PLAN_EDITABLE_STATES, READINESS_STATES

    state = order.state
    context: dict = {"department_open": forms.get("open", "")}
    # production (R4.3, R4.4)
    may_plan = roles.may(user, "plan.manage", order)
    context["may_plan"] = may_plan and state in PLAN_EDITABLE_STATES
    if context["may_plan"]:
        context["plan_form"] = forms.get("plan") or PlanForm(initial={"workshop": plan.workshop_id if plan else
                                                                      order.workshop_id})
        context["milestone_formset"] = forms.get("milestones") or MilestoneFormSet(initial=[
            {"name": m.name, "due_date": m.due_date, "responsible": m.responsible_id} for m in milestones
        ])
    context["may_readiness"] = may_plan and plan is not None and state in READINESS_STATES
    if context["may_readiness"]:
        context["readiness_form"] = forms.get("readiness") or ReadinessForm(
            initial={"materials_ready": plan.materials_ready, "equipment_ready": plan.equipment_ready})
    context["may_report_progress"] = roles.may(user, "progress.report", order) and state == State.PRODUCING
    if context["may_report_progress"]:
        context["progress_form"] = forms.get("progress") or ProgressForm()
    context["may_open_issue"] = roles.may(user, "issue.open", order) and state in ISSUE_STATES
    if context["may_open_issue"]:
        context["issue_form"] = forms.get("issue") or IssueForm()
    context["may_resolve_issue"] = roles.may(user, "issue.resolve", order)
    for issue in issues:
        issue.resolution_form = (
            forms.get(f"issue-{issue.pk}") or IssueResolutionForm(auto_id=f"id_issue{issue.pk}_%s")
            if context["may_resolve_issue"] and issue.is_open else None
        )
    # logistics (R3.4, R4.4)
    may_ship = roles.may(user, "shipment.manage", order)
    context["may_record_shipment"] = may_ship and state in SHIPMENT_STATES
    if context["may_record_shipment"]:
        context["shipment_form"] = forms.get("shipment") or ShipmentForm()
    for shipment in shipments:
        shipment.event_form = (
            forms.get(f"event-{shipment.pk}") or ShipmentEventForm(auto_id=f"id_event{shipment.pk}_%s")
            if may_ship and shipment.status != ShipmentStatus.RETURNED else None
        )
        shipment.event_open = context["department_open"] == f"event-{shipment.pk}"
    # finance (R3.5, R4.5)
    context["may_invoice"] = roles.may(user, "invoice.create", order) and state in INVOICE_STATES
    context["to_invoice"] = order.total_amount - sum((i.amount for i in invoices), 0)
    if context["may_invoice"]:
        context["invoice_form"] = forms.get("invoice") or InvoiceForm(
            initial={"amount": context["to_invoice"] if context["to_invoice"] > 0 else None})
    payable = [i for i in invoices if i.outstanding > 0]
    context["outstanding"] = sum((i.outstanding for i in payable), 0)
    context["may_record_payment"] = roles.may(user, "payment.record", order) and bool(payable)
    if context["may_record_payment"]:
        context["payment_form"] = forms.get("payment") or PaymentForm(
            invoices=payable, initial={"received_on": timezone.localdate()})
    return context


def department_write(request, pk: int, *, key: str, allowed, bind, call, conflict: str = ""):
    """Run a production, logistics or finance service from a form posted on the order page.

    ``allowed(order)`` → (role may, state allows); ``bind(order)`` → the bound forms by context key;
    ``call(order, forms)`` → the success message. An order outside the caller's scope is a 404; a role
    that may not, 403; a state that does not allow it, 409; bad values, 400: each shows the order page
    again with the message and what was typed, and nothing is written.
    """
    user = request.user
    order = _get_order(user, pk)
    forms = bind(order)
    role_ok, state_ok = allowed(order)
    if not role_ok:
        return _department_failure(request, order, key, forms, str(Forbidden.default_detail), status=403)
    if not state_ok:
        return _department_failure(request, order, key, forms, conflict or str(Conflict.default_detail), status=409)
    valid = [form.is_valid() for form in forms.values()]  # validate every form, so every error shows at once
    if not all(valid):
        return _department_failure(request, order, key, forms,
                                   _("Please correct the errors below; nothing was saved."), status=400)
    try:
        message = call(order, forms)
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        problems = []
        for field, items in (exc.errors or {}).items():
            for item in items:
                text = str(item.get("message", "") if isinstance(item, dict) else item)
                form = next((f for f in forms.values() if isinstance(f, django_forms.Form) and field in f.fields),
                            None)
                if form is not None:
                    form.add_error(field, text)
                else:
                    problems.append(text)
        return _department_failure(request, order, key, forms, str(exc.detail), problems=problems,
                                   status=exc.status)
    messages.success(request, message)
    return redirect(order)


def _department_failure(request, order, key, forms, detail, *, problems=(), status):
    context = _detail_context(request, order, forms={**forms, "open": key})
    context["department_error"] = {"detail": detail, "problems": list(problems)}
    return render(request, "orders/order_detail.html", context, status=status)


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
            "label": lifecycle.label(name),
            "detail": str(exc.detail),
            "problems": [] if isinstance(exc, Conflict) else _problems(exc, name),
        }
        return render(request, "orders/order_detail.html", context, status=status)
    messages.success(request, lifecycle.done_message(name, order))
    return redirect(order)


# --- the assistant's check: communications, clarifications, escalations (R4.2, R5.1) ----------------
def _desk_write(request, pk: int, *, form_key: str, form, call):
    """Run a desk service from a posted form; on bad input show the order again with the errors (400)."""
    order = _get_order(request.user, pk)
    if form is not None and not form.is_valid():
        context = _detail_context(request, order, forms={form_key: form})
        context["desk_error"] = _("Please correct the errors below; nothing was saved.")
        return render(request, "orders/order_detail.html", context, status=400)
    try:
        message = call(order, form.cleaned_data if form is not None else None)
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        return render(request, "403.html", {"exception": str(exc.detail)}, status=403)
    except ServiceError as exc:
        if form is not None:
            for field, problems in (exc.errors or {}).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, str(problem))
        context = _detail_context(request, order, forms={form_key: form} if form is not None else {})
        context["desk_error"] = str(exc.detail) if not exc.errors else _(
            "Please correct the errors below; nothing was saved.")
        if form_key.endswith("_resolution"):
            context["resolution_errors"] = {form_key: [str(p) for ps in exc.errors.values() for p in ps]}
        return render(request, "orders/order_detail.html", context, status=409 if isinstance(exc, Conflict) else 400)
    messages.success(request, message)
    return redirect(order)


@login_required
@require_POST
def communication_add(request, pk: int):
    from orders.forms import CommunicationForm

    def call(order, data):
        services.log_communication(user=request.user, order_id=order.pk, channel=data["channel"], at=data["at"],
                                   with_whom=data["with_whom"], summary=data["summary"])
        return _("The communication was recorded.")

    return _desk_write(request, pk, form_key="communication", form=CommunicationForm(request.POST), call=call)


@login_required
@require_POST
def clarification_add(request, pk: int):
    from orders.forms import ClarificationForm

    def call(order, data):
        services.open_clarification(user=request.user, order_id=order.pk, question=data["question"])
        return _("The clarification is open; resolve it before submitting.")

    return _desk_write(request, pk, form_key="clarification", form=ClarificationForm(request.POST), call=call)


def _resolve_item(request, pk: int, item: int, *, model, key: str, resolve, done_message):
    """Resolve a clarification or an escalation of order `pk` with the posted resolution."""
    from orders.forms import ResolutionForm

    if not model.objects.filter(pk=item, order_id=pk).exists():
        raise Http404

    def call(order, data):
        resolve(data["resolution"])
        return done_message

    form = ResolutionForm(request.POST)
    if not form.is_valid():
        order = _get_order(request.user, pk)
        context = _detail_context(request, order)
        context["resolution_errors"] = {f"{key}-{item}": [e for es in form.errors.values() for e in es]}
        context["desk_error"] = _("Please correct the errors below; nothing was saved.")
        return render(request, "orders/order_detail.html", context, status=400)
    return _desk_write(request, pk, form_key=f"{key}_resolution", form=form, call=call)


@login_required
@require_POST
def clarification_resolve(request, pk: int, item: int):
    from orders.models import Clarification

    return _resolve_item(
        request, pk, item, model=Clarification, key="clarification",
        resolve=lambda text: services.resolve_clarification(user=request.user, clarification_id=item,
                                                            resolution=text),
        done_message=_("The clarification is resolved."),
    )


@login_required
@require_POST
def escalation_add(request, pk: int):
    from orders.forms import EscalationForm

    def call(order, data):
        services.raise_escalation(user=request.user, order_id=order.pk, reason=data["reason"])
        return _("The problem was escalated to the sales managers.")

    return _desk_write(request, pk, form_key="escalation", form=EscalationForm(request.POST), call=call)


@login_required
@require_POST
def escalation_resolve(request, pk: int, item: int):
    from orders.models import Escalation

    return _resolve_item(
        request, pk, item, model=Escalation, key="escalation",
        resolve=lambda text: services.resolve_escalation(user=request.user, escalation_id=item, resolution=text),
        done_message=_("The escalation is resolved."),
    )


@login_required
@require_POST
def complaint_add(request, pk: int):
    from feedback import services as feedback
    from feedback.forms import ComplaintForm

    def call(order, data):
        feedback.record_complaint(user=request.user, order_id=order.pk, kind=data["kind"],
                                  description=data["description"])
        return _("The complaint or suggestion was recorded.")

    return _desk_write(request, pk, form_key="complaint", form=ComplaintForm(request.POST), call=call)


@login_required
@require_POST
def complaint_handle(request, pk: int, item: int):
    from feedback import services as feedback
    from feedback.forms import ComplaintHandleForm
    from feedback.models import Complaint

    if not Complaint.objects.filter(pk=item, order_id=pk).exists():
        raise Http404

    def call(order, data):
        feedback.handle_complaint(user=request.user, complaint_id=item, status=data["status"],
                                  resolution=data["resolution"])
        return _("The complaint was updated.")

    return _desk_write(request, pk, form_key="complaint_handle", form=ComplaintHandleForm(request.POST), call=call)


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


# --- import from a CSV or Excel sheet (R4.1, other channels) -------------------------------------
def _import_job(user, pk):
    from orders.models import ImportJob

    try:
        return ImportJob.objects.get(pk=pk, user=user)
    except ImportJob.DoesNotExist:
        raise Http404 from None


@login_required
def import_start(request):
    from orders.forms import ImportForm
    from orders.models import ImportJob

    user = request.user
    if not roles.may(user, "order.import"):
        raise PermissionDenied(_("Your role may not import orders."))
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = services.create_import_job(user=user, upload=form.cleaned_data["file"])
            except Forbidden as exc:
                raise PermissionDenied(str(exc.detail)) from None
            except ServiceError as exc:
                for problems in (exc.errors or {}).values():
                    for problem in problems:
                        form.add_error("file", str(problem))
                status = 400
            else:
                return redirect("orders:import_detail", pk=job.pk)
        else:
            status = 400
    else:
        form = ImportForm()
    jobs = ImportJob.objects.filter(user=user)[:10]
    return render(request, "orders/import_start.html",
                  {"form": form, "jobs": jobs, "columns": services.IMPORT_COLUMNS}, status=status)


@login_required
def import_detail(request, pk: int):
    job = _import_job(request.user, pk)
    return render(request, "orders/import_detail.html", {"job": job, "orders": _imported_orders(request.user, job)})


def _imported_orders(user, job):
    return list(selectors.visible_orders(user).filter(pk__in=job.order_ids).select_related("customer")[:200])


@login_required
def import_status(request, pk: int):
    from django.http import JsonResponse

    job = _import_job(request.user, pk)
    return JsonResponse({
        "status": job.status, "status_display": job.get_status_display(), "percent": job.percent,
        "total_rows": job.total_rows, "processed_rows": job.processed_rows, "error_count": len(job.errors),
        "finished": job.status not in ("pending", "validating", "importing"),
    })


@login_required
@require_POST
def import_commit(request, pk: int):
    job = _import_job(request.user, pk)
    try:
        ids = services.commit_import(user=request.user, job_id=job.pk)
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        return render(request, "403.html", {"exception": str(exc.detail)}, status=403)
    except ServiceError as exc:
        job.refresh_from_db()
        messages.error(request, str(exc.detail))
        return render(request, "orders/import_detail.html", {"job": job, "orders": []},
                      status=409 if isinstance(exc, Conflict) else 400)
    messages.success(request, _("%(n)s orders were imported.") % {"n": len(ids)})
    return redirect("orders:import_detail", pk=job.pk)


@login_required
def import_template(request, kind: str):
    """A sheet with the import's columns and one example order of two lines."""
    import datetime
    import io

    from django.http import HttpResponse

    from orderdesk import exports
    from orders.models import Customer, Product

    if kind not in ("csv", "xlsx"):
        raise Http404
    customer = Customer.objects.order_by("code").first()
    products = list(Product.objects.filter(is_active=True).order_by("sku")[:2])
    when = (timezone.localdate() + datetime.timedelta(days=60)).isoformat()
    example = []
    for product in products or [None]:
        example.append([
            "A1", customer.code if customer else "C001", "phone", "Li Lei", "13800000000",
            "Shanghai, Pudong, 88 Century Avenue", when, "",
            product.sku if product else "SKU-1", product.specification if product and product.specification
            else "standard", "10", str(product.standard_price) if product else "100.00",
        ])
    if kind == "xlsx":
        book = exports.XlsxWriter("orders")
        book.append(services.IMPORT_COLUMNS)
        for row in example:
            book.append(row)
        response = HttpResponse(book.to_bytes(), content_type=exports.XlsxWriter.content_type)
    else:
        buffer = io.StringIO()
        writer = exports.CsvRowWriter(buffer)
        writer.writerow(services.IMPORT_COLUMNS)
        writer.writerows(example)
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="order-import-template.{kind}"'
    return response
