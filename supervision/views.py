"""The managers' pages (R3.1, R4.2, R6.1, R6.3): review desk, joint-review queues, team dashboard, KPIs
and periodic checks. Reads through :mod:`supervision.selectors`, writes through services only; an order
outside the caller's scope is a 404."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied, ValidationError

from orderdesk import exports, roles
from orderdesk.errors import ConditionsUnmet, Conflict, Forbidden, NotFound, ServiceError
from orders import lifecycle, selectors as order_selectors, services as order_services
from orders.models import Order, Signoff, State
from supervision import forms, services
from supervision.api.views import kpi_arguments
from supervision.models import CheckItem
from supervision.selectors import (
    audit as audit_reads,
    checks as check_reads,
    kpis as kpi_reads,
    review as review_reads,
    team as team_reads,
)

# The transitions the desk offers, with their forms and messages: the lifecycle registry's `desk` entries.
REVIEW_ACTIONS = tuple(lifecycle.desk_actions())


User = get_user_model()

def _require(user, action: str) -> None:
    if not roles.may(user, action):
        raise PermissionDenied


def _errors(exc: ServiceError) -> list[str]:
    if isinstance(exc, ConditionsUnmet):
        return [u["message"] for u in exc.unmet]
    problems = [str(m) for msgs in exc.errors.values() for m in (msgs if isinstance(msgs, list) else [msgs])]
    return problems or [str(exc.detail)]


# --- review queue ------------------------------------------------------------------------
@login_required
def review_queue(request):
    _require(request.user, "team.view")
    rows, page = review_reads.review_queue_page(user=request.user, page=request.GET.get("page"))
    return render(request, "supervision/review_queue.html", {
        "rows": rows, "total": page.paginator.count, "page": page, "may_approve": roles.may(request.user, "review.desk"),
        "clean_count": sum(1 for r in rows if r["clean"]),
    })


@login_required
@require_POST
def bulk_approve(request):
    _require(request.user, "review.desk")
    try:
        report = services.bulk_approve(user=request.user, order_ids=request.POST.getlist("orders"))
    except ServiceError as exc:
        for problem in _errors(exc):
            messages.error(request, problem)
        return redirect("supervision:review_queue")
    numbers = dict(order_selectors.visible_orders(request.user).filter(
        pk__in=[r["order"] for r in report]).values_list("pk", "number"))
    for row in report:
        label = numbers.get(row["order"], f"#{row['order']}")
        if row["ok"]:
            messages.success(request, _("%(number)s: approved.") % {"number": label})
        else:
            messages.error(request, _("%(number)s: not approved — %(why)s") % {"number": label, "why": row["detail"]})
    return redirect("supervision:review_queue")


# --- review page of an order ----------------------------------------------------------------
def _review_order(user, pk):
    _require(user, "review.view")
    try:
        return order_selectors.get_visible_order(user, pk)
    except NotFound:
        raise Http404 from None


def _review_context(request, order, *, forms_in=None, problems=None, failed=None):
    user = request.user
    feasibility = review_reads.feasibility(order)
    visibility = roles.page_visibility(user)  # the one field table (DESIGN §5)
    sees_prices = visibility["sees_prices"]
    department = review_reads.signoff_department(user) if roles.may(user, "signoff", order) else None
    status = order_selectors.joint_review_status(order)
    signoffs = list(order.signoffs.filter(review_round=order.review_round).select_related("user"))
    waiting = order.state == State.RECEIVED and order.submitted_at is not None
    actions = {
        name: order.state in lifecycle.sources(name) and (waiting or not desk.after_submission)
        for name, desk in lifecycle.desk_actions().items()
    }
    may_act = {name: actions[name] and roles.may_transition(user, name, order) and not roles.is_read_only(user)
               for name in REVIEW_ACTIONS}
    forms_in = forms_in or {}
    credit = review_reads.credit_position(order) if visibility["sees_credit"] else None
    return {
        **visibility,
        "order": order,
        "lines": list(order.lines.all()),
        "sees_prices": sees_prices,
        "credit": credit,
        "payments": review_reads.payment_record(order.customer) if visibility["sees"]["invoices"] else None,
        "feasibility": feasibility,
        "joint": order.requires_joint_review,
        "joint_status": [(d.label, status.get(d.value)) for d in Signoff.Department],
        "signoffs": signoffs,
        "department": department,
        "my_signoff": status.get(department) if department else None,
        "may_signoff": bool(department) and waiting and order.requires_joint_review,
        "self_created": order.created_by_id == user.pk,
        "may": may_act,
        # one form per desk action (approve_form, return_form, cancel_form); the desk suggests
        # the capable-to-promise date (a form without that field ignores it)
        **{
            f"{name}_form": forms_in.get(name) or lifecycle.resolve(desk.form)(
                initial={"promised_delivery_date": feasibility["suggested_date"], "override_credit": False},
                auto_id=f"id_{name}_%s")
            for name, desk in lifecycle.desk_actions().items()
        },
        "signoff_form": forms_in.get("signoff") or forms.SignoffForm(auto_id="id_signoff_%s"),
        "problems": problems or [],
        "failed": failed,
    }


@login_required
def review_detail(request, pk: int):
    order = _review_order(request.user, pk)
    return render(request, "supervision/review_detail.html", _review_context(request, order))


@login_required
@require_POST
def review_action(request, pk: int, name: str):
    if name not in REVIEW_ACTIONS:
        raise Http404
    order = _review_order(request.user, pk)
    desk = lifecycle.desk_actions()[name]
    form_class = lifecycle.resolve(desk.form)
    form = form_class(request.POST, auto_id=f"id_{name}_%s")
    if not form.is_valid():
        problems = [str(m) for msgs in form.errors.values() for m in msgs]
        context = _review_context(request, order, forms_in={name: form}, problems=problems, failed=name)
        return render(request, "supervision/review_detail.html", context, status=400)
    data = {k: v for k, v in form.cleaned_data.items() if k != "comment" and v not in (None, "")}
    try:
        order = order_services.run_transition(user=request.user, order_id=order.pk, name=name,
                                              comment=form.cleaned_data.get("comment", ""), data=data)
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        return render(request, "403.html", {"exception": str(exc.detail)}, status=403)
    except ServiceError as exc:
        order = _review_order(request.user, pk)
        context = _review_context(request, order, forms_in={name: form}, problems=_errors(exc), failed=name)
        return render(request, "supervision/review_detail.html", context,
                      status=409 if isinstance(exc, Conflict) else 400)
    messages.success(request, str(desk.done) % {"number": order.number})
    return redirect("supervision:review_queue")


@login_required
@require_POST
def signoff(request, pk: int):
    order = _review_order(request.user, pk)
    form = forms.SignoffForm(request.POST, auto_id="id_signoff_%s")
    if not form.is_valid():
        context = _review_context(request, order, forms_in={"signoff": form},
                                  problems=[str(m) for msgs in form.errors.values() for m in msgs], failed="signoff")
        return render(request, "supervision/review_detail.html", context, status=400)
    try:
        order_services.record_signoff(user=request.user, order_id=order.pk, decision=form.cleaned_data["decision"],
                                      comment=form.cleaned_data["comment"])
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        return render(request, "403.html", {"exception": str(exc.detail)}, status=403)
    except ServiceError as exc:
        context = _review_context(request, order, forms_in={"signoff": form}, problems=_errors(exc),
                                  failed="signoff")
        return render(request, "supervision/review_detail.html", context,
                      status=409 if isinstance(exc, Conflict) else 400)
    messages.success(request, _("Your sign-off on %(number)s is recorded.") % {"number": order.number})
    return redirect("supervision:signoff_queue")


@login_required
def signoff_queue(request):
    department = review_reads.signoff_department(request.user)
    if department is None or not roles.may(request.user, "signoff"):
        raise PermissionDenied
    orders = list(review_reads.signoff_queue(user=request.user, department=department)[:200])
    return render(request, "supervision/signoff_queue.html", {
        "orders": orders,
        "department": Signoff.Department(department).label,
        "pending": [o for o in orders if o.my_decision is None],
        "done": [o for o in orders if o.my_decision is not None],
        "sees_prices": roles.sees_prices(request.user),
    })


# --- team dashboard -------------------------------------------------------------------------
def bar_chart(points: list[dict], keys: list[str], *, label_key: str, height: int = 180, width: int = 760) -> dict:
    """Coordinates of a grouped bar chart drawn as inline SVG (nothing external loads).

    The groups share the chart's width (at least 36 px each, so many weeks scroll
    rather than overlap); each group's label and values are centred on it.
    """
    left, top = 36, 18  # room for the scale on the left and the value labels above the bars
    peak = max((p[k] or 0 for p in points for k in keys), default=0) or 1
    group = max(36, (width - left) // max(len(points), 1))
    bar = max(6, min(28, int(group * 0.7) // len(keys)))
    plot = height - top
    groups = []
    for i, p in enumerate(points):
        x0 = left + i * group + (group - bar * len(keys)) // 2
        bars = []
        for j, k in enumerate(keys):
            value = p[k] or 0
            h = round(value / peak * plot)
            bars.append({"key": k, "value": value, "x": x0 + j * bar, "y": height - h, "h": h,
                         "cx": x0 + j * bar + bar // 2, "missing": p[k] is None})
        # a period with nothing to measure (every value None, e.g. a month without due orders) says so
        empty = all(p[k] is None for k in keys)
        groups.append({"label": p[label_key], "x": left + i * group + group // 2, "bars": bars, "empty": empty})
    return {"groups": groups, "width": max(width, left + len(points) * group), "height": height, "peak": peak,
            "bar": bar - 2, "left": left, "mid": height - plot // 2, "half": round(peak / 2, 1)}


@login_required
def team(request):
    _require(request.user, "team.view")
    data = team_reads.team_dashboard()
    chart = bar_chart([{**c, "week": c["week"].strftime("%m-%d")} for c in data["chart"]],
                      ["created", "approved"], label_key="week")
    legend = [("created", _("created")), ("approved", _("approved"))]
    return render(request, "supervision/team.html", {**data, "chart_svg": chart, "legend": legend})


# --- KPIs -------------------------------------------------------------------------------------
def _kpis_for(request):
    try:
        args = kpi_arguments(request.user, request.GET)
    except ApiPermissionDenied:
        raise PermissionDenied from None
    except ValidationError as exc:
        return None, exc.detail
    return kpi_reads.kpis(**args), None


def _pct(value):
    return None if value is None else round(value * 100, 1)


def _periods(start: str, end: str, unit: str, measured: dict) -> list[str]:
    """Every month (or week) of the period, those without data included, so the chart can say "no data"
    for them instead of leaving a silent gap."""
    first, last = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
    if unit == "month":
        current = first.replace(day=1)
    else:
        current = first - datetime.timedelta(days=first.weekday())
    periods = []
    while current <= last and len(periods) < 600:
        periods.append(current.isoformat())
        if unit == "month":
            current = (current.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        else:
            current += datetime.timedelta(days=7)
    # a bucket the selector reports that the walk missed (another week convention) still shows
    return sorted(set(periods) | set(measured))


@login_required
def kpi_page(request):
    _require(request.user, "kpi.view")
    data, errors = _kpis_for(request)
    form = forms.KpiFilterForm(request.GET or None)
    if not roles.may(request.user, "kpi.view_all"):
        form.fields.pop("assistant")
    if errors:
        # each problem under the field's label, never its code name
        labels = {name: str(field.label) for name, field in forms.KpiFilterForm.base_fields.items()}
        problems = [_("%(field)s: %(error)s") % {"field": labels.get(k, k), "error": m} if k in labels else str(m)
                    for k, msgs in errors.items() for m in (msgs if isinstance(msgs, list) else [msgs])]
        return render(request, "supervision/kpis.html", {"form": form, "problems": problems}, status=400)
    measured = {p["period"]: p for p in data["series"]}
    points = [{"period": period[:7] if data["series_unit"] == "month" else period[5:],
               "accuracy": _pct(measured.get(period, {}).get("accuracy_rate")),
               "on_time": _pct(measured.get(period, {}).get("on_time_delivery_rate"))}
              for period in _periods(data["start"], data["end"], data["series_unit"], measured)]
    return render(request, "supervision/kpis.html", {
        "form": form, "kpi": data, "definitions": kpi_reads.KPI_DEFINITIONS,
        "chart_svg": bar_chart(points, ["accuracy", "on_time"], label_key="period") if points else None,
        "pct": {k: _pct(data[k]) for k in ("accuracy_rate", "on_time_delivery_rate", "on_time_in_full_rate",
                                           "survey_response_rate")},
        "rows": [{**r, "pct_accuracy": _pct(r["accuracy_rate"]), "pct_on_time": _pct(r["on_time_delivery_rate"]),
                  "pct_otif": _pct(r["on_time_in_full_rate"])} for r in data["by_assistant"]],
        "export_query": request.GET.urlencode(),
        "legend": [("accuracy", _("Accuracy rate")), ("on_time", _("On-time delivery rate"))],
    })


CSV_COLUMNS = ["accuracy_rate", "on_time_delivery_rate", "on_time_in_full_rate", "satisfaction",
               "survey_response_rate", "complaint_count", "review_turnaround_hours", "recorded_loss", "errors_found",
               "survey_satisfaction", "followup_satisfaction", "complaints_resolved", "complaint_handling_hours",
               "loss_incidents", "dso_days", "overdue_amount"]
CSV_COUNTS = ["orders_submitted", "orders_decided", "orders_accurate", "orders_returned", "orders_corrected",
              "orders_due", "orders_on_time", "orders_on_time_in_full", "orders_approved"]


@login_required
def kpi_export(request):
    _require(request.user, "kpi.view")
    data, errors = _kpis_for(request)
    if errors:
        return HttpResponse(_("Invalid period or assistant."), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kpis_{data["start"]}_{data["end"]}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM
    writer = exports.CsvRowWriter(response)  # usernames are user text: formula-leading cells neutralised
    writer.writerow(["scope", "start", "end", *CSV_COLUMNS, *CSV_COUNTS])

    def line(scope, row):
        values = ["" if row[c] is None else row[c] for c in CSV_COLUMNS]
        writer.writerow([scope, data["start"], data["end"], *values, *[row["counts"][c] for c in CSV_COUNTS]])

    if data["assistant"] is None:
        line(_("team"), data)
    for row in data["by_assistant"]:
        line(row["username"], row)
    return response


# --- periodic checks (R6.1) --------------------------------------------------------------------
@login_required
def checks(request):
    _require(request.user, "check.view")
    may_manage = roles.may(request.user, "check.manage")
    form = forms.PeriodicCheckForm(request.POST or None, initial={
        "period_end": timezone.localdate(), "period_start": timezone.localdate() - timezone.timedelta(days=30)})
    status = 200
    if request.method == "POST":
        _require(request.user, "check.manage")
        if form.is_valid():
            try:
                check = services.create_periodic_check(
                    user=request.user, assistant_id=form.cleaned_data["assistant"].pk,
                    period_start=form.cleaned_data["period_start"], period_end=form.cleaned_data["period_end"],
                    sample_size=form.cleaned_data["sample_size"], seed=form.cleaned_data["seed"],
                )
            except ServiceError as exc:
                for problem in _errors(exc):
                    form.add_error(None, problem)
            else:
                messages.success(request, _("The sample is drawn: verify each order."))
                return redirect("supervision:check_detail", pk=check.pk)
        status = 400
    return render(request, "supervision/checks.html", {
        "checks": list(check_reads.periodic_checks()[:100]), "form": form, "may_manage": may_manage,
    }, status=status)


@login_required
def check_detail(request, pk: int):
    _require(request.user, "check.view")
    try:
        check = check_reads.get_check(pk)
    except NotFound:
        raise Http404 from None
    return render(request, "supervision/check_detail.html", {
        "check": check, "items": list(check_reads.check_items(check)),
        "may_manage": roles.may(request.user, "check.manage"),
        "outcome_form": forms.CheckOutcomeForm(auto_id=False), "Outcome": CheckItem.Outcome,
    })


@login_required
@require_POST
def check_outcome(request, pk: int, item_id: int):
    _require(request.user, "check.manage")
    form = forms.CheckOutcomeForm(request.POST)
    if not form.is_valid():
        for msgs in form.errors.values():
            for m in msgs:
                messages.error(request, m)
    else:
        try:
            services.record_check_outcome(
                user=request.user, item_id=item_id, outcome=form.cleaned_data["outcome"],
                error_description=form.cleaned_data["error_description"],
                loss_amount=form.cleaned_data["loss_amount"],
            )
        except NotFound:
            raise Http404 from None
        except ServiceError as exc:
            for problem in _errors(exc):
                messages.error(request, problem)
        else:
            messages.success(request, _("The outcome is recorded."))
    return redirect(reverse("supervision:check_detail", args=[pk]))


# --- internal audit (R6.1) ----------------------------------------------------------------------------
@login_required
@require_safe
def audit(request):
    """The audit trail as a page: every transition and field change, filtered, paginated, as CSV on demand."""
    _require(request.user, "audit.view")
    form = forms.AuditFilterForm(request.GET or None)
    rows = None
    if form.is_valid():
        data = form.cleaned_data
        order_id = None
        if data["order"]:
            order_id = Order.objects.filter(number=data["order"].strip()).values_list("pk", flat=True).first() or 0
        rows = audit_reads.audit_trail(order_id=order_id, user_id=data["user"].pk if data["user"] else None,
                                       start=data["start"], end=data["end"], kind=data.get("kind") or None)
    elif not form.is_bound:
        rows = audit_reads.audit_trail()
    if rows is not None and request.GET.get("format") == "csv":
        return _audit_csv(rows, request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page")) if rows is not None else None
    entries = []
    if page is not None:
        numbers = dict(Order.objects.filter(pk__in={r[1] for r in page}).values_list("pk", "number"))
        people = {u.pk: u for u in User.objects.filter(pk__in={r[2] for r in page if r[2]})}
        entries = [
            _audit_entry(request.user, numbers, people, *row) for row in page
        ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "supervision/audit.html", {
        "form": form, "page": page, "entries": entries, "query": query.urlencode(),
    }, status=200 if form.is_valid() or not form.is_bound else 400)


def _audit_entry(user, numbers, people, kind, order_id, user_id, at, name, before, after, note, address) -> dict:
    from orderdesk.audit import KINDS

    before, after, note = roles.audit_values_for(user, kind, name, before, after, note)
    return {"kind": kind, "kind_label": KINDS.get(kind, kind), "order_id": order_id, "number": numbers.get(order_id),
            "user": people.get(user_id), "at": at, "code": name, **_audit_labels(kind, name, before, after),
            "note": note, "address": address}


def _audit_labels(kind: str, name: str, before: str, after: str) -> dict:
    """What a person reads for a trail row: transition and state labels, a field's verbose name."""
    from orders import lifecycle

    if kind == "transition":
        labels = dict(State.choices)
        return {"name": lifecycle.label(name), "before": labels.get(before, before),
                "after": labels.get(after, after)}
    if kind != "change":
        return {"name": name, "before": before, "after": after}
    if name == "lines":  # `lines` is the reverse relation (no verbose_name): the edit of an order's lines
        return {"name": _("lines"), "before": before, "after": after}
    if name == "reassignment_reason":  # recorded with a reassignment (orders.services.reassign_order)
        return {"name": _("reason for the reassignment"), "before": before, "after": after}
    try:
        label = getattr(Order._meta.get_field(name), "verbose_name", name)
    except FieldDoesNotExist:
        label = name
    return {"name": label, "before": before, "after": after}


def _audit_csv(rows, user):
    """Stream the trail as CSV, naming orders and users batch by batch (never the whole table in memory)."""

    writer = exports.CsvRowWriter()  # returns each line; formula-leading cells neutralised

    def lines():
        yield writer.writerow(["at", "kind", "order", "user", "transition_or_field", "from", "to", "comment",
                               "address"])
        batch = []
        for row in rows.iterator(chunk_size=2000):
            batch.append(row)
            if len(batch) == 2000:
                yield from named(batch)
                batch = []
        yield from named(batch)

    def named(batch):
        numbers = dict(Order.objects.filter(pk__in={r[1] for r in batch}).values_list("pk", "number"))
        names = dict(User.objects.filter(pk__in={r[2] for r in batch if r[2]}).values_list("pk", "username"))
        for kind, order_id, user_id, at, name, before, after, note, address in batch:
            before, after, note = roles.audit_values_for(user, kind, name, before, after, note)
            yield writer.writerow([timezone.localtime(at).isoformat(), kind, numbers.get(order_id, order_id) or "",
                                   names.get(user_id, ""), name, before, after, note, address or ""])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="orderdesk-audit.csv"'
    return response


# --- customer feedback (R6.2) ----------------------------------------------------------------------
@login_required
def complaints(request):
    """Complaints and suggestions across the team, open first; each is handled on its order's page."""
    from django.db.models import F

    from feedback.models import Complaint
    from feedback.selectors import visible_complaints

    _require(request.user, "complaint.view_all")
    status = request.GET.get("status", "")
    rows = visible_complaints(request.user).select_related("order__customer", "order__assistant")
    if status in Complaint.Status.values:
        rows = rows.filter(status=status)
    rows = rows.order_by(F("resolved_at").asc(nulls_first=True), "-created_at", "-id")  # unresolved first
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "supervision/complaints.html", {
        "page": page, "status": status, "statuses": Complaint.Status.choices,
    })


# --- the violation report (R6.1) ----------------------------------------------------------------------
@login_required
@require_safe
def violations(request):
    """The process rules broken, each rule explained; filtered by period and rule; CSV on demand."""
    from supervision.selectors import violations as violation_reads

    _require(request.user, "audit.view")
    form = forms.ViolationFilterForm(request.GET or None)
    rows = []
    if form.is_valid() or not form.is_bound:
        data = form.cleaned_data if form.is_bound else {}
        rows = violation_reads.violations(start=data.get("start"), end=data.get("end"),
                                          rule=data.get("rule") or None, viewer=request.user)
    people = {u.pk: u for u in User.objects.filter(pk__in={r["user"] for r in rows if r["user"]})}
    if request.GET.get("format") == "csv" and (form.is_valid() or not form.is_bound):
        def csv_rows():
            for r in rows:
                who = people.get(r["user"])
                yield [r["rule"], r["number"], who.get_username() if who else "",
                       violation_reads.as_datetime(r["at"]).isoformat(), r["detail"]]

        response = StreamingHttpResponse(exports.csv_stream(["rule", "order", "user", "at", "detail"], csv_rows()),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="orderdesk-violations.csv"'
        return response
    counts = {name: 0 for name in violation_reads.RULES}
    for r in rows:
        counts[r["rule"]] += 1
        r["person"] = people.get(r["user"])
        r["title"] = violation_reads.RULES[r["rule"]][0]
    rules = [{"code": code, "title": title, "explanation": text, "count": counts[code]}
             for code, (title, text) in violation_reads.RULES.items()]
    query = request.GET.copy()
    query.pop("format", None)
    return render(request, "supervision/violations.html", {
        "form": form, "rows": rows, "rules": rules, "query": query.urlencode(),
    }, status=400 if form.is_bound and not form.is_valid() else 200)


# --- accountability (R6.3): loss incidents ----------------------------------------------------------
@login_required
def losses(request):
    """Loss incidents: list (CSV), report one, and (sales manager) confirm or dismiss it."""
    from supervision.models import LossIncident
    from supervision.selectors.losses import visible_losses

    user = request.user
    if not (roles.may(user, "loss.view") or roles.may(user, "loss.report")):
        raise PermissionDenied
    form, status_code = None, 200
    if request.method == "POST":
        if not roles.may(user, "loss.report"):
            raise PermissionDenied
        form = forms.LossForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            order_id = Order.objects.filter(number=data["order"].strip()).values_list("pk", flat=True).first()
            try:
                services.report_loss(user=user, order_id=order_id or 0, cause=data["cause"], amount=data["amount"],
                                     responsible_id=data["responsible"].pk,
                                     corrective_action=data["corrective_action"])
            except NotFound:
                form.add_error("order", _("No order you can see has this number."))
            except Forbidden:
                raise PermissionDenied from None
            except ServiceError as exc:
                for field, problems in (exc.errors or {}).items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, str(problem))
            else:
                messages.success(request, _("The loss was recorded; a sales manager confirms or dismisses it."))
                return redirect(reverse("supervision:losses"))
        status_code = 400
    rows = visible_losses(user)
    status_filter = request.GET.get("status", "")
    if status_filter in LossIncident.Status.values:
        rows = rows.filter(status=status_filter)
    sees_prices = roles.sees_prices(user)
    if request.GET.get("format") == "csv":
        def csv_rows():
            for loss in rows.iterator(chunk_size=1000):
                yield [loss.reported_at.isoformat(), loss.order.number, loss.cause,
                       str(loss.amount) if sees_prices else "", loss.responsible.get_username(),
                       loss.corrective_action, loss.status, loss.decided_by.get_username() if loss.decided_by else "",
                       loss.decision_note]

        header = ["reported_at", "order", "cause", "amount", "responsible", "corrective_action", "status",
                  "decided_by", "decision_note"]
        response = StreamingHttpResponse(exports.csv_stream(header, csv_rows()), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="orderdesk-losses.csv"'
        return response
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "supervision/losses.html", {
        "page": page, "form": form or (forms.LossForm() if roles.may(user, "loss.report") else None),
        "may_decide": roles.may(user, "loss.decide"), "decision_form": forms.LossDecisionForm(),
        "statuses": LossIncident.Status.choices, "status": status_filter, "sees_prices": sees_prices,
    }, status=status_code)


@login_required
@require_POST
def loss_decide(request, pk: int):
    form = forms.LossDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose confirm or dismiss."))
        return redirect(reverse("supervision:losses"))
    try:
        services.decide_loss(user=request.user, loss_id=pk, decision=form.cleaned_data["decision"],
                             note=form.cleaned_data["note"])
    except NotFound:
        raise Http404 from None
    except Forbidden:
        raise PermissionDenied from None
    except ServiceError as exc:
        messages.error(request, "; ".join(_errors(exc)))
        return redirect(reverse("supervision:losses"))
    messages.success(request, _("The decision is recorded."))
    return redirect(reverse("supervision:losses"))
