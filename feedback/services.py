"""Writes of customer feedback (R6.2): surveys opened and answered, complaints recorded and handled."""

from __future__ import annotations

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import Complaint, Survey
from notifications import events
from orderdesk import roles
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.selectors import lock_visible_order

# Signs the link of the invitation e-mail (feedback.apps registers it with notifications) and of the page.
SURVEY_SALT = "orderdesk.survey"
# Complaint handling: where each status may go next.
NEXT_STATUS = {
    Complaint.Status.OPEN: {Complaint.Status.IN_PROGRESS, Complaint.Status.RESOLVED},
    Complaint.Status.IN_PROGRESS: {Complaint.Status.RESOLVED},
    Complaint.Status.RESOLVED: set(),
}


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
def answer_survey(*, token: str, score, comment: str = "") -> Survey:
    """The customer's answer (no account: the signed link is the authority); answered once."""
    survey = survey_for_token(token)
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.answered_at is not None:
        raise Conflict(_("This questionnaire has already been answered. Thank you!"), code="already_answered")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise InvalidInput(errors={"score": [_("Choose a score from 1 to 5.")]})
    survey.score = score
    survey.comment = (comment or "").strip()[:5000]
    survey.answered_at = timezone.now()
    survey.save(update_fields=["score", "comment", "answered_at"])
    if score <= 2:
        events.low_survey_score(survey=survey)  # in this transaction (the outbox)
    return survey


@transaction.atomic
def record_complaint(*, user, order_id, kind: str, description: str) -> Complaint:
    """A complaint or suggestion from the customer (R6.2), e.g. taken on a phone follow-up."""
    order = lock_visible_order(user, order_id)
    if not roles.may(user, "complaint.record", order):
        raise Forbidden()
    errors = {}
    if kind not in Complaint.Kind.values:
        errors["kind"] = [_("Choose complaint or suggestion.")]
    if not (description or "").strip():
        errors["description"] = [_("This field is required.")]
    if errors:
        raise InvalidInput(errors=errors)
    complaint = Complaint.objects.create(order=order, kind=kind, description=description.strip(), recorded_by=user)
    if kind == Complaint.Kind.COMPLAINT:
        events.complaint_recorded(complaint=complaint)  # in this transaction (the outbox)
    return complaint


@transaction.atomic
def handle_complaint(*, user, complaint_id, status: str, resolution: str = "") -> Complaint:
    """Move a complaint on (open → in progress → resolved); resolving needs the resolution."""
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
    if status not in NEXT_STATUS[complaint.status]:
        raise Conflict(_("A %(from)s complaint cannot become %(to)s.")
                       % {"from": complaint.get_status_display(), "to": Complaint.Status(status).label},
                       code="invalid_state")
    if status == Complaint.Status.RESOLVED and not (resolution or "").strip():
        raise InvalidInput(errors={"resolution": [_("Say how it was resolved.")]})
    complaint.status = status
    complaint.handled_by = user
    if status == Complaint.Status.RESOLVED:
        complaint.resolution = resolution.strip()
        complaint.resolved_at = timezone.now()
    complaint.save()
    return complaint


def survey_token(order) -> str:
    return signing.dumps(order.pk, salt=SURVEY_SALT)


