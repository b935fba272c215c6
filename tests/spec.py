"""The actors of the tests and DESIGN §5's scope (who sees which orders).

DESIGN §4's lifecycle table (who, from → to) is written out in the matrix test
itself (``tests/orders/test_transition_matrix.py``), independent of
``orderdesk.roles.TRANSITION_ROLES`` and the model.
"""

from __future__ import annotations

from orderdesk import roles
from orderdesk.roles import ROLES, Role

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
