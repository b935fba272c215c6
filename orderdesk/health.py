"""Liveness and readiness (DESIGN §6b, issue 9).

* ``GET /healthz/``: the process answers (200 JSON). Nothing else is touched, so a
  slow database never gets a healthy web process restarted.
* ``GET /readyz/``: the database, the broker and the cache are reachable: 200, else
  503 naming what failed (``failed: ["broker"]``). With ``DEBUG`` off on the embedded
  defaults (SQLite, the SQLite broker) it says so loudly in ``warnings``: fine for a
  demo, not for production.

Small views rather than django-health-check: three checks, a fixed JSON shape that
compose and load balancers read, and the embedded-defaults warning are a few lines
here, and each check has a short timeout so a dead broker cannot hold the probe up.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

BROKER_TIMEOUT = 2.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    from kombu import Connection

    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {})
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        options.update(socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT)
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT, transport_options=options) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=BROKER_TIMEOUT)
        conn.default_channel  # noqa: B018 - opens a channel: the broker really answers


def _cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not return what was stored")
    cache.delete(key)


CHECKS = {"database": _database, "broker": _broker, "cache": _cache}


def embedded_defaults() -> list[str]:
    """What of the embedded quick-start defaults is in use (empty in production)."""
    used = []
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        used.append("database: SQLite (embedded default)")
    if settings.CELERY_BROKER_URL.startswith(("sqla+sqlite", "sqlalchemy+sqlite", "filesystem")):
        used.append("broker: SQLite file (embedded default)")
    return used


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    checks, failed = {}, []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure makes the node not ready
            checks[name] = f"error: {type(exc).__name__}: {exc}"[:300]
            failed.append(name)
        else:
            checks[name] = "ok"
    body = {"status": "unavailable" if failed else "ready", "checks": checks, "failed": failed}
    embedded = embedded_defaults()
    if embedded and not settings.DEBUG:
        body["warnings"] = [
            "RUNNING ON THE EMBEDDED DEFAULTS WITH DEBUG OFF: NOT FOR PRODUCTION. "
            "Set DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...",
            *embedded,
        ]
    return JsonResponse(body, status=503 if failed else 200)
