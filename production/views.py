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
from production.models import ProductionIssue, ProductionPlan


@login_required
@require_POST
def plan_save(request, pk: int):
    def call(order, forms):
        services.create_plan(user=request.user, order_id=order.pk, workshop=forms["plan"].cleaned_data["workshop"],
                             milestones=forms["milestones"].milestones(),
                             start_date=forms["plan"].cleaned_data.get("start_date"))
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
        services.open_issue(user=request.user, order_id=order.pk, kind=data["kind"], description=data["description"],
                            expected_date=data.get("expected_date"), disposition=data.get("disposition") or "",
                            owner=forms["issue"].owner_user())
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
        data = forms[f"issue-{issue.pk}"].cleaned_data
        services.resolve_issue(user=request.user, issue_id=issue.pk, resolution=data["resolution"],
                               disposition=data.get("disposition") or "")
        return _("The issue is resolved.")

    return department_write(
        request, pk, key=f"issue-{issue.pk}",
        check=lambda order: services.check_resolve_issue(request.user, order, issue),
        bind=lambda order: {f"issue-{issue.pk}": IssueResolutionForm(request.POST, auto_id=f"id_issue{issue.pk}_%s")},
        call=call,
    )


@login_required
@require_POST
def handover_save(request, pk: int):
    """R4.3: the assistant hands the approved order over to production (workshop, note on priorities)."""

    def call(order, forms):
        data = forms["handover"].cleaned_data
        services.hand_over(user=request.user, order_id=order.pk, workshop=data["workshop"], note=data["note"])
        return _("The order was handed over to production.")

    return department_write(
        request, pk, key="handover",
        check=lambda order: services.check_handover(request.user, order),
        bind=lambda order: {"handover": HandoverForm(request.POST)},
        call=call,
    )


@login_required
@require_POST
def issue_message(request, pk: int, item: int):
    """The assistant edits (``action=save``) or sends (``action=send``) an issue's message to the customer."""
    issue = ProductionIssue.objects.filter(pk=item, order_id=pk).only("pk", "message_state").first()
    if issue is None:
        raise Http404
    key = f"message-{issue.pk}"
    send = request.POST.get("action") == "send"

    def call(order, forms):
        text = forms[key].cleaned_data["customer_message"]
        if send:
            services.send_customer_message(user=request.user, issue_id=issue.pk, customer_message=text)
            return _("The message was sent to the customer.")
        services.edit_customer_message(user=request.user, issue_id=issue.pk, customer_message=text)
        return _("The draft was saved; it is not sent yet.")

    return department_write(
        request, pk, key=key,
        check=lambda order: services.check_customer_message(request.user, order, issue),
        bind=lambda order: {key: CustomerMessageForm(request.POST, auto_id=f"id_message{issue.pk}_%s")},
        call=call,
    )
