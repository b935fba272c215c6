"""Who is told what when something happens to an order (R3.2, R4.4: information flows between departments).

Every sender here calls the one :func:`notifications.services.notify`, inside the cause's
transaction (the outbox): the in-app rows and e-mails commit with the cause, only the sending is
queued after commit. Each call has a dedupe key, so a re-run never writes the same notification twice.

* a transition: :func:`notify_transition` (called by :func:`orders.services.run_transition`),
  recipients as ``orders.lifecycle`` declares them, plus the customer's e-mails;
* department events: issues, sign-offs, progress, shipment events, payments, clarifications,
  escalations, complaints, low survey scores, milestones falling due.

Decisions (issue 8): "ready to ship" is sent once, to the logistics supervisors, by the first
progress report of 100 % while the order is producing (production is complete; the shipping
transition itself stays logistics' call). Progress reports tell the assistant in the app only by
default (they are frequent); the preferences page may switch the e-mail on.
"""

from __future__ import annotations

from functools import cache

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction

from notifications import messages
from notifications.models import Notification
from notifications.services import notify, notify_customer, outbox_batch, recipients, restricted
from orderdesk import roles
from orderdesk.roles import FieldClass, Role

Kind = Notification.Kind


def users_with_role(*names: str):
    """The active holders of any of the roles (a prepared read: each transition's notices ask it)."""
    return _users_with_role().fetch(tuple(sorted(set(names))))


@cache
def _users_with_role():
    from orderdesk.prepared import PreparedQuery

    User = get_user_model()
    return PreparedQuery(
        "active users with roles",
        lambda names: User.objects.filter(is_active=True, groups__name__in=names).distinct(), params={},
    )


def _order(order_id):
    Order = apps.get_model("orders", "Order")
    return Order.objects.select_related("assistant", "customer").filter(pk=order_id).first()


# --- transitions ----------------------------------------------------------------------------------
def _recipients_for(order, notices) -> list[tuple[str, list]]:
    """(kind, users) pairs for a transition, from the notices ``orders.lifecycle`` declares for it: each notice's
    people with their choices for its kind and their language, in one query (:func:`services.recipients`)."""
    pairs = []
    for notice in notices:
        if notice.when is not None and not notice.when(order):
            continue
        owner = order.assistant if roles.OWNER in notice.audience else None
        roles_named = [r for r in notice.audience if r != roles.OWNER]
        pairs.append((notice.kind, recipients(kind=str(notice.kind), roles=roles_named, owner=owner)))
    return pairs


@transaction.atomic(savepoint=False)  # inside the transition's transaction: no savepoint of its own
def notify_transition(*, log_id: int | None, order_id: int, name: str, actor_id: int | None,
                      notices=(), customer_events=(), comment: str = "", order=None, actor=None) -> int:
    """Everyone's notifications of one transition, staff and customer (idempotent per transition record).

    The transition service passes the registry entry's ``notices`` and ``customer_events``
    (``orders.lifecycle``), so this app does not import ``orders``. A return carries its reason
    (the comment) to the assistant, who sees internal comments. The service may pass the ``order`` and the
    ``actor`` it holds (not read again)."""
    if order is None or order.pk != order_id:
        order = _order(order_id)
    if order is None:
        return 0
    if actor is None or actor.pk != actor_id:
        actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    dedupe = f"transition:{log_id or f'{order_id}:{name}'}"
    created = 0
    with outbox_batch():  # every notice's rows and the customer's e-mails: one insert each
        for kind, users in _recipients_for(order, notices):
            message_id, params = kind, {}
            if kind == Kind.ORDER_RETURNED and comment.strip():
                message_id, params = "order_returned_reason", {
                    "reason": restricted(comment.strip()[:500], FieldClass.INTERNAL)}
            created += notify(kind=kind, order=order, users=users, dedupe=dedupe, actor=actor,
                              message_id=message_id, params=params, fresh=log_id is not None)
        for event in customer_events:
            notify_customer(order=order, event=event, dedupe=dedupe)
    return created


# --- department events -------------------------------------------------------------------------------
def issue_opened(*, issue) -> int:
    """A production issue: the assistant (whose review its customer message awaits), the sales managers
    and the issue's owner are told. Nothing goes to the customer before the assistant sends the reviewed
    message (:func:`issue_message_sent`). The issue's kind is stored as a code (translated for each reader)."""
    order = _order(issue.order_id)
    dedupe = f"issue:{issue.pk}"
    params = {"issue": messages.choice("production.ProductionIssue.kind", issue.kind),
              "description": issue.description[:500]}
    created = notify(kind=Kind.ISSUE_OPENED, order=order, users=[order.assistant], dedupe=dedupe,
                     actor=issue.opened_by, message_id="issue_opened_review", params=params)
    created += notify(kind=Kind.ISSUE_OPENED, order=order, users=users_with_role(Role.SALES_MANAGER),
                      dedupe=dedupe, actor=issue.opened_by, params=params)
    if issue.owner_id:
        created += notify(kind=Kind.ISSUE_OPENED, order=order, users=[issue.owner], dedupe=f"{dedupe}:owner",
                          actor=issue.opened_by, message_id="issue_owned", params=params)
    return created


def issue_message_sent(*, issue) -> None:
    """The assistant sent an issue's reviewed message: the customer's e-mail, in their language (R4.4)."""
    order = _order(issue.order_id)
    event = "delayed" if issue.kind == "delay" else "quality"
    notify_customer(order=order, event=event, dedupe=f"issue_message:{issue.pk}", context={"issue": issue})


def milestone_assigned(*, milestone, actor=None) -> int:
    """A plan names a milestone's responsible person: they are told (once per milestone)."""
    order = _order(milestone.plan.order_id)
    return notify(
        kind=Kind.MILESTONE_ASSIGNED, order=order, users=[milestone.responsible], actor=actor,
        dedupe=f"milestone_assigned:{milestone.pk}",
        params={"milestone": milestone.name, "date": messages.date(milestone.due_date)},
    )


def preparation_assigned(*, task, actor=None) -> int:
    order = _order(task.order_id)
    return notify(
        kind=Kind.PREPARATION_ASSIGNED, order=order, users=[task.owner], actor=actor,
        dedupe=f"preparation:{task.pk}", params={"task": task.description[:200], "date": messages.date(task.due_date)},
    )


def handed_over(*, handover) -> int:
    """The assistant handed the order over to production (R4.3): the production supervisors are told."""
    order = _order(handover.order_id)
    return notify(
        kind=Kind.HANDED_OVER, order=order, users=users_with_role(Role.PRODUCTION_SUPERVISOR),
        actor=handover.assigned_by, dedupe=f"handover:{handover.pk}:{handover.assigned_at.isoformat()}",
        params={"workshop": handover.workshop.name, "note": handover.note[:500] or "—"},
    )


def signoff_recorded(*, signoff) -> int:
    """A joint-review sign-off: an objection, or the second approval that completes the review,
    tells the sales managers and the assistant."""
    Signoff = type(signoff)
    order = _order(signoff.order_id)
    users = [order.assistant, *users_with_role(Role.SALES_MANAGER)]
    if signoff.decision == Signoff.Decision.OBJECT:
        return notify(
            kind=Kind.SIGNOFF_RECORDED, order=order, users=users, dedupe=f"signoff:{signoff.pk}",
            actor=signoff.user, message_id="signoff_objected",
            params={"comment": restricted(signoff.comment[:500], FieldClass.INTERNAL)},
        )
    latest = {}
    for department, decision in (
        Signoff.objects.filter(order=order, review_round=signoff.review_round).order_by("pk")
        .values_list("department", "decision")
    ):
        latest[department] = decision
    if set(latest) == set(Signoff.Department.values) and all(d == Signoff.Decision.APPROVE for d in latest.values()):
        return notify(
            kind=Kind.SIGNOFF_RECORDED, order=order, users=users,
            dedupe=f"joint_review:{order.pk}:{signoff.review_round}", message_id="joint_review_complete",
        )
    return 0


def progress_reported(*, report) -> int:
    """A progress report tells the assistant; the first report of 100 % while producing tells
    logistics the order is ready to ship."""
    order = _order(report.order_id)
    created = notify(
        kind=Kind.PROGRESS_REPORTED, order=order, users=[order.assistant], dedupe=f"progress:{report.pk}",
        actor=report.reported_by, params={"percent": report.percent_complete},
    )
    if report.percent_complete >= 100 and order.state == "producing":
        created += notify(
            kind=Kind.READY_TO_SHIP, order=order, users=users_with_role(Role.LOGISTICS_SUPERVISOR),
            dedupe=f"ready_to_ship:{order.pk}",
        )
    return created


def shipment_event(*, event) -> int:
    """A shipment's status changed: the assistant is told (to pass it on to the customer, R4.4)."""
    shipment = event.shipment
    order = _order(shipment.order_id)
    return notify(
        kind=Kind.SHIPMENT_UPDATED, order=order, users=[order.assistant], dedupe=f"shipment_event:{event.pk}",
        actor=event.recorded_by, message_id="shipment_event",
        params={"tracking": shipment.tracking_number, "status": messages.choice("logistics.ShipmentEvent.status", event.status)},
    )


def shipment_recorded(*, shipment, lines) -> int:
    """A shipment was recorded (R3.4): the assistant is told what it carries (quantities, never prices), and
    whether the order is now only partly shipped, to pass it on to the customer (R4.4)."""
    order = _order(shipment.order_id)
    carried = "; ".join(f"{line.product.sku} × {quantity.normalize():f}" for line, quantity in lines)
    shipped = {}
    for line_id, quantity in (
        apps.get_model("logistics", "ShipmentLine").objects.filter(shipment__order=order)
        .exclude(shipment__status="returned").values_list("order_line_id", "quantity")
    ):
        shipped[line_id] = shipped.get(line_id, 0) + quantity
    partial = any(shipped.get(line.pk, 0) < line.quantity for line in order.lines.all())
    return notify(
        kind=Kind.SHIPMENT_UPDATED, order=order, users=[order.assistant], dedupe=f"shipment:{shipment.pk}",
        actor=shipment.created_by, message_id="shipment_recorded_partial" if partial else "shipment_recorded",
        params={"tracking": shipment.tracking_number, "lines": carried},
    )


def promise_revised(*, promise):
    """A new promised delivery date (R5.3): the customer is told by e-mail in their language, with the
    reason (the tracking page shows it too). Returns the outbox row (None without a customer e-mail)."""
    order = _order(promise.order_id)
    return notify_customer(order=order, event="promise_revised", dedupe=f"promise:{promise.pk}",
                           context={"promise": promise})


def payment_received(*, payment) -> int:
    """A payment was recorded: the assistant is told (the amount is a price value, DESIGN §5)."""
    order = _order(payment.invoice.order_id)
    return notify(
        kind=Kind.PAYMENT_RECEIVED, order=order, users=[order.assistant], dedupe=f"payment:{payment.pk}",
        actor=payment.recorded_by, params={"amount": restricted(messages.money(payment.amount), FieldClass.PRICE)},
    )


def clarification_changed(*, clarification, resolved: bool, actor) -> int:
    """A clarification was opened or resolved: the assistant is told."""
    order = _order(clarification.order_id)
    if resolved:
        message_id, params = "clarification_resolved", {"resolution": clarification.resolution[:500]}
    else:
        message_id, params = "clarification_opened", {"question": clarification.question[:500]}
    return notify(
        kind=Kind.CLARIFICATION_OPENED, order=order, users=[order.assistant], actor=actor,
        dedupe=f"clarification:{clarification.pk}:{'resolved' if resolved else 'opened'}",
        message_id=message_id, params=params,
    )


def escalation_raised(*, escalation) -> int:
    """A problem was escalated (R5.1): the sales managers are told, per their preferences."""
    order = _order(escalation.order_id)
    return notify(
        kind=Kind.ESCALATION, order=order, users=users_with_role(Role.SALES_MANAGER),
        dedupe=f"escalation:{escalation.pk}", actor=escalation.raised_by,
        params={"reason": restricted(escalation.reason[:200], FieldClass.INTERNAL)},
    )


def complaint_recorded(*, complaint) -> int:
    """A customer's complaint (R6.2): the sales managers are told (in the app and, by default, by e-mail);
    one the customer filed on the tracking page also tells the order's assistant, who owns it."""
    order = _order(complaint.order_id)
    from_customer = complaint.recorded_by_id is None
    users = users_with_role(Role.SALES_MANAGER) + ([order.assistant] if from_customer else [])
    return notify(
        kind=Kind.COMPLAINT, order=order, users=users,
        dedupe=f"complaint:{complaint.pk}", actor=complaint.recorded_by,
        message_id="complaint_from_customer" if from_customer else "complaint",
        params={"text": restricted(complaint.description[:200], FieldClass.INTERNAL)},
    )


def complaint_overdue(*, complaint) -> int:
    """A complaint past its due date (the scheduled check): its owner and the sales managers, once."""
    order = _order(complaint.order_id)
    return notify(
        kind=Kind.COMPLAINT, order=order, users=[complaint.owner, *users_with_role(Role.SALES_MANAGER)],
        dedupe=f"complaint_overdue:{complaint.pk}:{complaint.due_on}", message_id="complaint_overdue",
        params={"date": messages.date(complaint.due_on)},
    )


def receipt_confirmed(*, confirmation) -> int:
    """The customer confirmed receipt on the tracking page: the assistant is told before `accept`."""
    order = _order(confirmation.order_id)
    result = "receipt_confirmed_passed" if confirmation.inspection_passed else "receipt_confirmed_failed"
    return notify(
        kind=Kind.SHIPMENT_UPDATED, order=order, users=[order.assistant], dedupe=f"receipt:{confirmation.pk}",
        message_id="receipt_confirmed", params={"result": {"msg": result, "params": {}}},
    )


def low_survey_score(*, survey) -> int:
    """A survey answered with a low score: the sales managers are told (its own kind, not a complaint)."""
    order = _order(survey.order_id)
    return notify(
        kind=Kind.LOW_SURVEY_SCORE, order=order, users=users_with_role(Role.SALES_MANAGER),
        dedupe=f"survey:{survey.pk}", params={"score": survey.score},
    )


def order_reassigned(*, order, previous, actor, reason: str = "") -> int:
    """A sales manager gave the order to another assistant: both assistants are told (the reason is
    internal)."""
    from django.utils import timezone

    params = {
        "previous": (previous.get_full_name() or previous.get_username()) if previous is not None else "",
        "assistant": order.assistant.get_full_name() or order.assistant.get_username(),
    }
    if reason:
        params["reason"] = restricted(reason[:500], FieldClass.INTERNAL)
    return notify(
        kind=Kind.ORDER_REASSIGNED, order=order, users=[previous, order.assistant], actor=actor,
        dedupe=f"reassign:{order.pk}:{order.assistant_id}:{timezone.now().isoformat()}",
        message_id="order_reassigned_reason" if reason else "order_reassigned", params=params,
    )


def milestone_due(*, milestone, overdue: bool) -> int:
    """A milestone is due soon (or overdue): its responsible person is told, once per milestone and
    state (due, then overdue)."""
    plan = milestone.plan
    order = _order(plan.order_id)
    return notify(
        kind=Kind.MILESTONE_DUE, order=order, users=[milestone.responsible],
        dedupe=f"milestone:{milestone.pk}:{'overdue' if overdue else 'due'}",
        message_id="milestone_overdue" if overdue else "milestone_due",
        params={"milestone": milestone.name, "date": messages.date(milestone.due_date)},
    )
