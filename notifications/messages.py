"""The texts of the in-app notifications and staff e-mails, by message id (issue 8).

A notification stores a message id and its parameters, never a translated sentence: it is
rendered in the *reader's* language when read (pages: the active language; the API: the
request's ``Accept-Language``; e-mails: the recipient's stored language). A parameter that is
itself translatable is stored as a code and translated at render time too:

* ``{"choice": "app_label.Model.field", "value": code}`` — a choice label (issue kind, alert kind);
* ``{"msg": message_id, "params": {...}}`` — a nested message (the reason an order is at risk);
* ``{"date": "YYYY-MM-DD"}`` — a date, formatted in the reader's locale;
* ``{"money": "1500000.00"}`` — an amount, grouped in the reader's locale (1,500,000.00);
* anything else is shown as stored (numbers, names, free text typed by a user).

Old rows (written before message ids) keep their stored ``message`` and show it (the fallback).
"""

from __future__ import annotations

import datetime

from django.apps import apps
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

MESSAGES = {
    # transitions (orders.lifecycle declares who is told)
    "review_requested": _("Order %(number)s was submitted for review by %(actor)s."),
    "signoff_requested": _("Order %(number)s needs your joint-review sign-off."),
    "order_returned": _("Order %(number)s was returned by %(actor)s."),
    "order_returned_reason": _("Order %(number)s was returned by %(actor)s: %(reason)s"),
    "order_approved": _("Order %(number)s was approved by %(actor)s."),
    "order_scheduled": _("Order %(number)s was scheduled for production."),
    "production_started": _("Production of order %(number)s has started."),
    "order_shipped": _("Order %(number)s was shipped."),
    "order_accepted": _("Order %(number)s was accepted by the customer."),
    "delivery_rejected": _("The delivery of order %(number)s was rejected; rework is needed."),
    "order_settled": _("Order %(number)s is settled."),
    "order_cancelled": _("Order %(number)s was cancelled."),
    "order_reassigned": _("%(actor)s gave order %(number)s from %(previous)s to %(assistant)s."),
    "order_reassigned_reason": _("%(actor)s gave order %(number)s from %(previous)s to %(assistant)s: %(reason)s"),
    # department events
    "issue_opened": _("A %(issue)s issue was opened on order %(number)s: %(description)s"),
    "issue_opened_review": _("A %(issue)s issue was opened on order %(number)s: %(description)s. A message to "
                             "the customer awaits your review."),
    "issue_owned": _("You own the %(issue)s issue opened on order %(number)s: %(description)s"),
    "milestone_assigned": _("You are responsible for milestone %(milestone)s of order %(number)s, due on %(date)s."),
    "preparation_assigned": _("Preparation task of order %(number)s for you, due on %(date)s: %(task)s"),
    "handed_over": _("Order %(number)s was handed over to production (%(workshop)s): %(note)s"),
    "signoff_objected": _("%(actor)s objected to order %(number)s in the joint review: %(comment)s"),
    "joint_review_complete": _("Both departments approved order %(number)s in the joint review."),
    "progress_reported": _("Production of order %(number)s is %(percent)s%% complete."),
    "ready_to_ship": _("Production of order %(number)s is complete; it is ready to ship."),
    "shipment_event": _("Shipment %(tracking)s of order %(number)s: %(status)s."),
    "shipment_recorded": _("Shipment %(tracking)s of order %(number)s was recorded with %(lines)s."),
    "shipment_recorded_partial": _(
        "Shipment %(tracking)s of order %(number)s was recorded with %(lines)s; the order is partly shipped."
    ),
    "payment_received": _("A payment of %(amount)s was received for order %(number)s."),
    "clarification_opened": _("A clarification was opened on order %(number)s: %(question)s"),
    "clarification_resolved": _("A clarification on order %(number)s was resolved: %(resolution)s"),
    "escalation": _("Order %(number)s: %(actor)s escalated a problem: %(reason)s"),
    "complaint": _("A complaint was recorded on order %(number)s: %(text)s"),
    "complaint_from_customer": _("The customer filed a complaint on order %(number)s: %(text)s"),
    "complaint_overdue": _("A complaint on order %(number)s was due on %(date)s and is not resolved."),
    "receipt_confirmed": _("The customer confirmed receipt of order %(number)s: inspection %(result)s."),
    "receipt_confirmed_passed": _("passed"),
    "receipt_confirmed_failed": _("failed"),
    "low_survey_score": _("Order %(number)s: the customer rated the service %(score)s of 5."),
    "milestone_due": _("Milestone %(milestone)s of order %(number)s is due on %(date)s."),
    "milestone_overdue": _("Milestone %(milestone)s of order %(number)s was due on %(date)s and is not done."),
    # scheduled checks
    "order_overdue": _("Order %(number)s is past its promised delivery date."),
    "order_at_risk": _("Order %(number)s is at risk: %(reason)s"),
    "order_stale": _("No progress has been reported on order %(number)s for %(days)s days."),
    "payment_overdue": _("An invoice of order %(number)s is past its due date and unpaid."),
    "review_waiting": _("Order %(number)s has been waiting for review for more than %(hours)s hours."),
    "alert_escalated": _("Unresolved for more than %(hours)s hours on order %(number)s: %(alert)s. Please step in."),
    # nested: the reason an order is at risk
    "risk_plan_late": _("its production plan is behind or ends after the promised date."),
    "risk_no_progress": _("no progress since the first report."),
    "risk_pace": _("at the reported pace production finishes on %(date)s."),
}


def choice(label: str, value: str) -> dict:
    """A translatable choice parameter: ``choice("production.ProductionIssue.kind", "quality")``."""
    return {"choice": label, "value": value}


def nested(message_id: str, **params) -> dict:
    return {"msg": message_id, "params": params}


def date(value: datetime.date) -> dict:
    return {"date": value.isoformat()}


def money(value) -> dict:
    return {"money": str(value)}


def _param(value) -> str:
    if isinstance(value, dict):
        if "money" in value:
            from django.template.defaultfilters import floatformat

            return floatformat(value["money"], "2g")
        if "choice" in value:
            app_label, model, field = value["choice"].split(".")
            choices = dict(apps.get_model(app_label, model)._meta.get_field(field).flatchoices)
            return str(choices.get(value.get("value"), value.get("value", "")))
        if "msg" in value:
            return render(value["msg"], value.get("params") or {})
        if "date" in value:
            try:
                return date_format(datetime.date.fromisoformat(value["date"]), "SHORT_DATE_FORMAT")
            except (TypeError, ValueError):
                return str(value["date"])
    return "" if value is None else str(value)


def render(message_id: str, params: dict | None, *, fallback: str = "") -> str:
    """The message in the active language; an unknown id (an old row) shows ``fallback``."""
    template = MESSAGES.get(message_id or "")
    if template is None:
        return fallback
    values = {key: _param(value) for key, value in (params or {}).items()}
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return fallback or str(template)
