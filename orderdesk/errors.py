"""Errors raised by services, each with an HTTP status and a stable code.

Services raise these; the API's exception handler (:mod:`orderdesk.api`) and the
pages turn them into answers. A service raising one has changed nothing: every
service runs in one transaction.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    status = 400
    code = "invalid"
    default_detail = _("Invalid input.")

    def __init__(self, detail=None, *, code: str | None = None, errors: dict | None = None):
        self.detail = detail or self.default_detail
        if code:
            self.code = code
        self.errors = errors or {}
        super().__init__(str(self.detail))


class InvalidInput(ServiceError):
    """Bad values: ``errors`` maps each field to its messages."""


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    default_detail = _("Not found.")


class Forbidden(ServiceError):
    status = 403
    code = "permission_denied"
    default_detail = _("Your role may not do this.")


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    default_detail = _("The order changed meanwhile or is not in a state that allows this.")


class ConditionsUnmet(ServiceError):
    """A transition's conditions do not hold; ``unmet`` lists each as {code, message}."""

    code = "conditions_unmet"
    default_detail = _("The transition's conditions are not met.")

    def __init__(self, unmet: list[dict], detail=None):
        self.unmet = unmet
        super().__init__(detail)
