"""Writes of customer feedback (R6.2): surveys opened and answered, complaints recorded and handled."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import Complaint, FollowUp, ReceiptConfirmation, Survey
from notifications import events
from notifications.services import notify_customer
from orderdesk import audit, roles
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.models import Order
from orders.selectors import lock_visible_order

# Signs the link of the invitation e-mail (feedback.apps registers it with notifications) and of the page.
SURVEY_SALT = "orderdesk.survey"
# Complaint handling: where each status may go next ("open" again from resolved or closed is the reopening).
NEXT_STATUS = {
    Complaint.Status.OPEN: {Complaint.Status.IN_PROGRESS, Complaint.Status.RESOLVED},
    Complaint.Status.IN_PROGRESS: {Complaint.Status.RESOLVED},
    Complaint.Status.RESOLVED: {Complaint.Status.CLOSED, Complaint.Status.OPEN},
    Complaint.Status.CLOSED: {Complaint.Status.OPEN},
}
MAX_TEXT = 5000
SURVEY_QUESTIONS = ("quality", "punctuality", "communication")


def due_on_for(kind: str, created_at) -> datetime.date:
    """The service level per kind (COMPLAINT_SERVICE_DAYS): the day a complaint or suggestion is due."""
    days = settings.COMPLAINT_SERVICE_DAYS.get(kind, 3)
    return timezone.localdate(created_at) + datetime.timedelta(days=days)


def _check_text(kind, description) -> dict:
    errors = {}
    if kind not in Complaint.Kind.values:
        errors["kind"] = [_("Choose complaint or suggestion.")]
    text = (description or "").strip()
    if not text:
        errors["description"] = [_("This field is required.")]
    elif len(text) > MAX_TEXT:
        errors["description"] = [_("Please keep it under %(n)s characters.") % {"n": MAX_TEXT}]
    return errors


def open_survey(*, order) -> Survey:
    """Open the order's questionnaire (once), when its delivery is accepted."""
    try:
        with transaction.atomic():
            return Survey.objects.create(order=order)
    except IntegrityError:  # accepted again after a rework: the first invitation stands
        return Survey.objects.get(order=order)


def open_survey_on_acceptance(*, order, user=None, comment: str = "") -> Survey:
    """`accept`'s after-effect (lifecycle registry); the invitation e-mail carries its link (R6.2)."""
    return open_survey(order=order)


def survey_for_token(token: str) -> Survey:
    try:
        order_id = signing.loads(token, salt=SURVEY_SALT)
        return Survey.objects.select_related("order", "order__customer").get(order_id=order_id)
    except (signing.BadSignature, Survey.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None


@transaction.atomic
def answer_survey(*, token: str, score, comment: str = "", answers_given: dict | None = None) -> Survey:
    """The customer's answer (no account: the signed link is the authority); answered once.

    ``score`` is the overall rating (required); ``answers_given`` the other questions (:data:`SURVEY_QUESTIONS`:
    product quality, punctuality, communication), each 1-5 or left out."""
    survey = survey_for_token(token)
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.answered_at is not None:
        raise Conflict(_("This questionnaire has already been answered. Thank you!"), code="already_answered")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    errors = {}
    if not 1 <= score <= 5:
        errors["score"] = [_("Choose a score from 1 to 5.")]
    answers = {}
    for question in SURVEY_QUESTIONS:
        value = (answers_given or {}).get(question)
        if value in (None, ""):
            answers[question] = None  # a question left unanswered
            continue
        try:
            answers[question] = int(value)
        except (TypeError, ValueError):
            answers[question] = 0
        if not 1 <= answers[question] <= 5:
            errors[question] = [_("Choose a score from 1 to 5.")]
    comment = (comment or "").strip()
    if len(comment) > MAX_TEXT:
        errors["comment"] = [_("Please keep it under %(n)s characters.") % {"n": MAX_TEXT}]
    if errors:
        raise InvalidInput(errors=errors)
    survey.score = score
    for question, value in answers.items():
        setattr(survey, question, value)
    survey.comment = comment
    survey.answered_at = timezone.now()
    survey.save(update_fields=["score", "comment", "answered_at", *SURVEY_QUESTIONS])
    if score <= 2:
        events.low_survey_score(survey=survey)  # in this transaction (the outbox)
    return survey


@transaction.atomic
def record_complaint(*, user, order_id, kind: str, description: str) -> Complaint:
    """A complaint or suggestion from the customer (R6.2), e.g. taken on a phone follow-up."""
    order = lock_visible_order(user, order_id)
    if not roles.may(user, "complaint.record", order):
        raise Forbidden()
    errors = _check_text(kind, description)
    if errors:
        raise InvalidInput(errors=errors)
    return _create_complaint(order=order, kind=kind, description=description, user=user,
                             source=Complaint.Source.STAFF)


def _create_complaint(*, order, kind, description, user, source) -> Complaint:
    now = timezone.now()
    complaint = Complaint.objects.create(
        order=order, kind=kind, description=description.strip(), recorded_by=user, source=source,
        created_at=now, owner=order.assistant, due_on=due_on_for(kind, now),
    )
    audit.record(kind="complaint", user=user, order=order, obj=complaint, name="record", after=complaint.status,
                 note=f"{kind}: {complaint.description[:500]}")
    if kind == Complaint.Kind.COMPLAINT:
        events.complaint_recorded(complaint=complaint)  # in this transaction (the outbox)
    return complaint


@transaction.atomic
def file_customer_complaint(*, order_id, kind: str, description: str) -> Complaint:
    """A complaint or suggestion the customer files on the tracking page (the link is the authority: the
    caller resolved it to ``order_id``); owned by the order's assistant, due per its service level."""
    order = Order.objects.select_for_update().select_related("assistant").get(pk=order_id)
    errors = _check_text(kind, description)
    if errors:
        raise InvalidInput(errors=errors)
    return _create_complaint(order=order, kind=kind, description=description, user=None,
                             source=Complaint.Source.CUSTOMER)


@transaction.atomic
def handle_complaint(*, user, complaint_id, status: str, resolution: str = "", owner=None) -> Complaint:
    """Move a complaint on: open → in progress → resolved → closed, and back to open (reopened) from resolved
    or closed. Resolving needs the resolution, which the customer is told by e-mail in their language.
    ``owner`` hands it to another sales assistant (or manager)."""
    try:
        complaint = Complaint.objects.get(pk=complaint_id)
    except (Complaint.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    order = lock_visible_order(user, complaint.order_id)
    if not roles.may(user, "complaint.handle", order):
        raise Forbidden()
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if status not in Complaint.Status.values:
        raise InvalidInput(errors={"status": [_("Unknown status.")]})
    if owner is not None and not roles.has_role(owner, roles.Role.SALES_ASSISTANT, roles.Role.SALES_MANAGER):
        raise InvalidInput(errors={"owner": [_("The owner must be a sales assistant or manager.")]})
    if status not in NEXT_STATUS[complaint.status]:
        raise Conflict(_("A %(from)s complaint cannot become %(to)s.")
                       % {"from": complaint.get_status_display(), "to": Complaint.Status(status).label},
                       code="invalid_state")
    resolution = (resolution or "").strip()
    if status == Complaint.Status.RESOLVED and not resolution:
        raise InvalidInput(_("Say how it was resolved."), errors={"resolution": [_("Say how it was resolved.")]})
    if len(resolution) > MAX_TEXT:
        raise InvalidInput(errors={"resolution": [_("Please keep it under %(n)s characters.") % {"n": MAX_TEXT}]})
    before = complaint.status
    now = timezone.now()
    complaint.status = status
    complaint.handled_by = user
    if owner is not None:
        complaint.owner = owner
    if status == Complaint.Status.RESOLVED:
        complaint.resolution = resolution
        complaint.resolved_at = now
    elif status == Complaint.Status.CLOSED:
        complaint.closed_at = now
    elif status == Complaint.Status.OPEN:  # reopened: it is due again per its service level
        complaint.resolved_at = complaint.closed_at = None
        complaint.due_on = due_on_for(complaint.kind, now)
        complaint.overdue_notified_at = None
    complaint.save()
    audit.record(kind="complaint", user=user, order=order, obj=complaint,
                 name="reopen" if status == Complaint.Status.OPEN else status, before=before, after=status,
                 note=resolution if status == Complaint.Status.RESOLVED else "")
    if status == Complaint.Status.RESOLVED:
        mail = notify_customer(order=order, event="complaint_resolved", dedupe=f"complaint:{complaint.pk}:{now.timestamp():.0f}",
                               context={"complaint": complaint})
        if mail is not None:
            complaint.customer_told_at = now
            complaint.save(update_fields=["customer_told_at"])
    return complaint


@transaction.atomic
def record_followup(*, user, order_id, score, summary: str) -> FollowUp:
    """A phone follow-up (R6.2) by the order's assistant or a sales manager, with the customer's score 1-5."""
    order = lock_visible_order(user, order_id)
    if not roles.may(user, "followup.record", order):
        raise Forbidden()
    errors = {}
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        errors["score"] = [_("Choose a score from 1 to 5.")]
    summary = (summary or "").strip()
    if not summary:
        errors["summary"] = [_("This field is required.")]
    elif len(summary) > MAX_TEXT:
        errors["summary"] = [_("Please keep it under %(n)s characters.") % {"n": MAX_TEXT}]
    if errors:
        raise InvalidInput(errors=errors)
    followup = FollowUp.objects.create(order=order, score=score, summary=summary, recorded_by=user)
    audit.record(kind="followup", user=user, order=order, obj=followup, name="record", after=score, note=summary)
    return followup


@transaction.atomic
def confirm_receipt(*, order_id, received_by: str, inspection: str, note: str = "") -> ReceiptConfirmation:
    """The customer confirms on the tracking page that the shipment arrived, with the inspection's result;
    once, after shipment (the link is the authority). The assistant is told and reads it before `accept`."""
    order = Order.objects.select_for_update().select_related("assistant").get(pk=order_id)
    if order.state != "shipped":
        raise Conflict(_("The receipt can be confirmed once the order is shipped."), code="invalid_state")
    if ReceiptConfirmation.objects.filter(order=order).exists():
        raise Conflict(_("The receipt was already confirmed. Thank you!"), code="already_confirmed")
    errors = {}
    received_by = (received_by or "").strip()
    if not received_by:
        errors["received_by"] = [_("This field is required.")]
    elif len(received_by) > 100:
        errors["received_by"] = [_("Please keep it under %(n)s characters.") % {"n": 100}]
    if inspection not in ("passed", "failed"):
        errors["inspection"] = [_("Say whether the goods passed your inspection.")]
    note = (note or "").strip()
    if len(note) > MAX_TEXT:
        errors["note"] = [_("Please keep it under %(n)s characters.") % {"n": MAX_TEXT}]
    if errors:
        raise InvalidInput(errors=errors)
    confirmation = ReceiptConfirmation.objects.create(order=order, received_by=received_by,
                                                      inspection_passed=inspection == "passed", note=note)
    audit.record(kind="receipt", order=order, obj=confirmation, name="confirm", after=inspection, note=note)
    events.receipt_confirmed(confirmation=confirmation)
    return confirmation


# --- scheduled reminders (orders.checks.register_reminder, from feedback.apps) ----------------------
def remind_unanswered_surveys(now) -> int:
    """Recall the questionnaire once to customers who have not answered after SURVEY_REMINDER_DAYS."""
    from orders.checks import id_chunks

    cutoff = now - datetime.timedelta(days=settings.SURVEY_REMINDER_DAYS)
    due = Survey.objects.filter(answered_at__isnull=True, reminded_at__isnull=True, sent_at__lte=cutoff)
    told = 0
    for ids in id_chunks(due):
        for survey in Survey.objects.filter(pk__in=ids).select_related("order", "order__customer"):
            with transaction.atomic():
                if not Survey.objects.filter(pk=survey.pk, reminded_at__isnull=True).update(reminded_at=now):
                    continue  # a concurrent run reminded it
                notify_customer(order=survey.order, event="survey_reminder", dedupe=f"survey_reminder:{survey.pk}")
                told += 1
    return told


def report_overdue_complaints(now) -> int:
    """Tell the owner and the sales managers once about each complaint past its due date and not resolved."""
    from orders.checks import id_chunks

    today = timezone.localdate(now)
    due = Complaint.objects.filter(status__in=[Complaint.Status.OPEN, Complaint.Status.IN_PROGRESS],
                                   due_on__lt=today, overdue_notified_at__isnull=True)
    told = 0
    for ids in id_chunks(due):
        for complaint in Complaint.objects.filter(pk__in=ids).select_related("order", "owner"):
            with transaction.atomic():
                if not Complaint.objects.filter(pk=complaint.pk, overdue_notified_at__isnull=True).update(
                    overdue_notified_at=now
                ):
                    continue
                events.complaint_overdue(complaint=complaint)
                told += 1
    return told


def survey_token(order) -> str:
    return signing.dumps(order.pk, salt=SURVEY_SALT)


