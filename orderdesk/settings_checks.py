"""Production configuration that fails closed (issue 9).

Imported by :mod:`orderdesk.settings` before anything else is configured, so it
uses nothing from Django but :class:`~django.core.exceptions.ImproperlyConfigured`.

* :func:`require_secret_key` refuses to start with ``DEBUG`` off and a missing,
  empty or published ``SECRET_KEY`` (the one in this repository, in
  ``.env.example`` or the old compose default): whoever knows it can sign a
  ``/track/<token>/`` link for any order, or forge a session.
* :func:`embedded_defaults` names the embedded services in use (SQLite, the
  embedded broker, the local-memory cache). They are fine for the quick start
  and refused by nothing, but with ``DEBUG`` off they are said loudly: a warning
  logged when the app starts (:class:`orderdesk.apps.OrderDeskConfig`), a
  ``check --deploy`` warning, and ``/readyz/`` may show the list.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("orderdesk.settings")

#: Keys that were ever published with OrderDesk; refused whenever DEBUG is off.
DEVELOPMENT_SECRET_KEY = "orderdesk-insecure-development-key-change-me"
PUBLISHED_SECRET_KEYS = frozenset(
    {
        DEVELOPMENT_SECRET_KEY,
        "change-me-in-production",
        "change-me",
        "changeme",
        "secret",
    }
)


def require_secret_key(secret_key: str | None, *, debug: bool) -> str:
    """The key to use, or ImproperlyConfigured when production would run on a missing or published key."""
    if debug:
        return secret_key or DEVELOPMENT_SECRET_KEY
    key = (secret_key or "").strip()
    if not key:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set and DEBUG is off: refusing to start. Set SECRET_KEY to a long random "
            "string (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or DEBUG=true "
            "for local development."
        )
    if key in PUBLISHED_SECRET_KEYS or key.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "SECRET_KEY is a published default and DEBUG is off: refusing to start (anyone could sign "
            "tracking links and sessions). Set SECRET_KEY to a long random string, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    return key


def embedded_defaults(settings=None) -> list[str]:
    """The embedded (single-machine, quick-start) services the running configuration uses.

    Empty on a production configuration (PostgreSQL, a Redis broker, a shared cache).
    Names: ``"sqlite"`` (the database), ``"embedded-broker"`` (kombu's filesystem or
    SQLAlchemy transport, anything but a network broker), ``"local-memory-cache"``
    (throttle counters per process, not shared between workers).
    """
    if settings is None:
        from django.conf import settings
    found = []
    if "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        found.append("sqlite")
    broker = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if not broker.startswith(("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://", "sentinel://")):
        found.append("embedded-broker")
    if "locmem" in settings.CACHES["default"]["BACKEND"]:
        found.append("local-memory-cache")
    return found


def warn_embedded_defaults(settings=None) -> list[str]:
    """Logs a warning when DEBUG is off and embedded defaults are in use; returns them."""
    if settings is None:
        from django.conf import settings
    found = embedded_defaults(settings)
    if found and not settings.DEBUG:
        logger.warning(
            "DEBUG is off but OrderDesk runs on embedded defaults (%s): fine for a quick start on one machine, "
            "not for production. Set DATABASE_URL=postgres://..., CELERY_BROKER_URL=redis://... and "
            "REDIS_URL (or CACHE_URL).",
            ", ".join(found),
        )
    return found


def check_embedded_defaults(app_configs=None, **kwargs):
    """``check --deploy``: a warning per embedded default in use (registered by OrderDeskConfig)."""
    from django.conf import settings
    from django.core.checks import Warning

    if settings.DEBUG:
        return []
    return [
        Warning(
            f"OrderDesk runs on the embedded default {name!r} with DEBUG off.",
            hint="Production sets DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis) and REDIS_URL or CACHE_URL.",
            id="orderdesk.W001",
        )
        for name in embedded_defaults(settings)
    ]
