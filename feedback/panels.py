"""Customer feedback on the order page (R6.2): the questionnaire's answers, phone follow-ups, the customer's
receipt confirmation and the complaints, for those who read feedback (the roles module's ``feedback.view``),
with the forms to record follow-ups and complaints and to handle complaints. Whether a role may record or
handle one is its `orderdesk.roles` action, which the service checks too.
Registered in :meth:`feedback.apps.FeedbackConfig.ready`."""

from __future__ import annotations

from feedback.forms import ComplaintForm, ComplaintHandleForm, FollowUpForm
from feedback.models import ReceiptConfirmation, Survey
from feedback.selectors import reads_feedback
from orderdesk import roles
from orders.panels import ASIDE, Panel, has_rows


def context(*, order, user, forms: dict) -> dict:
    if not reads_feedback(user):
        return {"shows_feedback": False}
    complaints = list(order.complaints.select_related("recorded_by", "handled_by", "owner")) \
        if has_rows(order, "complaints") else []
    may_handle = roles.may(user, "complaint.handle", order)
    if may_handle:
        for c in complaints:
            c.handle_form = forms.get(f"complaint_handle-{c.pk}") or ComplaintHandleForm(auto_id=f"id_complaint{c.pk}_%s")
    return {
        "shows_feedback": True,
        "survey": Survey.objects.filter(order=order).first() if has_rows(order, "survey") else None,
        "followups": list(order.followups.select_related("recorded_by")) if has_rows(order, "followups") else [],
        "receipt_confirmation": ReceiptConfirmation.objects.filter(order=order).first()
        if has_rows(order, "receipt_confirmation") else None,
        "complaints": complaints,
        "may_record_complaint": roles.may(user, "complaint.record", order),
        "may_handle_complaint": may_handle,
        "may_record_followup": roles.may(user, "followup.record", order),
        "complaint_form": forms.get("complaint") or ComplaintForm(),
        "followup_form": forms.get("followup") or FollowUpForm(auto_id="id_followup_%s"),
    }


PANEL = Panel(key="feedback", template="feedback/_panel.html", context=context, column=ASIDE, position=10,
              reads=("complaints", "survey", "followups", "receipt_confirmation"))
