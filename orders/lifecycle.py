"""The lifecycle's registry: one entry per transition (DESIGN §4), read by every layer.

The state machine itself (source, target, conditions, permission) is declared on
:class:`orders.models.Order` with django-fsm-2. Everything else a transition
means to the people using it lives here, once: its label, the form of the data it
takes, whether its comment is required, how its button looks, who is told and
which e-mail the customer receives, what it does beyond the order's row (the
``after`` hooks, owned by the department whose rows they write), what a page's
button pre-fills, what the review desk shows for it and which work queue of the
dashboard waits for it. The transition service, the pages, the admin, the API,
the review desk, the work queues and the notifications all read this table;
nothing repeats it.

Hooks and forms are named by dotted path and resolved when first used, so this
module imports no app's models or services (no import cycle: ``orders.models``
imports this module).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from orderdesk.roles import OWNER, Role

# The audience of a notice: the order's own assistant, or every active user of a role.
ASSISTANT = OWNER


@dataclass(frozen=True)
class Notice:
    """One kind of in-app notification (and e-mail, per preferences) a transition sends."""

    kind: str
    audience: tuple[str, ...]
    # Sent only when this holds for the order (e.g. sign-off requests only for a joint review).
    when: Callable | None = None


@dataclass(frozen=True)
class DeskAction:
    """How the sales manager's review desk (supervision) offers a transition."""

    # The desk's form, by dotted path (the desk's own forms live in supervision.forms).
    form: str
    # The message after it ran (``%(number)s``: the order's number).
    done: Promise
    # Offered only once the assistant has submitted the order (approve, return), or whenever
    # the state allows it (cancel).
    after_submission: bool = True


@dataclass(frozen=True)
class WorkQueue:
    """A dashboard list of the orders waiting for one transition (or one activity) of a role.

    For a transition, the roles are ``roles.TRANSITION_ROLES`` (the owner rule: only the
    caller's own orders) and the states are the transition's sources on the model;
    ``where`` narrows further (``where(user) -> Q``, dotted path or callable).
    """

    key: str
    title: Promise
    where: str | Callable | None = None


@dataclass(frozen=True)
class ActivityQueue(WorkQueue):
    """A work queue for work done while an order sits in a state, not for a transition."""

    states: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TransitionSpec:
    name: str
    method: str
    label: Promise
    # The form (in orders.forms) that validates the data the transition takes, whatever the caller.
    form: str = "TransitionForm"
    comment_required: bool = False
    # Buttons of transitions that undo or stop work are styled as dangerous.
    danger: bool = False
    notices: tuple[Notice, ...] = ()
    # Customer e-mails (templates under notifications/email/) the transition sends.
    customer_events: tuple[str, ...] = ()
    # What the transition does beyond the order's own row, in the same transaction, after the
    # model's transition body ran: ``hook(order=, user=, comment=)``, dotted paths or callables.
    after: tuple[str | Callable, ...] = ()
    # A button's initial values: field → ``f(order)``.
    initial: dict[str, Callable] = field(default_factory=dict)
    # Fields of the form a page does not ask for (the form's default stands).
    page_hidden: tuple[str, ...] = ()
    desk: DeskAction | None = None
    queue: WorkQueue | None = None
    extra: dict = field(default_factory=dict)


def _joint_review(order) -> bool:
    return order.requires_joint_review


def _requested_date(order) -> datetime.date | None:
    return order.requested_delivery_date


def _today(order) -> datetime.date:
    return timezone.localdate()


def _not_submitted(user) -> Q:
    return Q(submitted_at__isnull=True)


def _submitted(user) -> Q:
    return Q(submitted_at__isnull=False)


# Notification kinds are the values of Notification.Kind (kept as strings here so that
# this module needs no model import).
TRANSITIONS: dict[str, TransitionSpec] = {
    spec.name: spec
    for spec in (
        TransitionSpec(
            "submit", "submit", _("Submit for review"),
            queue=WorkQueue("drafts", _("Your drafts to check and submit"), where=_not_submitted),
            notices=(
                Notice("review_requested", (Role.SALES_MANAGER,)),
                Notice("signoff_requested", (Role.FINANCE_MANAGER, Role.PRODUCTION_SUPERVISOR), when=_joint_review),
            ),
        ),
        TransitionSpec(
            "return", "return_order", _("Return to the assistant"), comment_required=True, danger=True,
            desk=DeskAction("supervision.forms.ReasonForm", _("%(number)s is returned to the assistant.")),
            notices=(Notice("order_returned", (ASSISTANT,)),),
        ),
        TransitionSpec(
            "approve", "approve", _("Approve"), form="ApproveForm",
            initial={"promised_delivery_date": _requested_date},
            desk=DeskAction("supervision.forms.ApproveForm", _("%(number)s is approved.")),
            # finance draws the installments due on approval and before production (the deposit)
            after=("finance.services.invoice_on_approval",),
            queue=WorkQueue("review", _("Waiting for your review"), where=_submitted),
            notices=(Notice("order_approved", (ASSISTANT, Role.PRODUCTION_SUPERVISOR)),),
            customer_events=("confirmed",),
        ),
        TransitionSpec(
            "schedule", "schedule", _("Schedule production"), form="ScheduleForm",
            # an acknowledged overload is kept on the plan (who, why)
            after=("production.services.record_capacity_acknowledgement",),
            queue=WorkQueue("to_plan", _("Approved: plan and schedule")),
            notices=(Notice("order_scheduled", (ASSISTANT, Role.LOGISTICS_SUPERVISOR)),),
            customer_events=("scheduled",),
        ),
        TransitionSpec(
            "start_production", "start_production", _("Start production"),
            queue=WorkQueue("to_start", _("Scheduled: get ready and start")),
            notices=(Notice("production_started", (ASSISTANT,)),),
        ),
        TransitionSpec(
            "ship", "ship", _("Ship"),
            after=("finance.services.invoice_on_shipment",),
            queue=WorkQueue("to_ship", _("Production complete: ship"),
                            where="production.selectors.production_complete_q"),
            notices=(Notice("order_shipped", (ASSISTANT, Role.FINANCE_SPECIALIST)),),
            customer_events=("shipped",),
        ),
        TransitionSpec(
            "accept", "accept", _("Record acceptance"), form="AcceptForm",
            # the survey invitation e-mail carries the questionnaire's link (R6.2); shipments still open
            # are closed as delivered (R3.4); the balance of the terms is invoiced (issue 11)
            after=("feedback.services.open_survey_on_acceptance", "logistics.services.close_open_shipments",
                   "finance.services.invoice_on_acceptance"),
            initial={"signed_on": _today},
            # recording the receipt states that the inspection passed (AcceptForm's default)
            page_hidden=("inspection_passed",),
            queue=WorkQueue("deliveries", _("Delivered: record the customer's acceptance")),
            notices=(Notice("order_accepted", (Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER)),),
            customer_events=("delivered", "survey"),
        ),
        TransitionSpec(
            "reject_delivery", "reject_delivery", _("Reject delivery"), comment_required=True, danger=True,
            # rework: production gets a quality issue, logistics' shipments come back
            after=("production.services.open_rework_issue", "logistics.services.mark_shipments_returned"),
            notices=(Notice("delivery_rejected", (ASSISTANT, Role.PRODUCTION_SUPERVISOR, Role.SALES_MANAGER)),),
        ),
        TransitionSpec(
            "settle", "settle", _("Settle"),
            # no shipment stays "in transit" on a settled order
            after=("logistics.services.close_open_shipments",),
            queue=WorkQueue("to_settle", _("Accepted: invoice, collect and settle")),
            notices=(Notice("order_settled", (ASSISTANT,)),),
        ),
        TransitionSpec(
            "cancel", "cancel", _("Cancel order"), comment_required=True, danger=True,
            desk=DeskAction("supervision.forms.ReasonForm", _("%(number)s is cancelled."), after_submission=False),
            # finance credits what the invoices of a cancelled order still claim
            after=("finance.services.credit_on_cancel",),
            notices=(Notice("order_cancelled", (ASSISTANT, Role.PRODUCTION_SUPERVISOR)),),
        ),
    )
}


def form_class(name: str) -> type:
    """The form class validating the data of transition `name`."""
    from orders import forms as order_forms

    entry = TRANSITIONS.get(name)
    return getattr(order_forms, entry.form if entry else "TransitionForm")


def spec(name: str) -> TransitionSpec | None:
    return TRANSITIONS.get(name)


def label(name: str) -> str:
    """What a person reads for a transition (its public name where it is unknown)."""
    entry = TRANSITIONS.get(name)
    return str(entry.label) if entry else name


# Work that waits on an order in a state without being a transition (shown on the dashboard
# between the transition queues, in lifecycle order).
ACTIVITY_QUEUES: tuple[ActivityQueue, ...] = (
    ActivityQueue("producing", _("In production: report progress"), states=("producing",),
                  roles=frozenset({"production_worker"})),
    ActivityQueue("in_transit", _("Shipped: keep the tracking current"), states=("shipped",),
                  roles=frozenset({"logistics_supervisor", "logistics_specialist"})),
)


def resolve(target):
    """A hook, form or filter named by dotted path (or given as a callable)."""
    return import_string(target) if isinstance(target, str) else target


# --- what the model declares, read once ------------------------------------------------
def _meta(name: str):
    from orders.models import Order

    return getattr(Order, TRANSITIONS[name].method)._django_fsm


@cache
def sources(name: str) -> tuple[str, ...]:
    """The states transition `name` leaves (the model's declaration)."""
    return tuple(str(s) for s in _meta(name).transitions)


@cache
def target(name: str) -> str:
    return str(next(iter(_meta(name).transitions.values())).target)


def keeps_state(name: str) -> bool:
    """Whether the transition leaves the order in the state it was in (submit, return)."""
    return target(name) in sources(name)


# --- what readers ask of the table ---------------------------------------------------------
def run_after(name: str, *, order, user, comment: str) -> None:
    """Run the transition's after-effects (inside the service's transaction)."""
    for hook in TRANSITIONS[name].after:
        resolve(hook)(order=order, user=user, comment=comment)


def initial(name: str, order) -> dict:
    """A button's initial values for `order`."""
    return {key: value(order) for key, value in TRANSITIONS[name].initial.items()}


def done_message(name: str, order) -> str:
    """What a page says once the transition ran (the new state where it changed)."""
    from django.utils.translation import gettext

    if keeps_state(name):
        return gettext("%(action)s: done.") % {"action": label(name)}
    return gettext("%(action)s: done. The order is now “%(state)s”.") % {
        "action": label(name), "state": order.get_state_display(),
    }


def desk_actions() -> dict[str, DeskAction]:
    """The transitions the review desk offers, in lifecycle order."""
    return {name: entry.desk for name, entry in TRANSITIONS.items() if entry.desk is not None}


def work_queues(user_roles: frozenset[str]) -> list[dict]:
    """The dashboard queues of a caller with `user_roles`, in lifecycle order.

    Each: ``key``, ``title``, ``states``, ``own`` (only the caller's own orders: the owner rule)
    and ``where`` (a callable ``where(user) -> Q`` or None). A transition's queue belongs to
    the roles of ``roles.TRANSITION_ROLES`` (its owner entry: sales assistants, their own orders).
    """
    from orderdesk import roles
    from orders.models import State

    found = []
    for position, (name, entry) in enumerate(TRANSITIONS.items()):
        if entry.queue is None:
            continue
        allowed = roles.TRANSITION_ROLES[name]
        by_role = bool(user_roles & (allowed - {OWNER}))
        as_owner = OWNER in allowed and roles.Role.SALES_ASSISTANT in user_roles
        if by_role or as_owner:
            found.append((sources(name), position, entry.queue, not by_role))
    for position, activity in enumerate(ACTIVITY_QUEUES, start=len(TRANSITIONS)):
        if user_roles & activity.roles:
            found.append((activity.states, position, activity, False))
    order = [s.value for s in State]
    found.sort(key=lambda item: (min(order.index(s) for s in item[0]), item[1]))
    return [
        {"key": queue.key, "title": queue.title, "states": states, "own": own,
         "where": resolve(queue.where) if queue.where else None}
        for states, _position, queue, own in found
    ]
