"""DRF throttles whose rates come from ``settings.API_THROTTLE_RATES`` at each request.

DRF's own classes copy ``DEFAULT_THROTTLE_RATES`` when they are defined, so a
changed setting (a test, an operator's override) would not reach them; these read
the setting when a request comes. A throttled request answers 429 with the usual
JSON error (``detail``, ``code: "throttled"``) and a ``Retry-After`` header.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import throttling


class _SettingsRate:
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(_SettingsRate, throttling.AnonRateThrottle):
    """Anonymous callers, per IP address (scope ``anon``)."""


class UserRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    """Signed-in callers, per user (scope ``user``)."""


class TokenEndpointThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """``POST /api/v1/auth/token/``, per IP address whoever asks (scope ``token``)."""

    scope = "token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
