"""A rule of who may do what to an order, and when, written once (issue 8).

A department writes each rule as one *check*: a function that raises :class:`~orderdesk.errors.Forbidden`
(the caller's role may not, 403) or :class:`~orderdesk.errors.Conflict` (not in the order's present state,
409) and returns nothing when the action is open. Its service calls the check under the order's row lock;
its order-page panel asks the same check through :func:`allows` whether to offer the form, and the form's
POST view runs it first, so a wrong role gets 403 before any typed value is looked at.
"""

from __future__ import annotations

from collections.abc import Callable

from orderdesk.errors import Conflict, Forbidden


def allows(check: Callable[..., None]) -> Callable[..., bool]:
    """The check as a predicate: ``allows(check)(user, order)`` is True when the check passes."""

    def predicate(*args, **kwargs) -> bool:
        try:
            check(*args, **kwargs)
        except (Forbidden, Conflict):
            return False
        return True

    predicate.__name__ = f"may_{check.__name__.removeprefix('check_')}"
    predicate.__doc__ = f"True when :func:`{check.__name__}` passes."
    return predicate
