"""The CI guard of conftest: with ORDERDESK_REQUIRE_SERVICES=1 the run fails unless PostgreSQL and Redis are there."""

from __future__ import annotations

import os

from tests.conftest import _service_problems


def test_a_missing_redis_is_reported(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert any("Redis" in p for p in _service_problems())
    monkeypatch.delenv("REDIS_URL")
    assert any("REDIS_URL" in p for p in _service_problems())


def test_sqlite_is_reported(settings, monkeypatch):
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    assert any("PostgreSQL" in p for p in _service_problems())


def test_when_required_the_services_are_here():
    """Under CI (ORDERDESK_REQUIRE_SERVICES=1) this run only got here because both answered."""
    if os.environ.get("ORDERDESK_REQUIRE_SERVICES") == "1":
        assert _service_problems() == []
    else:
        assert isinstance(_service_problems(), list)
