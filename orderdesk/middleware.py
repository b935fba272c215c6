"""A database that stays busy past its timeout is a lost race (409), never a 500.

On the embedded SQLite default a write waits up to the busy timeout for the
write lock (IMMEDIATE transactions); under a burst on a multi-worker server it
can still give up with "database is locked". The API's exception handler turns
that into a 409 for its views; this middleware does the same for pages, the
admin and anything else, after the transaction has rolled back (nothing written).
"""

from __future__ import annotations

import logging

from django.db import OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def is_lock_timeout(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and "locked" in str(exc).lower()


class LockTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_lock_timeout(exception):
            return None
        logger.warning("lost a database race on %s: %s", request.path, exception)
        message = _("Someone else is changing this right now; try again in a moment.")
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "conflict"}, status=409)
        return render(request, "409.html", {"message": message}, status=409)
