"""Writes of production (R3.3, R4.3, R4.4): plans, readiness, progress, issues."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderdesk import audit, roles
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orderdesk.rules import allows
from orders.models import State
from orders.selectors import lock_visible_order
from orders.services import record_changes
from production.models import Milestone, ProductionIssue, ProductionPlan, ProgressReport, Workshop

User = get_user_model()

PLAN_EDITABLE_STATES = (State.REVIEWED,)
READINESS_STATES = (State.REVIEWED, State.SCHEDULED)
ISSUE_STATES = (State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED)


# --- the rules: who may, and when (each service and the order page's panel ask the same check) -----------
def check_plan(user, order) -> None:
    """Make or replace the plan (R4.3): a production supervisor, while the order is reviewed."""
    if not roles.may(user, "plan.manage", order):
        raise Forbidden()
    if order.state not in PLAN_EDITABLE_STATES:
        raise Conflict(_("A plan is made while the order is reviewed."), code="invalid_state")


def check_readiness(user, order, *, planned: bool = True) -> None:
    """Set materials and equipment ready: whoever plans, once there is a plan, before production starts."""
    if not roles.may(user, "plan.manage", order):
        raise Forbidden()
    if not planned:
        raise Conflict(_("Readiness is set for a planned order before production starts."), code="invalid_state")
    if order.state not in READINESS_STATES:
        raise Conflict(_("Readiness is set before production starts."), code="invalid_state")


def check_progress(user, order) -> None:
    """Report progress (R4.4): production staff, while the order is producing."""
    if not roles.may(user, "progress.report", order):
        raise Forbidden()
    if order.state != State.PRODUCING:
        raise Conflict(_("Progress is reported while the order is producing."), code="invalid_state")


def check_open_issue(user, order) -> None:
    """Open a delay or quality issue (R4.4): between approval and acceptance."""
    if not roles.may(user, "issue.open", order):
        raise Forbidden()
    if order.state not in ISSUE_STATES:
        raise Conflict(_("Issues are raised between approval and acceptance."), code="invalid_state")


def check_resolve_issue(user, order, issue=None) -> None:
    """Resolve an issue: a production supervisor, once (``issue`` None: may the caller resolve issues here)."""
    if not roles.may(user, "issue.resolve", order):
        raise Forbidden()
    if issue is not None and issue.resolved_at is not None:
        raise Conflict(_("The issue is already resolved."))


may_plan = allows(check_plan)
may_set_readiness = allows(check_readiness)
may_report_progress = allows(check_progress)
may_open_issue = allows(check_open_issue)
may_resolve_issue = allows(check_resolve_issue)


@transaction.atomic
def create_plan(*, user, order_id, workshop: Workshop, milestones: list[dict]) -> ProductionPlan:
    """Plan an approved order (R4.3): assigns the workshop; milestones need due date and responsible.

    Planning again while the order is still `reviewed` replaces the plan.
    """
    order = lock_visible_order(user, order_id)
    check_plan(user, order)
    if not workshop.is_active:
        raise InvalidInput(errors={"workshop": [_("The workshop is not active.")]})
    errors = []
    if not milestones:
        errors.append(_("A plan needs at least one milestone."))
    for i, m in enumerate(milestones):
        if not str(m.get("name", "")).strip():
            errors.append(_("Milestone %(n)s: the name is required.") % {"n": i + 1})
        if not isinstance(m.get("due_date"), datetime.date):
            errors.append(_("Milestone %(n)s: the due date is required.") % {"n": i + 1})
        elif m["due_date"] < timezone.localdate():
            errors.append(_("Milestone %(n)s: the due date may not be in the past.") % {"n": i + 1})
        if m.get("responsible") is None:
            errors.append(_("Milestone %(n)s: a responsible person is required.") % {"n": i + 1})
        elif not m["responsible"].is_active:
            errors.append(_("Milestone %(n)s: the responsible person is not active.") % {"n": i + 1})
    if errors:
        raise InvalidInput(_("The plan has invalid values."), errors={"milestones": errors})
    ProductionPlan.objects.filter(order=order).delete()
    plan = ProductionPlan.objects.create(order=order, workshop=workshop, created_by=user)
    Milestone.objects.bulk_create(
        [Milestone(plan=plan, name=m["name"].strip(), due_date=m["due_date"], responsible=m["responsible"])
         for m in milestones]
    )
    if order.workshop_id != workshop.pk:
        record_changes(order=order, user=user, changes={"workshop": (order.workshop, workshop)})
        order.workshop = workshop
        order.save(update_fields=["workshop", "updated_at"])
    return plan


def _lock_plan(user, plan_id) -> ProductionPlan:
    try:
        plan = ProductionPlan.objects.get(pk=plan_id)
    except (ProductionPlan.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    lock_visible_order(user, plan.order_id)
    return ProductionPlan.objects.select_for_update().select_related("order").get(pk=plan.pk)


@transaction.atomic
def update_readiness(*, user, plan_id, materials_ready: bool | None = None,
                     equipment_ready: bool | None = None) -> ProductionPlan:
    plan = _lock_plan(user, plan_id)
    check_readiness(user, plan.order)
    fields = []
    if materials_ready is not None:
        plan.materials_ready = materials_ready
        fields.append("materials_ready")
    if equipment_ready is not None:
        plan.equipment_ready = equipment_ready
        fields.append("equipment_ready")
    if fields:
        plan.save(update_fields=[*fields, "updated_at"])
    return plan


@transaction.atomic
def report_progress(*, user, order_id, percent_complete: int, note: str = "") -> ProgressReport:
    """A progress report (R4.4); production is complete at 100."""
    order = lock_visible_order(user, order_id)
    check_progress(user, order)
    if not isinstance(percent_complete, int) or not 0 <= percent_complete <= 100:
        raise InvalidInput(errors={"percent_complete": [_("Give a whole number from 0 to 100.")]})
    report = ProgressReport.objects.create(
        order=order, percent_complete=percent_complete, note=note.strip(), reported_by=user
    )
    audit.record(kind="progress", user=user, order=order, obj=report, name="report", after=percent_complete,
                 note=report.note)
    from notifications import events

    events.progress_reported(report=report)  # the assistant; logistics when complete (the outbox)
    return report


@transaction.atomic
def open_issue(*, user, order_id, kind: str, description: str) -> ProductionIssue:
    """An exception in execution (R4.4): a delay or a quality problem."""
    order = lock_visible_order(user, order_id)
    check_open_issue(user, order)
    if kind not in ProductionIssue.Kind.values:
        raise InvalidInput(errors={"kind": [_("Choose delay or quality.")]})
    if not description.strip():
        raise InvalidInput(errors={"description": [_("This field is required.")]})
    issue = ProductionIssue.objects.create(order=order, kind=kind, description=description.strip(), opened_by=user)
    audit.record(kind="issue", user=user, order=order, obj=issue, name="open", after=kind, note=issue.description)
    from notifications import events

    events.issue_opened(issue=issue)  # in this transaction (the outbox); sending is queued after commit
    return issue


def open_rework_issue(*, order, user, comment: str) -> ProductionIssue:
    """`reject_delivery`'s after-effect (lifecycle registry): the rejection reason becomes a quality issue.

    Runs inside :func:`orders.services.run_transition`'s transaction, the order already locked.
    """
    return ProductionIssue.objects.create(
        order=order, kind=ProductionIssue.Kind.QUALITY, description=comment, opened_by=user
    )


@transaction.atomic
def resolve_issue(*, user, issue_id, resolution: str) -> ProductionIssue:
    try:
        issue = ProductionIssue.objects.get(pk=issue_id)
    except (ProductionIssue.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    order = lock_visible_order(user, issue.order_id)
    check_resolve_issue(user, order)
    if not resolution.strip():
        raise InvalidInput(errors={"resolution": [_("This field is required.")]})
    issue = ProductionIssue.objects.select_for_update().get(pk=issue.pk)
    check_resolve_issue(user, order, issue)  # again on the locked row: a parallel resolve won
    issue.resolution = resolution.strip()
    issue.resolved_by = user
    issue.resolved_at = timezone.now()
    issue.save(update_fields=["resolution", "resolved_by", "resolved_at"])
    audit.record(kind="issue", user=user, order=order, obj=issue, name="resolve", note=issue.resolution)
    return issue
