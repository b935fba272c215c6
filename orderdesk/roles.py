"""Roles and what each may do, declared once (DESIGN §3, §4, §5; regulation R3, R5.2).

Every other layer reads from here: the transition declarations on the model
(`permission=`), the transition service, the REST API (403), the pages (which
buttons show), the admin and the tests. The groups themselves are created by the
migration ``orders/migrations/0002_roles`` from :data:`ROLES`.

A user's roles are the names of their Django groups. A superuser (the `admin`
demo user) acts as every role: admins keep the system running and may need to
unblock an order; every transition they run is still checked for its state and
conditions and is recorded under their name. The one thing no role bypasses is
that an order's creator never approves it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SALES_ASSISTANT = "sales_assistant", _("Sales assistant")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    PRODUCTION_SUPERVISOR = "production_supervisor", _("Production supervisor")
    PRODUCTION_WORKER = "production_worker", _("Production worker")
    LOGISTICS_SUPERVISOR = "logistics_supervisor", _("Logistics supervisor")
    LOGISTICS_SPECIALIST = "logistics_specialist", _("Logistics specialist")
    FINANCE_MANAGER = "finance_manager", _("Finance manager")
    FINANCE_SPECIALIST = "finance_specialist", _("Finance specialist")
    AUDITOR = "auditor", _("Auditor")


ROLES: list[str] = [r.value for r in Role]

SALES = frozenset({Role.SALES_ASSISTANT, Role.SALES_MANAGER})
PRODUCTION = frozenset({Role.PRODUCTION_SUPERVISOR, Role.PRODUCTION_WORKER})
LOGISTICS = frozenset({Role.LOGISTICS_SUPERVISOR, Role.LOGISTICS_SPECIALIST})
FINANCE = frozenset({Role.FINANCE_MANAGER, Role.FINANCE_SPECIALIST})

# --- Transitions (DESIGN §4) ----------------------------------------------
# "owner" means: the order's own assistant (Order.assistant), who must also hold
# the sales_assistant role.
OWNER = "owner"

TRANSITION_ROLES: dict[str, frozenset[str]] = {
    "submit": frozenset({OWNER}),
    "return": frozenset({Role.SALES_MANAGER}),
    "approve": frozenset({Role.SALES_MANAGER}),
    "schedule": frozenset({Role.PRODUCTION_SUPERVISOR}),
    "start_production": frozenset({Role.PRODUCTION_SUPERVISOR}),
    "ship": frozenset({Role.LOGISTICS_SUPERVISOR, Role.LOGISTICS_SPECIALIST}),
    "accept": frozenset({OWNER}),
    "reject_delivery": frozenset({OWNER, Role.SALES_MANAGER}),
    "settle": frozenset({Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER}),
    "cancel": frozenset({Role.SALES_MANAGER}),
}

# --- Other actions on an order ----------------------------------------------
ACTION_ROLES: dict[str, frozenset[str]] = {
    # intake (R4.1): assistants enter orders; the manager may too, for a key customer
    "order.create": frozenset({Role.SALES_ASSISTANT, Role.SALES_MANAGER}),
    "order.edit": frozenset({OWNER, Role.SALES_MANAGER}),
    "order.reassign": frozenset({Role.SALES_MANAGER}),
    # the assistant takes a submitted order back before the manager reviews it (not a transition)
    "order.withdraw": frozenset({OWNER}),
    # the promise (R5.3): a new delivery date agreed with the customer, with its reason
    "promise.revise": frozenset({OWNER, Role.SALES_MANAGER}),
    "clarification.manage": frozenset({OWNER, Role.SALES_MANAGER}),
    # the assistant's check (R4.2): contacts with the customer, problems escalated to the manager (R5.1)
    "communication.log": frozenset({OWNER, Role.SALES_MANAGER}),
    "escalation.raise": frozenset({OWNER}),
    "escalation.resolve": frozenset({Role.SALES_MANAGER}),
    # other channels (R4.1): orders imported from a CSV or Excel sheet
    "order.import": frozenset({Role.SALES_ASSISTANT, Role.SALES_MANAGER}),
    # joint review (R4.2): one sign-off from finance, one from production
    "signoff": frozenset({Role.FINANCE_MANAGER, Role.PRODUCTION_SUPERVISOR}),
    # production (R4.3, R4.4)
    "plan.manage": frozenset({Role.PRODUCTION_SUPERVISOR}),
    "progress.report": frozenset({Role.PRODUCTION_SUPERVISOR, Role.PRODUCTION_WORKER}),
    "issue.open": frozenset(
        {OWNER, Role.SALES_MANAGER, Role.PRODUCTION_SUPERVISOR, Role.PRODUCTION_WORKER}
    ),
    "issue.resolve": frozenset({Role.PRODUCTION_SUPERVISOR, Role.SALES_MANAGER}),
    # issue 10 (R4.3, R4.4): the hand-over to production, the workspace, milestones, preparation, exceptions
    "production.handover": frozenset({OWNER, Role.SALES_MANAGER}),
    "production.move": frozenset({Role.PRODUCTION_SUPERVISOR}),
    "production.workspace": frozenset({Role.PRODUCTION_SUPERVISOR, Role.AUDITOR}),
    "production.my": frozenset({Role.PRODUCTION_SUPERVISOR, Role.PRODUCTION_WORKER}),
    # completing a milestone: its responsible person (checked by the service) or a supervisor
    "milestone.complete": frozenset({Role.PRODUCTION_SUPERVISOR, Role.PRODUCTION_WORKER}),
    "milestone.complete_any": frozenset({Role.PRODUCTION_SUPERVISOR}),
    "preparation.manage": frozenset({Role.PRODUCTION_SUPERVISOR}),
    # marking a preparation task ready: its owner (checked by the service) or a supervisor
    "preparation.ready": frozenset({Role.PRODUCTION_SUPERVISOR, Role.PRODUCTION_WORKER}),
    # the customer's message of a production issue: reviewed, edited and sent by the order's assistant
    "issue.message": frozenset({OWNER, Role.SALES_MANAGER}),
    # logistics (R3.4, R4.4)
    "shipment.manage": frozenset({Role.LOGISTICS_SUPERVISOR, Role.LOGISTICS_SPECIALIST}),
    # the logistics workspace (/logistics/): logistics works there, managers and audit look
    "logistics.workspace": frozenset({Role.LOGISTICS_SUPERVISOR, Role.LOGISTICS_SPECIALIST, Role.SALES_MANAGER,
                                      Role.AUDITOR}),
    # finance (R3.5, R4.5)
    "invoice.create": frozenset({Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER}),
    "payment.record": frozenset({Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER}),
    # payment terms are data the finance manager keeps; the deposit gate is theirs to waive (issue 11)
    "terms.manage": frozenset({Role.FINANCE_MANAGER}),
    "deposit.waive": frozenset({Role.FINANCE_MANAGER}),
    "credit_note.create": frozenset({Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER}),
    # receivables (R4.5): finance's workspace; the assistant follows up their own orders' invoices
    "receivables.view": frozenset({Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER, Role.SALES_MANAGER, Role.AUDITOR,
                                   Role.SALES_ASSISTANT}),
    "receivable.follow_up": frozenset({OWNER, Role.SALES_MANAGER, Role.FINANCE_SPECIALIST, Role.FINANCE_MANAGER}),
    # supervision (R6.1)
    "audit.view": frozenset({Role.AUDITOR, Role.SALES_MANAGER}),
    # customer feedback (R6.2): sales take complaints and suggestions, the manager handles them (moves them
    # on, resolves, closes, reopens); what customers say is read by sales, finance and audit
    "feedback.view": frozenset({Role.SALES_ASSISTANT, Role.SALES_MANAGER, Role.FINANCE_MANAGER,
                                Role.FINANCE_SPECIALIST, Role.AUDITOR}),
    "complaint.view_all": frozenset({Role.SALES_MANAGER, Role.AUDITOR}),
    "complaint.record": frozenset({OWNER, Role.SALES_MANAGER}),
    "complaint.handle": frozenset({Role.SALES_MANAGER}),
    # phone follow-ups with a satisfaction score (R6.2)
    "followup.record": frozenset({OWNER, Role.SALES_MANAGER}),
    # the customer's tracking link (R5.3): issued again (the old one revoked) by the assistant or the manager
    "tracking_link.issue": frozenset({OWNER, Role.SALES_MANAGER}),
    # accountability (R6.3): anyone who manages work reports a loss; the sales manager confirms or dismisses it
    "loss.view": frozenset({Role.SALES_MANAGER, Role.AUDITOR, Role.FINANCE_MANAGER}),
    "loss.report": frozenset({Role.SALES_MANAGER, Role.FINANCE_MANAGER}),
    "loss.decide": frozenset({Role.SALES_MANAGER}),
    # review desk and dashboards (issue 4: R3.1, R4.2, R6.1, R6.3)
    "review.desk": frozenset({Role.SALES_MANAGER}),
    "review.view": frozenset({Role.SALES_MANAGER, Role.AUDITOR, Role.FINANCE_MANAGER, Role.PRODUCTION_SUPERVISOR}),
    "team.view": frozenset({Role.SALES_MANAGER, Role.AUDITOR}),
    # KPIs: managers and audit see everyone's; an assistant sees only their own
    "kpi.view": frozenset({Role.SALES_MANAGER, Role.AUDITOR, Role.SALES_ASSISTANT}),
    "kpi.view_all": frozenset({Role.SALES_MANAGER, Role.AUDITOR}),
    "check.view": frozenset({Role.SALES_MANAGER, Role.AUDITOR}),
    "check.manage": frozenset({Role.SALES_MANAGER}),
}

# Actions that only read: the auditor may do these (DESIGN §5: reads everything, changes nothing).
READ_ACTIONS = frozenset({"receivables.view", "audit.view", "review.view", "team.view", "kpi.view", "kpi.view_all",
                          "check.view", "production.workspace", "feedback.view", "complaint.view_all", "loss.view",
                          "logistics.workspace"})

# --- Visibility (DESIGN §5) --------------------------------------------------
SEES_ALL_ORDERS = frozenset({Role.SALES_MANAGER, Role.AUDITOR}) | FINANCE
SEES_TRACKING_URL = SALES


class FieldClass:
    """The four classes of sensitive data (DESIGN §5). Every surface asks :func:`hidden_classes`."""

    PRICE = "price"  # unit prices, line and order amounts, invoices, payments, receivables, losses
    CREDIT = "credit"  # credit limit, exposure, credit override and its reason
    CONTACT = "contact"  # customer contact name, phone, e-mail, delivery address, receipt signer
    INTERNAL = "internal"  # review comments, sign-off comments, escalations, clarifications, talks, checks

    ALL = frozenset({PRICE, CREDIT, CONTACT, INTERNAL})


# Which field classes each role sees (DESIGN §5): production none, logistics contact only,
# sales, finance and audit all. A user sees the union over their roles; a superuser sees all.
CLASSES_SEEN_BY_ROLE: dict[str, frozenset[str]] = {
    Role.SALES_ASSISTANT: FieldClass.ALL,
    Role.SALES_MANAGER: FieldClass.ALL,
    Role.FINANCE_MANAGER: FieldClass.ALL,
    Role.FINANCE_SPECIALIST: FieldClass.ALL,
    Role.AUDITOR: FieldClass.ALL,
    Role.LOGISTICS_SUPERVISOR: frozenset({FieldClass.CONTACT}),
    Role.LOGISTICS_SPECIALIST: frozenset({FieldClass.CONTACT}),
    Role.PRODUCTION_SUPERVISOR: frozenset(),
    Role.PRODUCTION_WORKER: frozenset(),
}


def seen_classes(user) -> frozenset[str]:
    """The field classes the user may see."""
    if user is not None and getattr(user, "is_superuser", False):
        return FieldClass.ALL
    seen: frozenset[str] = frozenset()
    for role in roles_of(user):
        seen |= CLASSES_SEEN_BY_ROLE.get(role, frozenset())
    return seen


def hidden_classes(user) -> frozenset[str]:
    """The field classes hidden from the user: what no surface may show them."""
    return FieldClass.ALL - seen_classes(user)


# --- The field table (DESIGN §5): which field of which record belongs to which class ----------
#: The name standing for "the whole record": the record itself is of the class (its list, its pages,
#: its admin, its API), not just some of its fields.
RECORD = "*"

#: Every sensitive field, by model label, with its class. Besides model fields the table names what
#: surfaces show under a field's name: history pseudo-fields (``"history.<field>"``: an
#: :class:`orders.OrderChange` row whose ``field`` is no model field, e.g. ``lines``, whose value lists
#: unit prices), serializer-only fields (``open_exposure``, ``line_total``) and transition comments
#: (``"transition.<name>"``, see :data:`TRANSITION_COMMENT`).
#:
#: Decided here: the receipt *scan* is contact (the scanned delivery note carries the signer's name and
#: signature and the delivery address); the receipt *reference* is not (a delivery-note number that
#: production and logistics use to find the paper). ``special_terms`` and ``schedule_delay_reason``
#: are not classed: production must read the terms it builds to and the delay it acknowledged.
FIELD_CLASSES: dict[str, dict[str, str]] = {
    "orders.Order": {
        "total_amount": FieldClass.PRICE,
        "payment_terms": FieldClass.PRICE,  # the financial terms (issue 11)
        "history.payment_terms": FieldClass.PRICE,
        "history.deposit_waiver": FieldClass.PRICE,
        "history.lines": FieldClass.PRICE,  # an OrderChange of the lines: "SKU × qty @ unit price; …"
        "history.reassignment_reason": FieldClass.INTERNAL,  # why a manager gave the order to another assistant
        "credit_override_reason": FieldClass.CREDIT,
        "contact_name": FieldClass.CONTACT,
        "contact_phone": FieldClass.CONTACT,
        "delivery_address": FieldClass.CONTACT,
        "receipt_signed_by": FieldClass.CONTACT,
        "receipt_scan": FieldClass.CONTACT,
        # the comments of the review transitions (StateLog.description)
        "transition.submit": FieldClass.INTERNAL,
        "transition.return": FieldClass.INTERNAL,
        "transition.approve": FieldClass.INTERNAL,
        "transition.cancel": FieldClass.INTERNAL,
    },
    "orders.OrderLine": {
        "unit_price": FieldClass.PRICE,
        "line_total": FieldClass.PRICE,  # serializer-only
    },
    "orders.Product": {
        "standard_price": FieldClass.PRICE,
    },
    "orders.Customer": {
        "credit_limit": FieldClass.CREDIT,
        "payment_terms": FieldClass.PRICE,
        "open_exposure": FieldClass.CREDIT,  # serializer-only (annotated)
        "contact_name": FieldClass.CONTACT,
        "contact_phone": FieldClass.CONTACT,
        "email": FieldClass.CONTACT,
        "address": FieldClass.CONTACT,
    },
    "orders.Signoff": {"comment": FieldClass.INTERNAL},
    "orders.Escalation": {RECORD: FieldClass.INTERNAL},
    "orders.Clarification": {RECORD: FieldClass.INTERNAL},
    "orders.Communication": {RECORD: FieldClass.INTERNAL},
    "finance.Invoice": {RECORD: FieldClass.PRICE, "amount": FieldClass.PRICE, "paid_amount": FieldClass.PRICE,
                        "outstanding": FieldClass.PRICE, "credited_amount": FieldClass.PRICE,
                        # receivables (issue 11): serializer-only, the ageing of an open invoice
                        "days_overdue": FieldClass.PRICE, "bucket": FieldClass.PRICE},
    "finance.PaymentTerms": {RECORD: FieldClass.PRICE},
    "finance.Installment": {RECORD: FieldClass.PRICE},
    "finance.CreditNote": {RECORD: FieldClass.PRICE, "amount": FieldClass.PRICE},
    "finance.DepositWaiver": {RECORD: FieldClass.PRICE},
    "finance.FollowUp": {RECORD: FieldClass.PRICE},
    # the receivables report (issue 11) and the KPIs' money figures: price, whatever surface shows them
    "finance.Receivable": {RECORD: FieldClass.PRICE},
    "supervision.Kpi": {"dso_days": FieldClass.PRICE, "overdue_amount": FieldClass.PRICE},
    "finance.Payment": {RECORD: FieldClass.PRICE, "amount": FieldClass.PRICE},
    "supervision.PeriodicCheck": {RECORD: FieldClass.INTERNAL},
    # the hand-over note is the assistant's note on priorities to production: not classed (production
    # must read it); the customer message of an issue is what the customer is sent: not classed either.
    # a transition record's raw comment may be internal (review transitions) or credit (an override's
    # reason): surfaces show it through transition_comment_for(), never the raw column
    "django_fsm_log.StateLog": {"description": FieldClass.INTERNAL},
    "supervision.CheckItem": {RECORD: FieldClass.INTERNAL, "loss_amount": FieldClass.PRICE},
    "supervision.LossIncident": {"amount": FieldClass.PRICE},
    # the customer's own confirmation of receipt names who signed it
    "feedback.ReceiptConfirmation": {"received_by": FieldClass.CONTACT},
    # audit rows of these kinds carry values of a class (amounts, sign-off comments) in before/after/note
    "orderdesk.AuditEntry": {"kind.invoice": FieldClass.PRICE, "kind.payment": FieldClass.PRICE,
                             "kind.loss": FieldClass.PRICE, "kind.signoff": FieldClass.INTERNAL,
                             "kind.check": FieldClass.INTERNAL},
}

#: The history pseudo-field of a transition's comment (``FIELD_CLASSES["orders.Order"]``).
TRANSITION_COMMENT = "transition.{}"

#: The prefix of a history pseudo-field (``FIELD_CLASSES["orders.Order"]["history.lines"]``).
HISTORY_PREFIX = "history."

#: History values of an OrderChange row (``field``) name a field of one of these records.
HISTORY_LABELS = ("orders.Order", "orders.OrderLine", "orders.Customer")


def _label(model_or_label) -> str:
    if isinstance(model_or_label, str):
        return model_or_label
    return model_or_label._meta.label


def hidden_fields(user, model_or_label) -> frozenset[str]:
    """The names of the record's fields the user may not see (with :data:`RECORD` if the whole record)."""
    hidden = hidden_classes(user)
    if not hidden:
        return frozenset()
    table = FIELD_CLASSES.get(_label(model_or_label), {})
    names = frozenset(name for name, cls in table.items() if cls in hidden)
    if RECORD in names:
        # nothing of a hidden record shows: every field of it counts as hidden
        names |= frozenset(table) | _model_field_names(model_or_label)
    return names


def _model_field_names(model_or_label) -> frozenset[str]:
    from django.apps import apps

    try:
        model = apps.get_model(_label(model_or_label))
    except (LookupError, ValueError):
        return frozenset()
    return frozenset(f.name for f in model._meta.get_fields() if not f.auto_created or f.concrete)


def is_hidden(user, model_or_label, field: str) -> bool:
    """Whether one field (or :data:`RECORD`) of the record is hidden from the user."""
    return field in hidden_fields(user, model_or_label)


def is_record_hidden(user, model_or_label) -> bool:
    """Whether the whole record (an escalation, an invoice, a sampled check...) is hidden from the user."""
    return RECORD in hidden_fields(user, model_or_label)


def hidden_transition_comment(user, transition: str, *, credit_override: bool = True) -> bool:
    """Whether the comment of a transition record is hidden from the user.

    The comments of the review transitions are internal; an approval that overrode the credit limit
    gives the override's reason as its comment, so that comment is credit too (``credit_override``:
    whether it did; when a surface does not know, it counts as if it did).
    """
    hidden = hidden_fields(user, "orders.Order")
    if TRANSITION_COMMENT.format(transition) in hidden:
        return True
    return transition == "approve" and credit_override and "credit_override_reason" in hidden


def transition_comment_for(user, transition: str, comment: str | None, *, credit_override: bool = True) -> str:
    """A transition record's comment as the user may read it ("" when hidden). Every history surface uses it."""
    if hidden_transition_comment(user, transition, credit_override=credit_override):
        return ""
    return comment or ""


def history_values_for(user, kind: str, name: str, before: str, after: str, note: str) -> tuple[str, str, str]:
    """One history/audit row's (before, after, note) as the user may read them ("" where hidden).

    ``kind`` "transition" (``name`` the transition, ``note`` its comment) or "change" (``name`` the
    field, ``before``/``after`` its values): what every trail surface (API, pages, CSV) shows.
    """
    if kind == "transition":
        return before, after, transition_comment_for(user, name, note)
    if name in hidden_history_fields(user):
        return "", "", note
    return before, after, note


def audit_values_for(user, kind: str, name: str, before: str, after: str, note: str) -> tuple[str, str, str]:
    """An audit-trail row's (before, after, note) as the user may read them: transitions and field changes as
    :func:`history_values_for`, other kinds hidden whole when their kind is of a hidden class
    (``FIELD_CLASSES["orderdesk.AuditEntry"]``)."""
    if kind in ("transition", "change"):
        return history_values_for(user, kind, name, before, after, note)
    if f"kind.{kind}" in hidden_fields(user, "orderdesk.AuditEntry"):
        return "", "", ""
    return before, after, note


def hidden_history_fields(user) -> frozenset[str]:
    """The OrderChange ``field`` names whose values the user may not see (order, line and customer fields)."""
    names: set[str] = set()
    for label in HISTORY_LABELS:
        for name in hidden_fields(user, label) - {RECORD}:
            names.add(name.removeprefix(HISTORY_PREFIX))
    return frozenset(names)


def page_visibility(user) -> dict:
    """The flags the page templates read (``sees_prices`` ..., ``sees.<record>``), all from the table above."""
    return {
        "sees_prices": FieldClass.PRICE not in hidden_classes(user),
        "sees_credit": FieldClass.CREDIT not in hidden_classes(user),
        "sees_contact": FieldClass.CONTACT not in hidden_classes(user),
        "sees_internal": FieldClass.INTERNAL not in hidden_classes(user),
        "sees_tracking_url": sees_tracking_url(user),
        "sees": {
            "communications": not is_record_hidden(user, "orders.Communication"),
            "clarifications": not is_record_hidden(user, "orders.Clarification"),
            "escalations": not is_record_hidden(user, "orders.Escalation"),
            "invoices": not is_record_hidden(user, "finance.Invoice"),
            "checks": not is_record_hidden(user, "supervision.PeriodicCheck"),
            "signoff_comments": not is_hidden(user, "orders.Signoff", "comment"),
            "credit_override": not is_hidden(user, "orders.Order", "credit_override_reason"),
        },
    }


# Kept as named sets for the querysets that filter on them (derived from the table above).
SEES_PRICES = frozenset(r for r, seen in CLASSES_SEEN_BY_ROLE.items() if FieldClass.PRICE in seen)
SEES_CREDIT = frozenset(r for r, seen in CLASSES_SEEN_BY_ROLE.items() if FieldClass.CREDIT in seen)
SEES_CUSTOMER_CONTACT = frozenset(r for r, seen in CLASSES_SEEN_BY_ROLE.items() if FieldClass.CONTACT in seen)
READ_ONLY = frozenset({Role.AUDITOR})

# States from which each department sees orders.
PRODUCTION_VISIBLE_STATES = ("reviewed", "scheduled", "producing", "shipped", "accepted", "settled")
LOGISTICS_VISIBLE_STATES = ("scheduled", "producing", "shipped", "accepted", "settled")


def roles_of(user) -> frozenset[str]:
    """The role names of a user (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_orderdesk_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(ROLES)
        else:
            cached = frozenset(user.groups.values_list("name", flat=True))
        user._orderdesk_roles = cached
    return cached


def remember_roles(user, names) -> None:
    """Keep on the user the group names read with it (:func:`role_names_subquery`): what :func:`roles_of` would
    read, by the same rule (a superuser holds every role)."""
    user._orderdesk_roles = frozenset(ROLES) if user.is_superuser else frozenset(n for n in names or () if n)


def role_names_subquery(user_ref: str = "pk"):
    """The names of the groups of the user at ``OuterRef(user_ref)``, as one array column (PostgreSQL), to read
    a user and their roles in one query; None on other databases (:func:`roles_of` then asks)."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.models import OuterRef

    if connection.vendor != "postgresql":
        return None
    from django.contrib.postgres.expressions import ArraySubquery

    return ArraySubquery(Group.objects.filter(user=OuterRef(user_ref)).order_by().values("name"))


def has_role(user, *names: str) -> bool:
    return bool(roles_of(user) & set(names))


def _allowed(user, allowed: frozenset[str], order=None) -> bool:
    roles = roles_of(user)
    if roles & (allowed - {OWNER}):
        return True
    if OWNER in allowed and user.is_superuser:
        return True
    if OWNER in allowed and order is not None and Role.SALES_ASSISTANT in roles:
        return order.assistant_id == user.pk
    if OWNER in allowed and order is None and Role.SALES_ASSISTANT in roles:
        # "may do this to some order": the caller owns orders of their own.
        return True
    return False


def may_transition(user, name: str, order=None) -> bool:
    """Whether the user's role allows the transition (state and conditions aside)."""
    return _allowed(user, TRANSITION_ROLES.get(name, frozenset()), order)


def may(user, action: str, order=None) -> bool:
    """Whether the user's role allows a non-transition action (see ACTION_ROLES)."""
    if Role.AUDITOR in roles_of(user) and not user.is_superuser:
        # the auditor reads everything and changes nothing (DESIGN §5)
        if action not in READ_ACTIONS:
            return False
    return _allowed(user, ACTION_ROLES[action], order)


def transition_permission(name: str):
    """A django-fsm `permission=` callable for the transition `name`."""

    def check(instance, user) -> bool:
        return may_transition(user, name, instance)

    check.__name__ = f"may_{name}"
    return check


def sees_prices(user) -> bool:
    return FieldClass.PRICE not in hidden_classes(user)


def sees_credit(user) -> bool:
    return FieldClass.CREDIT not in hidden_classes(user)


def sees_customer_contact(user) -> bool:
    return FieldClass.CONTACT not in hidden_classes(user)


def sees_internal(user) -> bool:
    return FieldClass.INTERNAL not in hidden_classes(user)


def sees_tracking_url(user) -> bool:
    return bool(roles_of(user) & SEES_TRACKING_URL)


def is_read_only(user) -> bool:
    roles = roles_of(user)
    return not user.is_superuser and bool(roles) and roles <= READ_ONLY
