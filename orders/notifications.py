"""Who is told what when an order moves (R3.2, R4.4: information flows between departments).

:func:`notify_transition` is called by :func:`orders.services.run_transition`
inside the transition's transaction: the in-app rows and the outbox e-mails
(staff and customer) commit together with the state change, and only the
sending is queued after commit (:mod:`notifications.services`). Each row has a
dedupe key, so a re-run never writes the same notification twice.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from notifications import services as delivery
from orderdesk.roles import Role
from orders.models import Notification, Order

User = get_user_model()
Kind = Notification.Kind


def users_with_role(*names: str):
    return list(User.objects.filter(is_active=True, groups__name__in=names).distinct())


def _recipients_for(order: Order, name: str) -> list[tuple[str, list]]:
    """(kind, users) pairs for a transition, as the lifecycle registry declares them."""
    from orders import lifecycle

    entry = lifecycle.spec(name)
    pairs = []
    for notice in entry.notices if entry else ():
        if notice.when is not None and not notice.when(order):
            continue
        users = [order.assistant] if lifecycle.ASSISTANT in notice.audience else []
        roles_named = [r for r in notice.audience if r != lifecycle.ASSISTANT]
        if roles_named:
            users += users_with_role(*roles_named)
        pairs.append((notice.kind, users))
    return pairs


def _message(kind: str, order: Order | None, actor_name: str = "", **extra) -> str:
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
        Kind.ISSUE_OPENED: _("A %(issue)s issue was opened on order %(number)s: %(description)s"),
        Kind.ORDER_OVERDUE: _("Order %(number)s is past its promised delivery date."),
        Kind.ORDER_AT_RISK: _("Order %(number)s is at risk: %(reason)s"),
        Kind.ORDER_STALE: _("No progress has been reported on order %(number)s for %(days)s days."),
        Kind.PAYMENT_OVERDUE: _("An invoice of order %(number)s is past its due date and unpaid."),
        Kind.REVIEW_WAITING: _("Order %(number)s has been waiting for review for more than %(hours)s hours."),
        Kind.ALERT_ESCALATED: _(
            "Unresolved for more than %(hours)s hours on order %(number)s: %(alert)s. Please step in."
        ),
    }
    return messages[kind] % {"number": order.number if order else "", "actor": actor_name, **extra}


def message_for(kind: str, order: Order | None, actor=None, **extra) -> str:
    """The in-app message, in the site's language (notifications are shared records)."""
    with translation.override(settings.LANGUAGE_CODE):
        actor_name = (actor.get_full_name() or actor.username) if actor is not None else ""
        return _message(kind, order, actor_name, **{k: str(v) for k, v in extra.items()})


def notify(*, kind: str, order: Order | None, users, dedupe: str, actor=None, **extra) -> int:
    """Tell `users` (skipping the actor), in the app and by e-mail per their preferences; returns how many were new."""
    return delivery.notify(
        kind=kind, order=order, users=users, dedupe=dedupe, actor=actor,
        message=message_for(kind, order, actor, **extra),
    )


@transaction.atomic
def notify_transition(*, log_id: int | None, order_id: int, name: str, actor_id: int | None) -> int:
    """Everyone's notifications of one transition, staff and customer (idempotent per transition record)."""
    order = Order.objects.select_related("assistant", "customer").filter(pk=order_id).first()
    if order is None:
        return 0
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    dedupe = f"transition:{log_id or f'{order_id}:{name}'}"
    created = sum(
        notify(kind=kind, order=order, users=users, dedupe=dedupe, actor=actor)
        for kind, users in _recipients_for(order, name)
    )
    delivery.notify_transition_customer(order=order, name=name, dedupe=dedupe)
    return created


def notify_issue(*, issue) -> int:
    """A production issue: the assistant and the sales managers are told; a delay is also explained
    to the customer (R4.4)."""
    order = Order.objects.select_related("assistant", "customer").get(pk=issue.order_id)
    dedupe = f"issue:{issue.pk}"
    created = notify(
        kind=Kind.ISSUE_OPENED, order=order, users=[order.assistant, *users_with_role(Role.SALES_MANAGER)],
        dedupe=dedupe, actor=issue.opened_by, issue=issue.get_kind_display(), description=issue.description,
    )
    if issue.kind == "delay":
        delivery.notify_customer(order=order, event="delayed", dedupe=dedupe, context={"issue": issue})
    return created
