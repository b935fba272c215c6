"""The lifecycle's registry: one entry per transition (DESIGN §4), read by every layer.

The state machine itself (source, target, conditions, permission) is declared on
:class:`orders.models.Order` with django-fsm-2. Everything else a transition
means to the people using it lives here, once: its label, the form of the data it
takes, whether its comment is required, how its button looks, who is told and
which e-mail the customer receives. The transition service, the pages, the admin,
the API and the notifications all read this table; nothing repeats it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise
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
    extra: dict = field(default_factory=dict)


def _joint_review(order) -> bool:
    return order.requires_joint_review


# Notification kinds are the values of Notification.Kind (kept as strings here so that
# this module needs no model import).
TRANSITIONS: dict[str, TransitionSpec] = {
    spec.name: spec
    for spec in (
        TransitionSpec(
            "submit", "submit", _("Submit for review"),
            notices=(
                Notice("review_requested", (Role.SALES_MANAGER,)),
                Notice("signoff_requested", (Role.FINANCE_MANAGER, Role.PRODUCTION_SUPERVISOR), when=_joint_review),
            ),
        ),
        TransitionSpec(
            "return", "return_order", _("Return to the assistant"), comment_required=True, danger=True,
            notices=(Notice("order_returned", (ASSISTANT,)),),
        ),
        TransitionSpec(
            "approve", "approve", _("Approve"), form="ApproveForm",
            notices=(Notice("order_approved", (ASSISTANT, Role.PRODUCTION_SUPERVISOR)),),
            customer_events=("confirmed",),
        ),
        TransitionSpec(
            "schedule", "schedule", _("Schedule production"), form="ScheduleForm",
            notices=(Notice("order_scheduled", (ASSISTANT, Role.LOGISTICS_SUPERVISOR)),),
            customer_events=("scheduled",),
        ),
        TransitionSpec(
            "start_production", "start_production", _("Start production"),
            notices=(Notice("production_started", (ASSISTANT,)),),
        ),
        TransitionSpec(
            "ship", "ship", _("Ship"),
            notices=(Notice("order_shipped", (ASSISTANT, Role.FINANCE_SPECIALIST)),),
            customer_events=("shipped",),
        ),
        TransitionSpec(
            "accept", "accept", _("Record acceptance"), form="AcceptForm",
            notices=(Notice("order_accepted", (Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER)),),
            customer_events=("delivered", "survey"),
        ),
        TransitionSpec(
            "reject_delivery", "reject_delivery", _("Reject delivery"), comment_required=True, danger=True,
            notices=(Notice("delivery_rejected", (ASSISTANT, Role.PRODUCTION_SUPERVISOR, Role.SALES_MANAGER)),),
        ),
        TransitionSpec(
            "settle", "settle", _("Settle"),
            notices=(Notice("order_settled", (ASSISTANT,)),),
        ),
        TransitionSpec(
            "cancel", "cancel", _("Cancel order"), comment_required=True, danger=True,
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
