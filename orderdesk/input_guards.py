"""Input that PostgreSQL or Python cannot take is refused at the door with a 400, never a 500 (issue 9).

* :class:`NulByteMiddleware` — a NUL byte (``\\x00``) in the path, the query string or a form-encoded body
  is refused: PostgreSQL refuses NUL in text, so ``/orders/?q=%00`` used to answer 500 (page, CSV, XLSX,
  API filters alike). Form and serializer ``CharField`` s refuse NUL too (Django's and DRF's
  ``ProhibitNullCharactersValidator``); this covers what never reaches a form (filters, searches).
  It also answers Django's ``RequestDataTooBig`` (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, which
  Django applies to ``request.body`` and forms, and DRF's JSON parsing reads ``request.body``) as the
  API's JSON 400 (``too_large``) instead of the HTML error page.
* :class:`LimitedJSONParser` — DRF's JSON parser with three limits: the body at most
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (again, should a DRF version read the stream itself), nesting at most :data:`MAX_JSON_DEPTH` levels
  (Python's decoder recurses: a deep ``[[[[…`` body was a RecursionError), and no NUL in any string
  (JSON fields go to PostgreSQL as they are). Each refusal is a ``ParseError`` (400) with a stable code.
"""

from __future__ import annotations

import codecs
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _, gettext_lazy
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json

MAX_JSON_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")

NUL_MESSAGE = gettext_lazy("The request contains a NUL character (\\0), which is not allowed in text.")


def has_nul(value) -> bool:
    """Whether a decoded JSON value holds a NUL in any string (keys included)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped), without recursion."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class LimitedJSONParser(JSONParser):
    max_depth = MAX_JSON_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1 if limit is not None else -1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise ParseError(_("The request body is too large (at most %(n)s bytes).") % {"n": limit},
                             code="too_large")
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(_("The request body is not valid %(encoding)s text.") % {"encoding": encoding},
                             code="invalid_json") from None
        if json_depth(text) > self.max_depth:
            raise ParseError(_("The JSON body is nested too deeply (at most %(n)s levels).") % {"n": self.max_depth},
                             code="invalid_json")
        try:
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            data = json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:  # DRF's own message and code (parse_error) for bad JSON
            raise ParseError(f"JSON parse error - {exc}") from None
        if has_nul(data):
            raise ParseError(NUL_MESSAGE, code="nul_character")
        return data


class NulByteMiddleware:
    """Refuse a NUL byte in the path, the query string or a form-encoded body with a 400; a too large
    API body is the API's JSON 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": str(NUL_MESSAGE), "code": "nul_character"}, status=400)
            return render(request, "400.html", {"message": NUL_MESSAGE}, status=400)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig) and request.path.startswith("/api/"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return JsonResponse({"detail": _("The request body is too large (at most %(n)s bytes).") % {"n": limit},
                                 "code": "too_large"}, status=400)
        return None

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.path or any(
            "\x00" in k or any("\x00" in v for v in values) for k, values in request.GET.lists()
        ):
            return True
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if request.method == "POST" and content_type == "application/x-www-form-urlencoded":
            # request.POST applies DATA_UPLOAD_MAX_MEMORY_SIZE itself (a too large body is Django's 400)
            return any("\x00" in k or any("\x00" in v for v in values) for k, values in request.POST.lists())
        return False


#: The parsers of a view that receives a file (a transition carrying a receipt scan): JSON as
#: everywhere, plus multipart for the file. Every other view parses JSON only (DEFAULT_PARSER_CLASSES).
def upload_parsers() -> list:
    from rest_framework.parsers import MultiPartParser

    return [LimitedJSONParser, MultiPartParser]
