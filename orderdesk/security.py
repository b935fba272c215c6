"""The answer to a locked-out login (django-axes, issue 9).

The login page and the admin login render ``registration/locked_out.html``; the
API answers JSON like every other API error: 429, ``{"detail", "code": "locked_out"}``
and a ``Retry-After`` header (seconds of the cool-off).
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _, ngettext


def _cooloff_minutes() -> int:
    cooloff = settings.AXES_COOLOFF_TIME
    return max(1, int(cooloff.total_seconds() // 60)) if cooloff else 0


def lockout_message() -> str:
    minutes = _cooloff_minutes()
    limit = settings.AXES_FAILURE_LIMIT
    failures = ngettext(
        "This account is locked after %(limit)d failed login.",
        "This account is locked after %(limit)d failed logins.",
        limit,
    ) % {"limit": limit}
    if not minutes:
        return failures + " " + _("Ask an administrator to unlock it.")
    wait = ngettext(
        "Try again in %(minutes)d minute or ask an administrator to unlock it.",
        "Try again in %(minutes)d minutes or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}
    return failures + " " + wait


def lockout_response(request, original_response=None, credentials=None):
    status = settings.AXES_HTTP_RESPONSE_CODE
    message = lockout_message()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "code": "locked_out"}, status=status)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=status)
    if settings.AXES_COOLOFF_TIME:
        response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
