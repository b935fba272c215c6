"""Customer feedback on the order page (R6.2): the questionnaire's answer and the complaints, for those who
read feedback (:data:`feedback.selectors.FEEDBACK_READERS`), with the forms to record and handle complaints.
Whether a role may record or handle one is its `orderdesk.roles` action, which the service checks too.
Registered in :meth:`feedback.apps.FeedbackConfig.ready`."""

from __future__ import annotations

from feedback.forms import ComplaintForm, ComplaintHandleForm
from feedback.models import Survey
from feedback.selectors import FEEDBACK_READERS
from orderdesk import roles
from orders.panels import ASIDE, Panel


def context(*, order, user, forms: dict) -> dict:
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


PANEL = Panel(key="feedback", template="feedback/_panel.html", context=context, column=ASIDE, position=10)
