"""DRF throttles whose rates come from ``settings.API_THROTTLE_RATES`` at each request.

DRF's own classes copy ``DEFAULT_THROTTLE_RATES`` when they are defined, so a
changed setting (a test, an operator's override) would not reach them; these read
the setting when a request comes. A throttled request answers 429 with the usual
JSON error (``detail``, ``code: "throttled"``) and a ``Retry-After`` header.

Decision (issue 14): a sliding-window *counter* instead of DRF's log of every request's time. DRF keeps, per
caller, the list of the times of all their requests within the period and reads and writes it whole at each
request: at 1,200 requests a minute that is a list of 1,200 floats pickled to the cache and back per request
(measured 0.3 ms per API request in process, growing with the rate). Here each caller's entry holds three
numbers: the current fixed window (``duration`` long), its count and the previous window's count; a request is
allowed while ``previous × (the share of the previous window still inside the sliding period) + current`` is
under the rate. Within the first window this counts exactly (the 4th request of ``3/minute`` is refused); across
windows it is the usual weighted estimate. On Redis (``orderdesk.cache.RedisCache``) each window is a counter
of its own, counted up and read with the previous one in one round trip, exact under concurrency; on any other
cache (the quick start's local memory) the three numbers are read and written (two calls, with the same race as
DRF's between two simultaneous requests of one caller).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import throttling


class _SettingsRate:
    """The rate from the settings at each request, counted by a sliding-window counter (module docstring)."""

    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        share = 1 - (now - window * self.duration) / self.duration  # of the previous window still counted
        redis = getattr(self.cache, "raw_client", None)
        if redis is not None:
            return self._allow_on_redis(redis(), now, window, share)
        entry = self.cache.get(self.key)
        start, current, previous = entry if isinstance(entry, tuple) and len(entry) == 3 else (window, 0, 0)
        if start != window:
            previous, current = (current if start == window - 1 else 0), 0
        if previous * share + current >= self.num_requests:
            self._retry_after = self._retry(now, window, current, previous)
            return self.throttle_failure()
        self.cache.set(self.key, (window, current + 1, previous), 2 * self.duration)
        return True

    def _allow_on_redis(self, client, now: float, window: int, share: float) -> bool:
        """The same count on Redis in one round trip: a counter per window (``INCR``, expiring after two windows)
        and the previous window's, read together; a refused request takes its count back (``DECR``), so only
        allowed requests count, as on any other cache."""
        base = self.cache.make_and_validate_key(self.key)
        current_key = f"{base}:w{window}"
        pipe = client.pipeline(transaction=False)
        pipe.incr(current_key)
        pipe.expire(current_key, 2 * self.duration)
        pipe.get(f"{base}:w{window - 1}")
        counted, _expiry, previous = pipe.execute()
        current, previous = int(counted) - 1, int(previous or 0)
        if previous * share + current >= self.num_requests:
            client.decr(current_key)
            self._retry_after = self._retry(now, window, current, previous)
            return self.throttle_failure()
        return True

    def _retry(self, now: float, window: int, current: int, previous: int) -> float:
        """Seconds until a request would be allowed again."""
        window_end = (window + 1) * self.duration
        if current >= self.num_requests or previous == 0:
            return max(window_end - now, 1)
        # previous × (1 - elapsed / duration) + current < num_requests  ⇔  elapsed > duration × (1 - room / previous)
        room = self.num_requests - current
        elapsed_needed = self.duration * (1 - room / previous)
        return max(window * self.duration + elapsed_needed - now, 1)

    def wait(self):
        return getattr(self, "_retry_after", None)


class AnonRateThrottle(_SettingsRate, throttling.AnonRateThrottle):
    """Anonymous callers, per IP address (scope ``anon``)."""


class UserRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    """Signed-in callers, per user (scope ``user``)."""


class TokenEndpointThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """``POST /api/v1/auth/token/``, per IP address whoever asks (scope ``token``)."""

    scope = "token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
