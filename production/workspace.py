"""The production workspace (issue 10; R3.3, R4.3, R4.4): `/production/` — the supervisor's queue (to plan,
to get ready, in production, late) and the workshop calendar (weeks × workshops, planned against capacity);
`/production/orders/<id>/` — the plan editor beside the chosen workshop's load, preparation tasks, the move
to another workshop and the `schedule` button; `/production/my/` — a worker's milestones: progress reports
(with quantity and photo) and completion. Every list exports CSV (``?export=``, :mod:`orderdesk.exports`).

Thin: every write goes through :mod:`production.services` (or the transition service); reads through
:mod:`production.selectors`. A write that fails shows the page again with the reason and the status of the
error (400/403/409; out of scope 404), nothing written.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_POST

from orderdesk import exports, roles
from orderdesk.errors import NotFound, ServiceError
from orderdesk.pages import parse_date
from orders import services as order_services
from orders.selectors import get_visible_order
from production import selectors, services
from production.forms import (
    CompleteForm,
    MilestoneFormSet,
    MoveForm,
    PlanForm,
    PreparationForm,
    ReportForm,
    ScheduleForm,
)
from production.models import Milestone, PreparationTask, ProductionPlan

CALENDAR_WEEKS = 8

QUEUE_TITLES = {
    "to_plan": gettext_lazy("To plan"),
    "to_get_ready": gettext_lazy("To get ready"),
    "in_production": gettext_lazy("In production"),
    "late": gettext_lazy("Late"),
}

# The columns of the queue lists and their exports: (header, (model label, field) or None, value). A column
# naming a classed field (DESIGN §5) is dropped for a caller who may not see it (roles.hidden_fields).
QUEUE_COLUMNS = (
    (gettext_lazy("Order"), None, lambda o: o.number),
    (gettext_lazy("Customer"), ("orders.Customer", "name"), lambda o: o.customer.name),
    (gettext_lazy("State"), None, lambda o: o.get_state_display()),
    (gettext_lazy("Workshop"), None, lambda o: o.workshop.name if o.workshop else ""),
    (gettext_lazy("Promised delivery"), None, lambda o: o.promised_delivery_date),
    (gettext_lazy("Note on priorities"), ("production.Handover", "note"), lambda o: _handover_note(o)),
)


def _handover_note(order) -> str:
    try:
        return order.production_handover.note
    except Exception:  # no hand-over (RelatedObjectDoesNotExist)
        return ""


def _columns(user, columns):
    return [c for c in columns if c[1] is None or not roles.is_hidden(user, c[1][0], c[1][1])]


def _require(user, action: str) -> None:
    if not roles.may(user, action):
        raise PermissionDenied


def _csv(filename: str, header, rows) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        exports.csv_stream([str(h) for h in header], rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _calendar(start: datetime.date, weeks: int = CALENDAR_WEEKS, workshops_list=None) -> dict:
    workshops_list = list(workshops_list if workshops_list is not None else selectors.workshops())
    end = start + datetime.timedelta(weeks=weeks) - datetime.timedelta(days=1)
    grid = selectors.calendar(workshops_list=workshops_list, start=start, end=end)
    rows = [{"workshop": w, "weeks": grid[w.pk]} for w in workshops_list]
    mondays = [cell["week"] for cell in rows[0]["weeks"]] if rows else []
    return {
        "rows": rows,
        "weeks": mondays,
        "start": start,
        "prev": start - datetime.timedelta(weeks=weeks),
        "next": start + datetime.timedelta(weeks=weeks),
    }


def _calendar_csv(cal) -> StreamingHttpResponse:
    header = [_("Workshop"), _("Week"), _("Planned"), _("Capacity"), _("Orders")]
    rows = (
        [
            row["workshop"].name,
            cell["week"],
            cell["planned"],
            cell["capacity"],
            " ".join(o["number"] for o in cell["orders"]),
        ]
        for row in cal["rows"]
        for cell in row["weeks"]
    )
    return _csv(f"production-calendar-{cal['start']}.csv", header, rows)


@login_required
def workspace(request):
    """The supervisor's queue and the workshop calendar."""
    user = request.user
    _require(user, "production.workspace")
    start = selectors.monday(parse_date(request.GET.get("start")) or timezone.localdate())
    queues = selectors.queues(user)
    columns = _columns(user, QUEUE_COLUMNS)
    export = request.GET.get("export")
    if export == "calendar":
        return _calendar_csv(_calendar(start))
    if export in queues:
        rows = ([c[2](o) for c in columns] for o in queues[export].iterator(chunk_size=500))
        return _csv(f"production-{export}.csv", [c[0] for c in columns], rows)
    lists = [
        {"key": key, "title": QUEUE_TITLES[key], "orders": list(qs[:200]), "count": qs.count()}
        for key, qs in queues.items()
    ]
    for item in lists:
        item["rows"] = [(o, [c[2](o) for c in columns]) for o in item["orders"]]
    return render(
        request,
        "production/workspace.html",
        {
            "lists": lists,
            "columns": [c[0] for c in columns],
            "calendar": _calendar(start),
            "may_plan": roles.may(user, "plan.manage"),
        },
    )


# --- the plan editor -------------------------------------------------------------------------------------
def _order(user, pk):
    try:
        return get_visible_order(user, pk)
    except NotFound:
        raise Http404 from None


def _plan_context(request, order, *, forms: dict | None = None, error=None) -> dict:
    user = request.user
    forms = forms or {}
    plan = ProductionPlan.objects.select_related("workshop").filter(order=order).first()
    milestones = list(plan.milestones.select_related("responsible", "done_by")) if plan else []
    workshop = plan.workshop if plan else order.workshop
    start_param = parse_date(request.GET.get("start"))
    start = selectors.monday(start_param or (plan.start_date if plan and plan.start_date else timezone.localdate()))
    workshops_list = list(selectors.workshops())
    shown = [w for w in workshops_list if workshop is None or w.pk == workshop.pk] or workshops_list
    ctx = {
        "order": order,
        "plan": plan,
        "milestones": milestones,
        "handover": selectors.visible_handovers(user).filter(order=order).first(),
        "preparations": list(order.preparation_tasks.select_related("owner", "ready_by")),
        "issues": list(order.production_issues.select_related("owner")),
        "calendar": _calendar(start, workshops_list=shown),
        "overloaded": {w["week"] for w in selectors.overloaded_weeks(order)} if plan else set(),
        "rollup": selectors.rollup(order) if milestones else None,
        "may_plan": services.may_plan(user, order),
        "may_move": services.may_move(user, order),
        "may_prepare": services.may_add_preparation(user, order),
        "may_schedule": roles.may_transition(user, "schedule", order) and order.state == "reviewed" and plan,
        "error": error,
        "today": timezone.localdate(),
    }
    for task in ctx["preparations"]:
        task.may_ready = services.may_mark_ready(user, task)
    if ctx["may_plan"]:
        ctx["plan_form"] = forms.get("plan") or PlanForm(
            initial={"workshop": workshop.pk if workshop else None, "start_date": plan.start_date if plan else None}
        )
        ctx["milestone_formset"] = forms.get("milestones") or MilestoneFormSet(
            initial=[
                {"name": m.name, "due_date": m.due_date, "responsible": m.responsible_id, "quantity": m.quantity}
                for m in milestones
            ]
        )
    if ctx["may_move"]:
        ctx["move_form"] = forms.get("move") or MoveForm()
    if ctx["may_prepare"]:
        ctx["preparation_form"] = forms.get("preparation") or PreparationForm()
    if ctx["may_schedule"]:
        ctx["schedule_form"] = forms.get("schedule") or ScheduleForm()
    return ctx


@login_required
def plan(request, pk: int):
    """The plan editor of one order (GET), saved by POST."""
    user = request.user
    order = _order(user, pk)
    if not (roles.may(user, "production.workspace", order) or roles.may(user, "plan.manage", order)):
        raise PermissionDenied  # the order is in scope (else 404 above); the role may not
    if request.method != "POST":
        return render(request, "production/plan.html", _plan_context(request, order))
    forms = {"plan": PlanForm(request.POST), "milestones": MilestoneFormSet(request.POST)}

    def call():
        services.create_plan(
            user=user,
            order_id=order.pk,
            workshop=forms["plan"].cleaned_data["workshop"],
            milestones=forms["milestones"].milestones(),
            start_date=forms["plan"].cleaned_data.get("start_date"),
        )
        return _("The production plan was saved.")

    return _write(request, order, forms, call, check=lambda: services.check_plan(user, order))


def _write(request, order, forms: dict, call, *, check, back=None):
    """Run one write of the plan page: rule (403/409), forms (400), service (its status); else redirect."""
    back = back or reverse("production:plan", args=[order.pk])
    try:
        check()
    except ServiceError as exc:
        return _failed(request, order, forms, exc.detail, exc.status)
    if not all([f.is_valid() for f in forms.values()]):
        return _failed(request, order, forms, _("Please correct the errors below; nothing was saved."), 400)
    try:
        message = call()
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        problems = [str(getattr(exc, "detail", ""))]
        for _field, items in (exc.errors or {}).items():
            problems += [str(i.get("message", "") if isinstance(i, dict) else i) for i in items]
        for item in getattr(exc, "unmet", None) or []:
            problems.append(str(item["message"]))
        return _failed(request, order, forms, " ".join(p for p in problems if p), exc.status)
    messages.success(request, message)
    return redirect(back)


def _failed(request, order, forms, detail, status):
    return render(
        request, "production/plan.html", _plan_context(request, order, forms=forms, error=str(detail)), status=status
    )


@login_required
@require_POST
def move(request, pk: int):
    user = request.user
    order = _order(user, pk)
    forms = {"move": MoveForm(request.POST)}

    def call():
        data = forms["move"].cleaned_data
        services.move_to_workshop(user=user, order_id=order.pk, workshop=data["workshop"], reason=data["reason"])
        return _("The order was moved to %(workshop)s.") % {"workshop": data["workshop"].name}

    return _write(request, order, forms, call, check=lambda: services.check_move(user, order))


@login_required
@require_POST
def preparation_add(request, pk: int):
    user = request.user
    order = _order(user, pk)
    forms = {"preparation": PreparationForm(request.POST)}

    def call():
        data = forms["preparation"].cleaned_data
        services.add_preparation(
            user=user,
            order_id=order.pk,
            kind=data["kind"],
            description=data["description"],
            owner=forms["preparation"].owner_user(),
            due_date=data["due_date"],
        )
        return _("The preparation task was added.")

    return _write(request, order, forms, call, check=lambda: services.check_preparation(user, order))


@login_required
@require_POST
def preparation_ready(request, task_id: int):
    user = request.user
    task = (
        PreparationTask.objects.filter(pk=task_id, order__in=selectors.visible_orders(user))
        .select_related("order")
        .first()
    )
    if task is None:
        raise Http404
    back = request.POST.get("next") == "my" and reverse("production:my") or None

    def call():
        services.mark_preparation_ready(user=user, task_id=task.pk)
        return _("The task is ready.")

    return _write(request, task.order, {}, call, check=lambda: services.check_preparation_ready(user, task), back=back)


@login_required
@require_POST
def schedule(request, pk: int):
    """`schedule` from the plan page (through the one transition service), with the acknowledgements."""
    user = request.user
    order = _order(user, pk)
    forms = {"schedule": ScheduleForm(request.POST)}

    def call():
        data = forms["schedule"].cleaned_data
        order_services.run_transition(
            user=user,
            order_id=order.pk,
            name="schedule",
            comment=data["comment"],
            data={"acknowledge_capacity": data["acknowledge_capacity"], "acknowledge_delay": data["acknowledge_delay"]},
        )
        return _("The order is scheduled.")

    return _write(request, order, forms, call, check=lambda: None)


# --- the worker's page -----------------------------------------------------------------------------------
def _my_context(request, *, forms: dict | None = None, error=None) -> dict:
    user = request.user
    forms = forms or {}
    milestones = list(selectors.visible_milestones(user, mine=True, open_only=True).order_by("due_date", "id"))
    done = list(selectors.visible_milestones(user, mine=True).filter(done_at__isnull=False).order_by("-done_at")[:20])
    tasks = list(selectors.visible_preparations(user).filter(owner=user, ready_at__isnull=True))
    for m in milestones:
        m.report_form = forms.get(f"report-{m.pk}") or ReportForm(milestone_id=m.pk)
        m.complete_form = forms.get(f"complete-{m.pk}") or CompleteForm(milestone_id=m.pk)
        m.may_report = m.plan.order.state == "producing"
        m.may_complete = services.may_complete_milestone(user, m)
    for task in tasks:
        task.may_ready = services.may_mark_ready(user, task)
    return {"milestones": milestones, "done": done, "tasks": tasks, "error": error, "today": timezone.localdate()}


MY_COLUMNS = (
    gettext_lazy("Order"),
    gettext_lazy("Milestone"),
    gettext_lazy("Due date"),
    gettext_lazy("Quantity"),
    gettext_lazy("Done"),
)


@login_required
def my(request):
    user = request.user
    _require(user, "production.my")
    if request.GET.get("export") == "csv":
        rows = (
            [m.plan.order.number, m.name, m.due_date, m.quantity, m.done_at and timezone.localtime(m.done_at)]
            for m in selectors.visible_milestones(user, mine=True).order_by("due_date", "id")
        )
        return _csv("my-milestones.csv", MY_COLUMNS, rows)
    return render(request, "production/my.html", _my_context(request))


def _milestone(user, milestone_id) -> Milestone:
    milestone = selectors.visible_milestones(user).filter(pk=milestone_id).first()
    if milestone is None:
        raise Http404
    return milestone


def _my_write(request, forms, call, check):
    try:
        check()
    except ServiceError as exc:
        return render(
            request, "production/my.html", _my_context(request, forms=forms, error=str(exc.detail)), status=exc.status
        )
    if not all([f.is_valid() for f in forms.values()]):
        return render(
            request,
            "production/my.html",
            _my_context(request, forms=forms, error=_("Please correct the errors below; nothing was saved.")),
            status=400,
        )
    try:
        message = call()
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        problems = [str(exc.detail)]
        for _field, items in (exc.errors or {}).items():
            problems += [str(i.get("message", "") if isinstance(i, dict) else i) for i in items]
        return render(
            request,
            "production/my.html",
            _my_context(request, forms=forms, error=" ".join(problems)),
            status=exc.status,
        )
    messages.success(request, message)
    return redirect("production:my")


@login_required
@require_POST
def milestone_complete(request, milestone_id: int):
    user = request.user
    milestone = _milestone(user, milestone_id)
    key = f"complete-{milestone.pk}"
    forms = {key: CompleteForm(request.POST, milestone_id=milestone.pk)}

    def call():
        services.complete_milestone(user=user, milestone_id=milestone.pk, note=forms[key].cleaned_data["note"])
        return _("Milestone “%(name)s” is done.") % {"name": milestone.name}

    return _my_write(request, forms, call, lambda: services.check_complete_milestone(user, milestone))


@login_required
@require_POST
def milestone_report(request, milestone_id: int):
    user = request.user
    milestone = _milestone(user, milestone_id)
    key = f"report-{milestone.pk}"
    forms = {key: ReportForm(request.POST, request.FILES, milestone_id=milestone.pk)}

    def call():
        data = forms[key].cleaned_data
        report = services.report_progress(
            user=user,
            milestone_id=milestone.pk,
            percent_complete=data.get("percent_complete"),
            quantity_done=data.get("quantity_done"),
            note=data.get("note") or "",
            photo=data.get("photo"),
        )
        return _("Progress of %(percent)s%% was reported.") % {"percent": report.percent_complete}

    def check():
        services.check_progress(user, milestone.plan.order)

    return _my_write(request, forms, call, check)
