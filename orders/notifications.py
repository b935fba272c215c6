"""Who is told what when an order moves (R3.2, R4.4: information flows between departments).

Writes the in-app notification rows of DESIGN §6. Run by the Celery task
:func:`orders.tasks.notify_transition` after the transition has committed, so a
rolled-back transition tells no one. Each row has a dedupe key, so a retried
task never writes the same notification twice.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from orderdesk.roles import Role
from orders.models import Notification, Order

User = get_user_model()
Kind = Notification.Kind


def users_with_role(*names: str):
    return list(User.objects.filter(is_active=True, groups__name__in=names).distinct())


def _recipients_for(order: Order, name: str) -> list[tuple[str, list]]:
    """(kind, users) pairs for a transition."""
    assistant = [order.assistant]
    if name == "submit":
        pairs = [(Kind.REVIEW_REQUESTED, users_with_role(Role.SALES_MANAGER))]
        if order.requires_joint_review:
            pairs.append(
                (Kind.SIGNOFF_REQUESTED, users_with_role(Role.FINANCE_MANAGER, Role.PRODUCTION_SUPERVISOR))
            )
        return pairs
    table = {
        "return": [(Kind.ORDER_RETURNED, assistant)],
        "approve": [(Kind.ORDER_APPROVED, assistant + users_with_role(Role.PRODUCTION_SUPERVISOR))],
        "schedule": [(Kind.ORDER_SCHEDULED, assistant + users_with_role(Role.LOGISTICS_SUPERVISOR))],
        "start_production": [(Kind.PRODUCTION_STARTED, assistant)],
        "ship": [(Kind.ORDER_SHIPPED, assistant + users_with_role(Role.FINANCE_SPECIALIST))],
        "accept": [(Kind.ORDER_ACCEPTED, users_with_role(Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER))],
        "reject_delivery": [
            (Kind.DELIVERY_REJECTED, assistant + users_with_role(Role.PRODUCTION_SUPERVISOR, Role.SALES_MANAGER))
        ],
        "settle": [(Kind.ORDER_SETTLED, assistant)],
        "cancel": [(Kind.ORDER_CANCELLED, assistant + users_with_role(Role.PRODUCTION_SUPERVISOR))],
    }
    return table.get(name, [])


def _message(kind: str, order: Order, actor_name: str) -> str:
    messages = {
        Kind.REVIEW_REQUESTED: _("Order %(number)s was submitted for review by %(actor)s."),
        Kind.SIGNOFF_REQUESTED: _("Order %(number)s needs your joint-review sign-off."),
        Kind.ORDER_RETURNED: _("Order %(number)s was returned by %(actor)s."),
        Kind.ORDER_APPROVED: _("Order %(number)s was approved by %(actor)s."),
        Kind.ORDER_SCHEDULED: _("Order %(number)s was scheduled for production."),
        Kind.PRODUCTION_STARTED: _("Production of order %(number)s has started."),
        Kind.ORDER_SHIPPED: _("Order %(number)s was shipped."),
        Kind.ORDER_ACCEPTED: _("Order %(number)s was accepted by the customer."),
        Kind.DELIVERY_REJECTED: _("The delivery of order %(number)s was rejected; rework is needed."),
        Kind.ORDER_SETTLED: _("Order %(number)s is settled."),
        Kind.ORDER_CANCELLED: _("Order %(number)s was cancelled."),
        Kind.ORDER_OVERDUE: _("Order %(number)s is past its promised delivery date."),
    }
    return messages[kind] % {"number": order.number, "actor": actor_name}


def notify(*, kind: str, order: Order | None, users, dedupe: str, actor=None) -> int:
    """Write one notification per user (skipping the actor); returns how many were new."""
    created = 0
    with translation.override(settings.LANGUAGE_CODE):
        actor_name = (actor.get_full_name() or actor.username) if actor is not None else ""
        message = _message(kind, order, actor_name)
    for user in {u.pk: u for u in users}.values():
        if actor is not None and user.pk == actor.pk:
            continue
        try:
            with transaction.atomic():
                Notification.objects.create(
                    user=user, kind=kind, order=order, message=message, dedupe_key=f"{dedupe}:{kind}:{user.pk}"
                )
            created += 1
        except IntegrityError:  # already written by an earlier try
            continue
    return created


def notify_transition(*, log_id: int | None, order_id: int, name: str, actor_id: int | None) -> int:
    order = Order.objects.select_related("assistant").filter(pk=order_id).first()
    if order is None:
        return 0
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    dedupe = f"transition:{log_id or f'{order_id}:{name}'}"
    return sum(
        notify(kind=kind, order=order, users=users, dedupe=dedupe, actor=actor)
        for kind, users in _recipients_for(order, name)
    )
