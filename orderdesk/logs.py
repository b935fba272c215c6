"""Structured logs (issue 9): a request id on every log line of a request.

:class:`RequestIdMiddleware` takes ``X-Request-ID`` from the proxy (when it looks
sane) or makes one, keeps it in a context variable for the request and returns it
in the response header; :class:`RequestIdFilter` puts it on every log record as
``request_id`` (``-`` outside a request, e.g. on the worker). The JSON formatter is
python-json-logger's (settings ``LOGGING``; ``LOG_FORMAT=json|text``).
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request logs the response after the middleware returned: it passes the request
            record.request_id = getattr(getattr(record, "request", None), "request_id", None) or request_id_var.get()
        return True


class RequestIdMiddleware:
    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(self.header, "")
        request_id = given if _SANE.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[self.header] = request_id
        return response
