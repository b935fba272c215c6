"""Production configuration fails closed (issue 9): the secret key, embedded defaults, check --deploy.

Each case starts a fresh interpreter with its own environment, as a server would start.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from orderdesk import settings_checks

ROOT = Path(__file__).resolve().parents[2]
SETUP = "import django; django.setup(); print('started')"

#: Variables the test run sets that a clean start must not inherit.
_DROP = (
    "SECRET_KEY", "DEBUG", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE",
    "SECURE_", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "USE_X_FORWARDED_PROTO", "API_THROTTLE_",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def clean_env(**values) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env["DJANGO_SETTINGS_MODULE"] = "orderdesk.settings"
    env.update(values)
    return env


def start(code: str = SETUP, *args: str, **values) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *(args or ("-c", code))], cwd=ROOT, env=clean_env(**values),
                          capture_output=True, text=True, timeout=120)


def production_env() -> dict[str, str]:
    """The production environment the README documents, on this machine's services."""
    db = os.environ.get("DATABASE_URL", "")
    redis = os.environ.get("REDIS_URL", "")
    if not db.startswith("postgres") or not redis:
        pytest.skip("needs DATABASE_URL=postgres://... and REDIS_URL (CI sets both)")
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "orderdesk.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://orderdesk.example.com",
        "DATABASE_URL": db,
        "CELERY_BROKER_URL": redis,
        "REDIS_URL": redis,
        "USE_X_FORWARDED_PROTO": "true",
    }


@pytest.mark.parametrize(
    "key",
    [None, "", "orderdesk-insecure-development-key-change-me", "change-me-in-production", "django-insecure-abc123"],
    ids=["missing", "empty", "repository-default", "old-compose-default", "django-insecure"],
)
def test_debug_off_refuses_a_missing_or_published_secret_key(key):
    values = {"DEBUG": "false"} if key is None else {"DEBUG": "false", "SECRET_KEY": key}
    result = start(**values)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr and "refusing to start" in result.stderr


def test_debug_off_starts_with_a_real_key():
    result = start(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_debug_on_keeps_the_development_key_for_the_quick_start():
    result = start("import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)",
                   DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == settings_checks.DEVELOPMENT_SECRET_KEY


def test_embedded_defaults_are_said_loudly_at_start(tmp_path):
    result = start(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50),
                   DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr or "embedded defaults" in result.stderr
    assert "embedded defaults (sqlite, embedded-broker, local-memory-cache)" in result.stderr


def test_embedded_defaults_lists_what_is_in_use():
    embedded = SimpleNamespace(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3"}}, CELERY_BROKER_URL="filesystem://",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    )
    assert settings_checks.embedded_defaults(embedded) == ["sqlite", "embedded-broker", "local-memory-cache"]
    production = SimpleNamespace(
        DATABASES={"default": {"ENGINE": "django.db.backends.postgresql"}}, CELERY_BROKER_URL="redis://db:6379/0",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}},
    )
    assert settings_checks.embedded_defaults(production) == []


def test_production_is_secure_by_default():
    env = production_env()
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
            "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SECURE_PROXY_SSL_HEADER, "
            "s.CACHES['default']['BACKEND'])")
    result = start(code, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "True True True 31536000 True True ('HTTP_X_FORWARDED_PROTO', 'https') "
        "orderdesk.cache.RedisCache"  # Django's Redis cache, one client per pool
    )


def test_check_deploy_is_clean_under_the_documented_production_environment():
    result = start("", "manage.py", "check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_on_the_embedded_defaults(tmp_path):
    env = {**production_env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = start("", "manage.py", "check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "orderdesk.W001" in result.stdout + result.stderr


def test_compose_requires_its_secrets():
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "${SECRET_KEY:?" in compose
    assert "change-me-in-production" not in compose
    example = (ROOT / ".env.example").read_text()
    assert "SECRET_KEY=" in example and "POSTGRES_PASSWORD=" in example
