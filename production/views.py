"""Production's forms on the order page (R4.3, R4.4); each posts to its own URL under `/orders/<id>/`
and writes through :mod:`production.services`, after the same rule its panel asks (see
:func:`orders.views.detail.department_write`). Mounted in the `orders` URL namespace by the project's URLconf."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orders.views.detail import department_write
from production import services
from production.forms import IssueForm, IssueResolutionForm, MilestoneFormSet, PlanForm, ProgressForm, ReadinessForm
from production.models import ProductionIssue, ProductionPlan


@login_required
@require_POST
def plan_save(request, pk: int):
    def call(order, forms):
        services.create_plan(user=request.user, order_id=order.pk, workshop=forms["plan"].cleaned_data["workshop"],
                             milestones=forms["milestones"].milestones())
        return _("The production plan was saved.")

    return department_write(
        request, pk, key="plan",
        check=lambda order: services.check_plan(request.user, order),
        bind=lambda order: {"plan": PlanForm(request.POST), "milestones": MilestoneFormSet(request.POST)},
        call=call,
    )


@login_required
@require_POST
def readiness_update(request, pk: int):
    plan = ProductionPlan.objects.filter(order_id=pk).only("pk").first()

    def call(order, forms):
        data = forms["readiness"].cleaned_data
        services.update_readiness(user=request.user, plan_id=plan.pk, materials_ready=data["materials_ready"],
                                  equipment_ready=data["equipment_ready"])
        return _("Readiness was updated.")

    return department_write(
        request, pk, key="readiness",
        check=lambda order: services.check_readiness(request.user, order, planned=plan is not None),
        bind=lambda order: {"readiness": ReadinessForm(request.POST)},
        call=call,
    )


@login_required
@require_POST
def progress_add(request, pk: int):
    def call(order, forms):
        data = forms["progress"].cleaned_data
        services.report_progress(user=request.user, order_id=order.pk, percent_complete=data["percent_complete"],
                                 note=data["note"])
        return _("Progress of %(percent)s%% was reported.") % {"percent": data["percent_complete"]}

    return department_write(
        request, pk, key="progress",
        check=lambda order: services.check_progress(request.user, order),
        bind=lambda order: {"progress": ProgressForm(request.POST)},
        call=call,
    )


@login_required
@require_POST
def issue_add(request, pk: int):
    def call(order, forms):
        data = forms["issue"].cleaned_data
        services.open_issue(user=request.user, order_id=order.pk, kind=data["kind"], description=data["description"])
        return _("The issue was opened; the departments concerned are told.")

    return department_write(
        request, pk, key="issue",
        check=lambda order: services.check_open_issue(request.user, order),
        bind=lambda order: {"issue": IssueForm(request.POST)},
        call=call,
    )


@login_required
@require_POST
def issue_resolve(request, pk: int, item: int):
    issue = ProductionIssue.objects.filter(pk=item, order_id=pk).only("pk", "resolved_at").first()
    if issue is None:
        raise Http404

    def call(order, forms):
        services.resolve_issue(user=request.user, issue_id=issue.pk,
                               resolution=forms[f"issue-{issue.pk}"].cleaned_data["resolution"])
        return _("The issue is resolved.")

    return department_write(
        request, pk, key=f"issue-{issue.pk}",
        check=lambda order: services.check_resolve_issue(request.user, order, issue),
        bind=lambda order: {f"issue-{issue.pk}": IssueResolutionForm(request.POST, auto_id=f"id_issue{issue.pk}_%s")},
        call=call,
    )
