"""Operations configuration (issue 9): health endpoints, structured logs, SMTP from the
environment, the embedded broker's default, and the compose file's structure."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1
# production settings refuse a missing or default key with DEBUG off
TEST_SECRET_KEY = "ops-tests-" + "k7Qp2Lx9Vw3Rm8Zt5Nb1Hc6Jd4Fg0Ys" * 2


def settings_in_subprocess(env: dict, expr: str):
    """Evaluate `expr` against django.conf.settings in a fresh process with only `env` set."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    base["SECRET_KEY"] = TEST_SECRET_KEY
    code = (
        "import json, os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'orderdesk.settings'; django.setup();"
        f"from django.conf import settings; print(json.dumps({expr}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the embedded broker ----------------------------------------------------------------------------
def test_the_default_broker_is_the_transactional_sqlite_transport_not_the_filesystem():
    url = settings_in_subprocess({}, "settings.CELERY_BROKER_URL")
    assert url.startswith("sqla+sqlite:///") and url.endswith("/var/celery-broker.sqlite3")
    assert "filesystem" not in url
    text = (ROOT / "orderdesk" / "settings.py").read_text()
    assert 'default="filesystem://"' not in text
    assert "CELERY_BROKER_URL=filesystem" not in (ROOT / ".env.example").read_text()


# --- /healthz/ and /readyz/ -----------------------------------------------------------------------
@pytest.mark.django_db
def test_healthz_answers_without_touching_services(client, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT_BROKER
    response = client.get("/healthz/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_readyz_is_ready_when_database_broker_and_cache_answer(client):
    response = client.get("/readyz/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready" and body["failed"] == []
    assert body["checks"] == {"database": "ok", "broker": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_readyz_names_an_unreachable_broker_with_503(client, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT_BROKER
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/readyz/")
    body = response.json()
    assert response.status_code == 503, body
    assert body["status"] == "unavailable" and body["failed"] == ["broker"]
    assert body["checks"]["broker"].startswith("error:") and body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readyz_names_an_unreachable_cache(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # Django resets its cache handler
    response = client.get("/readyz/")
    assert response.status_code == 503 and response.json()["failed"] == ["cache"]


def test_readyz_says_loudly_that_the_embedded_defaults_run_with_debug_off(tmp_path):
    env = {"DEBUG": "false", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"}
    code = (
        "import json, django; django.setup(); from django.test import Client;"
        "r = Client().get('/readyz/'); print(json.dumps([r.status_code, r.json()]))"
    )
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    base["SECRET_KEY"] = TEST_SECRET_KEY
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**base, **env}, check=True,
                   timeout=300)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True,
                         env={**base, **env, "DJANGO_SETTINGS_MODULE": "orderdesk.settings"}, timeout=60)
    status, body = json.loads(out.stdout.strip().splitlines()[-1])
    assert status == 200, body
    assert "NOT FOR PRODUCTION" in body["warnings"][0]
    assert any("SQLite" in w and "database" in w for w in body["warnings"])
    assert any("broker" in w for w in body["warnings"])


@pytest.mark.django_db
def test_readyz_does_not_warn_on_production_services(client):
    assert "warnings" not in client.get("/readyz/").json()  # the suite runs on PostgreSQL + Redis


# --- structured logs ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_json_log_lines_carry_time_level_logger_message_and_the_request_id(client, settings):
    from logging.config import dictConfig

    assert settings.LOG_FORMAT == "json"  # DEBUG is off
    dictConfig(settings.LOGGING)
    handler = logging.getLogger().handlers[0]
    lines = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(handler.format(record))

    capture = Capture()
    capture.addFilter(handler.filters[0])
    logger = logging.getLogger("django.request")
    logger.addHandler(capture)
    try:
        response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-abc-123")
    finally:
        logger.removeHandler(capture)
    assert response.status_code == 404 and response["X-Request-ID"] == "req-abc-123"
    record = json.loads(lines[-1])
    assert record["level"] == "WARNING" and record["logger"] == "django.request"
    assert "Not Found" in record["message"] and record["request_id"] == "req-abc-123"
    assert record["time"][:4].isdigit() and "T" in record["time"]


def test_log_format_follows_debug_and_the_environment():
    assert settings_in_subprocess({"DEBUG": "false"}, "settings.LOG_FORMAT") == "json"
    assert settings_in_subprocess({"DEBUG": "true"}, "settings.LOG_FORMAT") == "text"
    assert settings_in_subprocess({"DEBUG": "false", "LOG_FORMAT": "text"}, "settings.LOGGING['handlers']['console']['formatter']") == "text"


@pytest.mark.django_db
def test_an_unsane_request_id_is_replaced(client):
    response = client.get("/healthz/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline" and len(response["X-Request-ID"]) == 32


# --- SMTP from the environment ------------------------------------------------------------------------
def test_email_url_configures_smtp():
    got = settings_in_subprocess(
        {"EMAIL_URL": "smtp+tls://mailer:s3cr%40t@smtp.example.com:587"},
        "[settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER,"
        " settings.EMAIL_HOST_PASSWORD, settings.EMAIL_USE_TLS]",
    )
    assert got == ["django.core.mail.backends.smtp.EmailBackend", "smtp.example.com", 587, "mailer", "s3cr@t", True]
    assert settings_in_subprocess({}, "settings.EMAIL_BACKEND") == "django.core.mail.backends.console.EmailBackend"


# --- beat heartbeat -------------------------------------------------------------------------------------
def test_healthcheck_beat_fails_without_or_with_a_stale_heartbeat(settings, tmp_path):
    settings.BEAT_HEARTBEAT_FILE = tmp_path / "beat-heartbeat"
    with pytest.raises(CommandError, match="not running"):
        call_command("healthcheck_beat")
    settings.BEAT_HEARTBEAT_FILE.touch()
    call_command("healthcheck_beat")
    os.utime(settings.BEAT_HEARTBEAT_FILE, (0, 0))
    with pytest.raises(CommandError, match="stuck"):
        call_command("healthcheck_beat")


# --- docker-compose.yml ----------------------------------------------------------------------------------
def test_compose_migrates_once_checks_health_and_keeps_one_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"][-3:] == ["manage.py", "migrate", "--noinput"] and migrate["restart"] == "no"
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert "migrate" not in " ".join(service["command"]), f"{name} must not migrate on start"
        assert service["healthcheck"]["test"], name
    assert "/readyz/" in " ".join(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    assert services["beat"]["healthcheck"]["test"][-1] == "healthcheck_beat"
    assert services["beat"]["deploy"]["replicas"] == 1
    env = services["web"]["environment"]
    assert "EMAIL_URL" in env and env["LOG_FORMAT"].endswith("json}")
