"""Production's panel on the order page (R4.3, R4.4): the plan and its milestones, readiness, the latest
progress, the issues; and the forms to change them, each offered where :mod:`production.services`' rule
for it passes. Registered in :meth:`production.apps.ProductionConfig.ready`."""

from __future__ import annotations

from orderdesk.pages import who
from orders.panels import Panel, has_rows
from production import selectors, services
from production.forms import (
    CustomerMessageForm,
    HandoverForm,
    IssueForm,
    IssueResolutionForm,
    MilestoneFormSet,
    PlanForm,
    ProgressForm,
    ReadinessForm,
)
from production.models import Handover, ProductionPlan


def _reports(order) -> list:
    """The order's progress reports, newest first, read once for the panel and the timeline (kept on the order)."""
    reports = order.__dict__.get("_progress_reports")
    if reports is None:
        reports = order.__dict__["_progress_reports"] = list(
            order.progress_reports.select_related("reported_by").order_by("-reported_at", "-id")
        ) if has_rows(order, "progress_reports") else []
    return reports


def context(*, order, user, forms: dict) -> dict:
    plan, milestones = None, []
    if has_rows(order, "production_plan"):
        try:
            plan = ProductionPlan.objects.select_related("workshop").get(order=order)
            milestones = list(plan.milestones.select_related("responsible"))
        except ProductionPlan.DoesNotExist:
            pass
    reports = _reports(order)[:5]
    issues = list(order.production_issues.select_related("opened_by", "resolved_by", "owner", "message_sent_by")) \
        if has_rows(order, "production_issues") else []
    handover = Handover.objects.select_related("workshop", "assigned_by").filter(order=order).first() \
        if has_rows(order, "production_handover") else None
    ctx: dict = {
        "handover": handover,
        "preparations": list(order.preparation_tasks.select_related("owner"))
        if has_rows(order, "preparation_tasks") else [],
        "rollup": selectors.rollup(order) if milestones else None,
        "may_handover": services.may_handover(user, order),
        "may_send_message": services.may_send_message(user, order),
        "plan": plan,
        "milestones": milestones,
        "latest_report": reports[0] if reports else None,
        "reports": reports,
        "issues": issues,
        "may_plan": services.may_plan(user, order),
        "may_readiness": services.may_set_readiness(user, order, planned=plan is not None),
        "may_report_progress": services.may_report_progress(user, order),
        "may_open_issue": services.may_open_issue(user, order),
        "may_resolve_issue": services.may_resolve_issue(user, order),
    }
    if ctx["may_plan"]:
        ctx["plan_form"] = forms.get("plan") or PlanForm(initial={"workshop": plan.workshop_id if plan else
                                                                  order.workshop_id})
        ctx["milestone_formset"] = forms.get("milestones") or MilestoneFormSet(initial=[
            {"name": m.name, "due_date": m.due_date, "responsible": m.responsible_id} for m in milestones
        ])
    if ctx["may_readiness"]:
        ctx["readiness_form"] = forms.get("readiness") or ReadinessForm(
            initial={"materials_ready": plan.materials_ready, "equipment_ready": plan.equipment_ready})
    if ctx["may_report_progress"]:
        ctx["progress_form"] = forms.get("progress") or ProgressForm()
    if ctx["may_open_issue"]:
        ctx["issue_form"] = forms.get("issue") or IssueForm()
    if ctx["may_handover"]:
        ctx["handover_form"] = forms.get("handover") or HandoverForm(initial={
            "workshop": handover.workshop_id if handover else order.workshop_id, "note": handover.note if handover else ""})
    for issue in issues:
        issue.message_form = (
            forms.get(f"message-{issue.pk}") or CustomerMessageForm(
                initial={"customer_message": issue.customer_message}, auto_id=f"id_message{issue.pk}_%s")
            if ctx["may_send_message"] and issue.message_state == "draft" else None
        )
        issue.resolution_form = (
            forms.get(f"issue-{issue.pk}") or IssueResolutionForm(auto_id=f"id_issue{issue.pk}_%s")
            if ctx["may_resolve_issue"] and issue.is_open else None
        )
    return ctx


def timeline(*, order, user):
    """The progress reports, for the order's timeline (oldest first, as the timeline sorts them)."""
    for report in reversed(_reports(order)):
        yield {"kind": "progress", "template": "production/_timeline_progress.html", "at": report.reported_at,
               "who": who(report.reported_by), "percent": report.percent_complete, "note": report.note,
               "key": (report.reported_at, 2, report.pk)}


PANEL = Panel(key="production", template="production/_panel.html", context=context, position=10,
              timeline=timeline,
              reads=("production_plan", "progress_reports", "production_issues", "production_handover",
                     "preparation_tasks"))
