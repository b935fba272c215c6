"""API plumbing shared by every app: pagination and uniform JSON errors.

Every error answer is JSON with ``detail`` and a stable ``code``; validation
errors add ``errors`` (field → messages), unmet transition conditions add
``unmet`` ([{code, message}]). Service errors (:mod:`orderdesk.errors`) map to
their status; a lost race (ConcurrentTransition or a database serialization
failure) is a 409, never a 500.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from orderdesk.errors import ConditionsUnmet, ServiceError

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _first_code(detail) -> str:
    codes = detail
    while isinstance(codes, (list, dict)):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes) if codes else "invalid"


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        body = {"detail": str(exc.detail), "code": exc.code}
        if exc.errors:
            body["errors"] = exc.errors
        if isinstance(exc, ConditionsUnmet):
            body["unmet"] = exc.unmet
        return Response(body, status=exc.status)
    if isinstance(exc, (ConcurrentTransition, TransitionNotAllowed)):
        return Response({"detail": "The order changed meanwhile; reload and try again.", "code": "conflict"},
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, OperationalError) and "lock" in str(exc).lower():
        logger.warning("lost a database race: %s", exc)
        return Response({"detail": "The order is busy; try again.", "code": "conflict"},
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "Invalid input.", "code": "invalid", "errors": response.data}
        return response
    data = response.data if isinstance(response.data, dict) else {"detail": response.data}
    detail = data.get("detail", "")
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    response.data = {**data, "detail": str(detail), "code": str(code)}
    return response
