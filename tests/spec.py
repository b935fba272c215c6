"""The expectations of DESIGN §4 and §5, written out for the tests.

The lifecycle table is copied from DESIGN §4 (the spec), independently of the
model's declarations, so a transition declared with the wrong source or target
fails the tests. Who may run what and who sees which states are read from
:mod:`orderdesk.roles` (declared once; the tests read it from there).
"""

from __future__ import annotations

from orderdesk import roles
from orderdesk.roles import OWNER, ROLES, TRANSITION_ROLES, Role

# DESIGN §4: transition → (source states, target state)
LIFECYCLE: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"received"}), "received"),
    "return": (frozenset({"received"}), "received"),
    "approve": (frozenset({"received"}), "reviewed"),
    "schedule": (frozenset({"reviewed"}), "scheduled"),
    "start_production": (frozenset({"scheduled"}), "producing"),
    "ship": (frozenset({"producing"}), "shipped"),
    "accept": (frozenset({"shipped"}), "accepted"),
    "reject_delivery": (frozenset({"shipped"}), "producing"),
    "settle": (frozenset({"accepted"}), "settled"),
    "cancel": (frozenset({"received", "reviewed", "scheduled"}), "cancelled"),
}

# The actors of the matrix: every role, the sales_assistant role split into the
# order's own assistant and another one, and the superuser.
OWNER_ASSISTANT = "owner_assistant"
OTHER_ASSISTANT = "other_assistant"
SUPERUSER = "superuser"
ACTORS: list[str] = [OWNER_ASSISTANT, OTHER_ASSISTANT] + [r for r in ROLES if r != Role.SALES_ASSISTANT] + [SUPERUSER]


def actor_roles(actor: str) -> frozenset[str]:
    if actor in (OWNER_ASSISTANT, OTHER_ASSISTANT):
        return frozenset({Role.SALES_ASSISTANT.value})
    if actor == SUPERUSER:
        return frozenset(ROLES)
    return frozenset({actor})


def sees(actor: str, state: str, *, awaits_signoff: bool = False) -> bool:
    """DESIGN §5: may the actor see an order in `state` (404 otherwise)?"""
    if actor == OWNER_ASSISTANT or actor == SUPERUSER:
        return True
    if actor == OTHER_ASSISTANT:
        return False
    if actor in roles.SEES_ALL_ORDERS:
        return True
    if actor in roles.PRODUCTION:
        if state in roles.PRODUCTION_VISIBLE_STATES:
            return True
        return awaits_signoff and actor == Role.PRODUCTION_SUPERVISOR
    if actor in roles.LOGISTICS:
        return state in roles.LOGISTICS_VISIBLE_STATES
    return False


def role_allows(actor: str, name: str) -> bool:
    """TRANSITION_ROLES with the owner rule (the owner must be the order's own assistant)."""
    allowed = TRANSITION_ROLES[name]
    if actor_roles(actor) & (allowed - {OWNER}):
        return True
    # the superuser acts as every role, the order's owner included (orderdesk/roles.py)
    return OWNER in allowed and actor in (OWNER_ASSISTANT, SUPERUSER)


def expected_status(actor: str, name: str, state: str) -> int:
    """What `POST /orders/{id}/transitions/{name}/` must answer, its conditions being met."""
    if not sees(actor, state):
        return 404
    if actor == Role.AUDITOR:
        return 403  # read-only, whatever the state
    if not role_allows(actor, name):
        return 403
    sources, _target = LIFECYCLE[name]
    if state not in sources:
        return 409
    return 200
