"""Writes of production (R3.3, R4.3, R4.4): the hand-over, plans, milestones, preparation, readiness,
progress, issues and their customer messages."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orderdesk import audit, roles
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orderdesk.rules import allows
from orders.models import State
from orders.selectors import lock_visible_order
from orders.services import record_changes
from production import selectors
from production.models import (
    Handover,
    Milestone,
    PreparationTask,
    ProductionIssue,
    ProductionPlan,
    ProgressReport,
    Workshop,
)

User = get_user_model()

PLAN_EDITABLE_STATES = (State.REVIEWED,)
READINESS_STATES = (State.REVIEWED, State.SCHEDULED)
ISSUE_STATES = (State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED)
MILESTONE_STATES = (State.SCHEDULED, State.PRODUCING)
HANDOVER_STATES = (State.REVIEWED,)
MAX_QUANTITY = Decimal("999999999.999")
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg", b"GIF87a": ".gif", b"GIF89a": ".gif"}


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


def check_handover(user, order) -> None:
    """Hand the approved order over to production (R4.3): the order's assistant (or a sales manager)."""
    if not roles.may(user, "production.handover", order):
        raise Forbidden()
    if order.state not in HANDOVER_STATES:
        raise Conflict(_("An order is handed over to production once approved, before it is scheduled."),
                       code="invalid_state")


def check_move(user, order) -> None:
    """Move the order to another workshop: a production supervisor, before production starts."""
    if not roles.may(user, "production.move", order):
        raise Forbidden()
    if order.state not in READINESS_STATES:
        raise Conflict(_("An order moves to another workshop before production starts."), code="invalid_state")


def check_complete_milestone(user, milestone) -> None:
    """Complete a milestone (or report against it): its responsible person or a production supervisor."""
    order = milestone.plan.order
    if not roles.may(user, "milestone.complete", order):
        raise Forbidden()
    if milestone.responsible_id != user.pk and not roles.may(user, "milestone.complete_any", order):
        raise Forbidden(_("Only the milestone's responsible person or a production supervisor may do this."),
                        code="not_responsible")
    if milestone.done_at is not None:
        raise Conflict(_("The milestone is already done."), code="already_done")
    if order.state not in MILESTONE_STATES:
        raise Conflict(_("Milestones are completed while the order is scheduled or producing."),
                       code="invalid_state")


def check_preparation(user, order) -> None:
    """Add a preparation task (materials, equipment): a production supervisor, before production starts."""
    if not roles.may(user, "preparation.manage", order):
        raise Forbidden()
    if order.state not in READINESS_STATES:
        raise Conflict(_("Preparation is planned before production starts."), code="invalid_state")


def check_preparation_ready(user, task) -> None:
    order = task.order
    if not roles.may(user, "preparation.ready", order):
        raise Forbidden()
    if task.owner_id != user.pk and not roles.may(user, "preparation.manage", order):
        raise Forbidden(_("Only the task's owner or a production supervisor may mark it ready."), code="not_owner")
    if task.ready_at is not None:
        raise Conflict(_("The task is already ready."), code="already_ready")
    if order.state not in READINESS_STATES:
        raise Conflict(_("Preparation is marked ready before production starts."), code="invalid_state")


def check_customer_message(user, order, issue=None) -> None:
    """Review, edit and send an issue's message to the customer: the order's assistant or a sales manager."""
    if not roles.may(user, "issue.message", order):
        raise Forbidden()
    if issue is not None and issue.message_state == ProductionIssue.MessageState.SENT:
        raise Conflict(_("The message was already sent to the customer."), code="already_sent")


may_plan = allows(check_plan)
may_handover = allows(check_handover)
may_move = allows(check_move)
may_complete_milestone = allows(check_complete_milestone)
may_add_preparation = allows(check_preparation)
may_mark_ready = allows(check_preparation_ready)
may_send_message = allows(check_customer_message)
may_set_readiness = allows(check_readiness)
may_report_progress = allows(check_progress)
may_open_issue = allows(check_open_issue)
may_resolve_issue = allows(check_resolve_issue)


def _quantity(value, field: str, errors: dict, *, required: bool = False):
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append(_("This field is required."))
        return None
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        errors.setdefault(field, []).append(_("Give a number."))
        return None
    if not quantity.is_finite() or quantity <= 0 or quantity > MAX_QUANTITY:
        errors.setdefault(field, []).append(_("Give a quantity above 0 and at most 999 999 999.999."))
        return None
    return quantity


@transaction.atomic
def create_plan(*, user, order_id, workshop: Workshop, milestones: list[dict],
                start_date: datetime.date | None = None) -> ProductionPlan:
    """Plan an approved order (R4.3): assigns the workshop; milestones need due date and responsible.

    Planning again while the order is still `reviewed` replaces the plan. ``start_date``: the first day
    the order occupies the workshop (default: today); each milestone may carry the ``quantity`` it makes.
    Each responsible person is told of their milestones.
    """
    order = lock_visible_order(user, order_id)
    check_plan(user, order)
    if not workshop.is_active:
        raise InvalidInput(errors={"workshop": [_("The workshop is not active.")]})
    if start_date is not None and (not isinstance(start_date, datetime.date) or start_date < timezone.localdate()):
        raise InvalidInput(errors={"start_date": [_("The start date may not be in the past.")]})
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
        if start_date and isinstance(m.get("due_date"), datetime.date) and m["due_date"] < start_date:
            errors.append(_("Milestone %(n)s: the due date is before the plan's start.") % {"n": i + 1})
        quantity_errors: dict = {}
        m["quantity"] = _quantity(m.get("quantity"), "quantity", quantity_errors)
        if quantity_errors:
            errors.append(_("Milestone %(n)s: the quantity must be above 0.") % {"n": i + 1})
    if errors:
        raise InvalidInput(_("The plan has invalid values."), errors={"milestones": errors})
    ProductionPlan.objects.filter(order=order).delete()
    plan = ProductionPlan.objects.create(order=order, workshop=workshop, created_by=user, start_date=start_date)
    created = Milestone.objects.bulk_create(
        [Milestone(plan=plan, name=m["name"].strip(), due_date=m["due_date"], responsible=m["responsible"],
                   quantity=m.get("quantity"))
         for m in milestones]
    )
    if order.workshop_id != workshop.pk:
        record_changes(order=order, user=user, changes={"workshop": (order.workshop, workshop)})
        order.workshop = workshop
        order.save(update_fields=["workshop", "updated_at"])
    from notifications import events

    for milestone in Milestone.objects.filter(pk__in=[m.pk for m in created]).select_related("plan", "responsible"):
        events.milestone_assigned(milestone=milestone, actor=user)
    return plan


# --- the hand-over (R4.3) --------------------------------------------------------------------------------
@transaction.atomic
def hand_over(*, user, order_id, workshop: Workshop, note: str = "") -> Handover:
    """The assistant assigns the approved order to production: a workshop and a note on priorities.

    Handing over again replaces the workshop and the note (recorded in the history); the production
    supervisors are told."""
    order = lock_visible_order(user, order_id)
    check_handover(user, order)
    if workshop is None or not workshop.is_active:
        raise InvalidInput(errors={"workshop": [_("Choose an active workshop.")]})
    note = (note or "").strip()
    existing = Handover.objects.select_for_update().filter(order=order).first()
    changes = {"production_note": (existing.note if existing else "", note)}
    if order.workshop_id != workshop.pk:
        changes["workshop"] = (order.workshop, workshop)
        order.workshop = workshop
        order.save(update_fields=["workshop", "updated_at"])
    if existing:
        existing.workshop, existing.note, existing.assigned_by, existing.assigned_at = (
            workshop, note, user, timezone.now())
        existing.save(update_fields=["workshop", "note", "assigned_by", "assigned_at"])
        handover = existing
    else:
        handover = Handover.objects.create(order=order, workshop=workshop, note=note, assigned_by=user)
    record_changes(order=order, user=user, changes=changes)
    from notifications import events

    events.handed_over(handover=handover)
    return handover


@transaction.atomic
def move_to_workshop(*, user, order_id, workshop: Workshop, reason: str) -> Handover | None:
    """The supervisor moves the order to another workshop, with a reason (in the order's history).

    The plan (if any) follows the order to the new workshop."""
    order = lock_visible_order(user, order_id)
    check_move(user, order)
    reason = (reason or "").strip()
    errors = {}
    if workshop is None or not workshop.is_active:
        errors["workshop"] = [_("Choose an active workshop.")]
    elif workshop.pk == order.workshop_id:
        errors["workshop"] = [_("The order is already in this workshop.")]
    if not reason:
        errors["reason"] = [_("Give the reason for the move.")]
    if errors:
        raise InvalidInput(errors=errors)
    record_changes(order=order, user=user, changes={
        "workshop": (order.workshop, workshop), "workshop_move_reason": ("", reason),
    })
    order.workshop = workshop
    order.save(update_fields=["workshop", "updated_at"])
    ProductionPlan.objects.filter(order=order).update(workshop=workshop, updated_at=timezone.now())
    handover = Handover.objects.filter(order=order).first()
    if handover is not None:
        handover.workshop, handover.moved_reason = workshop, reason
        handover.save(update_fields=["workshop", "moved_reason"])
    return handover


def record_capacity_acknowledgement(*, order, user, comment: str) -> None:
    """`schedule`'s after-effect (lifecycle registry): an acknowledged overload is kept on the plan."""
    data = order.ctx.data
    if not data.get("acknowledge_capacity"):
        return
    if not selectors.overloaded_weeks(order):
        return
    ProductionPlan.objects.filter(order=order).update(capacity_acknowledged_by=user, capacity_reason=comment.strip())


# --- milestones (R4.4) ---------------------------------------------------------------------------------------
def _lock_milestone(user, milestone_id) -> Milestone:
    try:
        milestone = Milestone.objects.select_related("plan").get(pk=milestone_id)
    except (Milestone.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    order = lock_visible_order(user, milestone.plan.order_id)
    milestone = Milestone.objects.select_for_update(of=("self",)).select_related("plan").get(pk=milestone.pk)
    milestone.plan.order = order
    return milestone


@transaction.atomic
def complete_milestone(*, user, milestone_id, note: str = "") -> Milestone:
    """Mark a milestone done (the responsible person or a production supervisor); 409 when already done."""
    milestone = _lock_milestone(user, milestone_id)
    check_complete_milestone(user, milestone)
    milestone.done_at = timezone.now()
    milestone.done_by = user
    milestone.done_note = (note or "").strip()[:5000]
    milestone.save(update_fields=["done_at", "done_by", "done_note"])
    return milestone


# --- preparation (R4.3): materials and equipment ----------------------------------------------------------
@transaction.atomic
def add_preparation(*, user, order_id, kind: str, description: str, owner, due_date) -> PreparationTask:
    order = lock_visible_order(user, order_id)
    check_preparation(user, order)
    errors = {}
    if kind not in PreparationTask.Kind.values:
        errors["kind"] = [_("Choose material or equipment.")]
    if not (description or "").strip():
        errors["description"] = [_("This field is required.")]
    if owner is None or not owner.is_active:
        errors["owner"] = [_("Choose an active person.")]
    if not isinstance(due_date, datetime.date):
        errors["due_date"] = [_("This field is required.")]
    elif due_date < timezone.localdate():
        errors["due_date"] = [_("The due date may not be in the past.")]
    if errors:
        raise InvalidInput(errors=errors)
    task = PreparationTask.objects.create(order=order, kind=kind, description=description.strip()[:300],
                                          owner=owner, due_date=due_date, created_by=user)
    _sync_readiness(order)
    from notifications import events

    events.preparation_assigned(task=task, actor=user)
    return task


def _sync_readiness(order) -> None:
    """Keep the plan's two flags in step with the tasks where tasks exist (what the pages show)."""
    plan = ProductionPlan.objects.filter(order=order).first()
    if plan is None:
        return
    fields = []
    for kind, flag in (("material", "materials_ready"), ("equipment", "equipment_ready")):
        tasks = order.preparation_tasks.filter(kind=kind)
        if tasks.exists():
            ready = not tasks.filter(ready_at__isnull=True).exists()
            if getattr(plan, flag) != ready:
                setattr(plan, flag, ready)
                fields.append(flag)
    if fields:
        plan.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def mark_preparation_ready(*, user, task_id) -> PreparationTask:
    try:
        task = PreparationTask.objects.get(pk=task_id)
    except (PreparationTask.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    order = lock_visible_order(user, task.order_id)
    task = PreparationTask.objects.select_for_update(of=("self",)).get(pk=task.pk)
    task.order = order
    check_preparation_ready(user, task)
    task.ready_at = timezone.now()
    task.ready_by = user
    task.save(update_fields=["ready_at", "ready_by"])
    _sync_readiness(order)
    return task


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


def _check_photo(photo, errors: dict) -> None:
    if photo is None:
        return
    size = getattr(photo, "size", None) or 0
    if size > PHOTO_MAX_BYTES:
        errors["photo"] = [_("The photo is larger than 5 MB.")]
        return
    head = photo.read(16)
    photo.seek(0)
    extension = next((ext for sig, ext in PHOTO_SIGNATURES.items() if head.startswith(sig)), None)
    if extension is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        extension = ".webp"
    if extension is None:
        errors["photo"] = [_("The photo must be a PNG, JPEG, GIF or WebP image.")]
        return
    photo.name = f"progress{extension}"  # the name is ours: nothing the client typed reaches the storage


@transaction.atomic
def report_progress(*, user, order_id=None, percent_complete: int | None = None, note: str = "",
                    milestone_id=None, quantity_done=None, photo=None) -> ProgressReport:
    """A progress report (R4.4); production is complete at 100.

    Against a milestone (``milestone_id``: the responsible person or a supervisor) it may carry the
    ``quantity_done`` (never more than what remains of the milestone) and a ``photo``; without
    ``percent_complete`` the percent is the order's roll-up from its milestones including this report."""
    milestone = None
    if milestone_id is not None:
        milestone = _lock_milestone(user, milestone_id)
        if order_id is not None and str(milestone.plan.order_id) != str(order_id):
            lock_visible_order(user, order_id)  # an order out of scope stays 404
            raise InvalidInput(errors={"milestone": [_("The milestone belongs to another order.")]},
                               code="milestone_of_other_order")
        order = milestone.plan.order
    elif order_id is None:
        raise InvalidInput(errors={"order": [_("Give the order or the milestone.")]})
    else:
        order = lock_visible_order(user, order_id)
    check_progress(user, order)
    if milestone is not None:
        if milestone.responsible_id != user.pk and not roles.may(user, "milestone.complete_any", order):
            raise Forbidden(_("Only the milestone's responsible person or a production supervisor may do this."),
                            code="not_responsible")
        if milestone.done_at is not None:
            raise Conflict(_("The milestone is already done."), code="already_done")
    errors: dict = {}
    if percent_complete is not None and (not isinstance(percent_complete, int) or not 0 <= percent_complete <= 100):
        errors["percent_complete"] = [_("Give a whole number from 0 to 100.")]
    if percent_complete is None and milestone is None:
        errors["percent_complete"] = [_("This field is required.")]
    quantity = _quantity(quantity_done, "quantity_done", errors)
    if quantity is not None:
        if milestone is None:
            errors["quantity_done"] = [_("A quantity is reported against a milestone.")]
        else:
            remaining = selectors.milestone_remaining(milestone)
            if quantity > remaining:
                errors["quantity_done"] = [
                    _("More than what remains of the milestone (%(remaining)s).") % {"remaining": remaining.normalize()}
                ]
    _check_photo(photo, errors)
    if errors:
        raise InvalidInput(errors=errors, code="invalid")
    if percent_complete is None:
        extra = {milestone.pk: quantity} if quantity is not None else None
        percent_complete = selectors.rollup(order, extra_quantity=extra)["percent"] or 0
    report = ProgressReport(
        order=order, percent_complete=percent_complete, note=(note or "").strip(), reported_by=user,
        milestone=milestone, quantity_done=quantity,
    )
    if photo is not None:
        report.photo = photo
    report.save()
    audit.record(kind="progress", user=user, order=order, obj=report, name="report", after=percent_complete,
                 note=report.note)
    from notifications import events

    events.progress_reported(report=report)  # the assistant; logistics when complete (the outbox)
    return report


def draft_customer_message(issue) -> str:
    """The message to the customer an issue produces, in the customer's language (R4.4): what happened and
    what happens next, never the internal description; the assistant reviews and edits it before sending."""
    order = issue.order
    language = order.customer.language or settings.LANGUAGE_CODE
    with translation.override(language):
        text = render_to_string(f"production/customer_message_{issue.kind}.txt", {"order": order, "issue": issue})
    return " ".join(text.split())


def _issue_values(*, kind, expected_date, disposition, owner, errors: dict) -> None:
    if expected_date is not None:
        if kind != ProductionIssue.Kind.DELAY:
            errors["expected_date"] = [_("An expected finish is given for a delay.")]
        elif not isinstance(expected_date, datetime.date) or expected_date < timezone.localdate():
            errors["expected_date"] = [_("The expected finish may not be in the past.")]
    if disposition:
        if kind != ProductionIssue.Kind.QUALITY:
            errors["disposition"] = [_("A disposition is given for a quality issue.")]
        elif disposition not in ProductionIssue.Disposition.values:
            errors["disposition"] = [_("Choose rework, scrap or concession.")]
    if owner is not None and not owner.is_active:
        errors["owner"] = [_("Choose an active person.")]


@transaction.atomic
def open_issue(*, user, order_id, kind: str, description: str, expected_date=None, disposition: str = "",
               owner=None) -> ProductionIssue:
    """An exception in execution (R4.4): a delay (with the new ``expected_date`` of the finish) or a quality
    problem (with its ``disposition``: rework, scrap or concession), with the ``owner`` who resolves it.

    It drafts the message to the customer; the order's assistant reviews and sends it
    (:func:`send_customer_message`): nothing reaches the customer before."""
    order = lock_visible_order(user, order_id)
    check_open_issue(user, order)
    errors: dict = {}
    if kind not in ProductionIssue.Kind.values:
        errors["kind"] = [_("Choose delay or quality.")]
    if not (description or "").strip():
        errors["description"] = [_("This field is required.")]
    if not errors:
        _issue_values(kind=kind, expected_date=expected_date, disposition=disposition, owner=owner, errors=errors)
    if errors:
        raise InvalidInput(errors=errors)
    issue = ProductionIssue(order=order, kind=kind, description=description.strip(), opened_by=user,
                            expected_date=expected_date, disposition=disposition or "", owner=owner)
    issue.customer_message = draft_customer_message(issue)
    issue.save()
    audit.record(kind="issue", user=user, order=order, obj=issue, name="open", after=kind, note=issue.description)
    from notifications import events

    events.issue_opened(issue=issue)  # in this transaction (the outbox); sending is queued after commit
    return issue


def open_rework_issue(*, order, user, comment: str) -> ProductionIssue:
    """`reject_delivery`'s after-effect (lifecycle registry): the rejection reason becomes a quality issue
    with the disposition rework (a new progress report of 100 % is needed before shipping again).

    Runs inside :func:`orders.services.run_transition`'s transaction, the order already locked.
    """
    issue = ProductionIssue(order=order, kind=ProductionIssue.Kind.QUALITY, description=comment, opened_by=user,
                            disposition=ProductionIssue.Disposition.REWORK)
    issue.customer_message = draft_customer_message(issue)
    issue.save()
    return issue


@transaction.atomic
def resolve_issue(*, user, issue_id, resolution: str, disposition: str = "") -> ProductionIssue:
    """Resolve an issue; a quality issue may record its disposition now (rework, scrap, concession).

    A rework disposition means a new progress report of 100 % before the order ships again."""
    try:
        issue = ProductionIssue.objects.get(pk=issue_id)
    except (ProductionIssue.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    order = lock_visible_order(user, issue.order_id)
    check_resolve_issue(user, order)
    errors: dict = {}
    if not (resolution or "").strip():
        errors["resolution"] = [_("This field is required.")]
    _issue_values(kind=issue.kind, expected_date=None, disposition=disposition, owner=None, errors=errors)
    if errors:
        raise InvalidInput(errors=errors)
    issue = ProductionIssue.objects.select_for_update().get(pk=issue.pk)
    check_resolve_issue(user, order, issue)  # again on the locked row: a parallel resolve won
    fields = ["resolution", "resolved_by", "resolved_at"]
    if disposition and disposition != issue.disposition:
        issue.order = order
        redraft = issue.message_state == ProductionIssue.MessageState.DRAFT and (
            issue.customer_message == draft_customer_message(issue))
        issue.disposition = disposition
        fields.append("disposition")
        if redraft:
            issue.customer_message = draft_customer_message(issue)
            fields.append("customer_message")
    issue.resolution = resolution.strip()
    issue.resolved_by = user
    issue.resolved_at = timezone.now()
    issue.save(update_fields=fields)
    audit.record(kind="issue", user=user, order=order, obj=issue, name="resolve", note=issue.resolution)
    return issue


# --- the customer's message of an issue (R4.4: exceptions explained to the customer) -----------------------
def _lock_issue_for_message(user, issue_id):
    try:
        issue = ProductionIssue.objects.get(pk=issue_id)
    except (ProductionIssue.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    order = lock_visible_order(user, issue.order_id)
    check_customer_message(user, order)
    issue = ProductionIssue.objects.select_for_update(of=("self",)).get(pk=issue.pk)
    issue.order = order
    check_customer_message(user, order, issue)
    return issue


def _message_text(text) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(errors={"customer_message": [_("The message may not be empty.")]})
    if len(text) > 5000:
        raise InvalidInput(errors={"customer_message": [_("At most 5000 characters.")]})
    return text


@transaction.atomic
def edit_customer_message(*, user, issue_id, customer_message: str) -> ProductionIssue:
    """The assistant edits the draft (it stays a draft until sent)."""
    issue = _lock_issue_for_message(user, issue_id)
    issue.customer_message = _message_text(customer_message)
    issue.save(update_fields=["customer_message"])
    return issue


@transaction.atomic
def send_customer_message(*, user, issue_id, customer_message: str | None = None) -> ProductionIssue:
    """The assistant sends the reviewed message: e-mailed to the customer in their language (the outbox) and
    shown on the tracking page from now on. Once."""
    issue = _lock_issue_for_message(user, issue_id)
    issue.customer_message = _message_text(issue.customer_message if customer_message is None else customer_message)
    issue.message_state = ProductionIssue.MessageState.SENT
    issue.message_sent_at = timezone.now()
    issue.message_sent_by = user
    issue.save(update_fields=["customer_message", "message_state", "message_sent_at", "message_sent_by"])
    from notifications import events

    events.issue_message_sent(issue=issue)
    audit.record(kind="issue", user=user, order=issue.order, obj=issue, name="message_sent", note=issue.customer_message)
    return issue
