"""Test configuration: settings, one user per role, API clients, and the CI service check.

CI (``.ci/run``) sets ``ORDERDESK_REQUIRE_SERVICES=1``: then the run FAILS (never
skips) unless the database is PostgreSQL and Redis at ``REDIS_URL`` answers PING,
so a green CI always means "green on the production services".
"""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from tests import factories

pytest_plugins = ["tests.browser_support"]


# --- the CI service check --------------------------------------------------------------
def _service_problems() -> list[str]:
    from django.conf import settings

    problems = []
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        problems.append(f"the database is {engine!r}, not PostgreSQL (set DATABASE_URL=postgres://...)")
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        problems.append("REDIS_URL is not set")
    else:
        import redis

        try:
            if not redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3).ping():
                problems.append(f"Redis at {redis_url} did not answer PING")
        except Exception as exc:  # noqa: BLE001 - any failure to reach Redis fails the run
            problems.append(f"Redis at {redis_url} did not answer PING: {exc}")
    return problems


def pytest_configure(config):
    # whitenoise warns on every request when `collectstatic` has not run; the tests serve no static files
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


def pytest_sessionstart(session):
    if os.environ.get("ORDERDESK_REQUIRE_SERVICES") != "1":
        return
    problems = _service_problems()
    if problems:
        pytest.exit("ORDERDESK_REQUIRE_SERVICES=1 but: " + "; ".join(problems), returncode=3)


# --- the test database -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test on a file (WAL, IMMEDIATE, busy timeout as configured), not on shared-cache memory.

    An in-memory SQLite database shares one cache between connections, where a
    waiting writer fails at once instead of honouring the busy timeout; the
    concurrency tests need the real file-based locking the embedded default uses.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        test = db.setdefault("TEST", {})
        if not test.get("NAME") or test["NAME"] == ":memory:":
            test["NAME"] = str(tmp_path_factory.mktemp("db") / "test_orderdesk.sqlite3")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Restore the migration-made data (role groups, beat schedule) when a reused database lost it.

    Transactional tests flush every table when they end; on a fresh database
    (CI) they run last and this does nothing, but with ``--reuse-db`` the next run
    would start without the groups. The data migration's own code restores them.
    """
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    from orderdesk.roles import ROLES

    with django_db_blocker.unblock():
        if Group.objects.filter(name__in=ROLES).count() != len(ROLES):
            importlib.import_module("orders.migrations.0003_roles_and_schedule").forwards(apps, None)


# --- settings for every test -------------------------------------------------------------
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _session_settings(tmp_path_factory):
    """For the whole run (module-scoped data included): Celery tasks run inline, uploads go to a
    temporary directory, a fast password hasher, English messages. Tests may still change any of
    these with pytest-django's `settings` fixture."""
    from django.test.utils import override_settings

    from orderdesk.celery import app

    with override_settings(
        CELERY_TASK_ALWAYS_EAGER=True,
        CELERY_TASK_EAGER_PROPAGATES=True,
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")),
        PASSWORD_HASHERS=FAST_HASHERS,
        LANGUAGE_CODE="en",
    ):
        # Celery reads the Django settings once; set its own config as well.
        previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
        app.conf.task_always_eager = True
        app.conf.task_eager_propagates = True
        yield
        app.conf.task_always_eager, app.conf.task_eager_propagates = previous


# --- one user per role (usernames as in seed_demo) ---------------------------------------
@pytest.fixture
def sales_assistant(db):
    return factories.user_with_role("sales_assistant")


@pytest.fixture
def sales_assistant2(db):
    return factories.user_with_role("sales_assistant", "sales_assistant2")


@pytest.fixture
def sales_manager(db):
    return factories.user_with_role("sales_manager")


@pytest.fixture
def production_supervisor(db):
    return factories.user_with_role("production_supervisor")


@pytest.fixture
def production_worker(db):
    return factories.user_with_role("production_worker")


@pytest.fixture
def logistics_supervisor(db):
    return factories.user_with_role("logistics_supervisor")


@pytest.fixture
def logistics_specialist(db):
    return factories.user_with_role("logistics_specialist")


@pytest.fixture
def finance_manager(db):
    return factories.user_with_role("finance_manager")


@pytest.fixture
def finance_specialist(db):
    return factories.user_with_role("finance_specialist")


@pytest.fixture
def auditor(db):
    return factories.user_with_role("auditor")


@pytest.fixture
def superuser(db):
    return factories.superuser()


@pytest.fixture
def all_role_users(db):
    """Every role's user, keyed by role name (plus `sales_assistant2` and `superuser`)."""
    from orderdesk.roles import ROLES

    users = {role: factories.user_with_role(role) for role in ROLES}
    users["sales_assistant2"] = factories.user_with_role("sales_assistant", "sales_assistant2")
    users["superuser"] = factories.superuser()
    return users


# --- API clients ----------------------------------------------------------------------------
def api_client_for_user(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client


@pytest.fixture
def api_client_for():
    """``api_client_for(user)`` → a DRF APIClient authenticated as `user` (None: anonymous)."""
    return api_client_for_user


@pytest.fixture
def api_client():
    return APIClient()
