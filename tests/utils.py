"""Small helpers shared by the tests: run a transition through the API or the service alike."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django_fsm_log.models import StateLog

from orderdesk.errors import ConditionsUnmet, ServiceError
from orders import services
from orders.models import Order

API = "/api/v1"


def jsonable(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    return value


@dataclass
class Outcome:
    """What a transition answered, whichever way it was run."""

    status: int
    code: str = ""
    unmet: list[str] = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    body: dict | None = None


def transition_url(order_id, name: str) -> str:
    return f"{API}/orders/{order_id}/transitions/{name}/"


def run_via_api(client, order_id, name: str, comment: str = "", **data) -> Outcome:
    payload = jsonable({"comment": comment, **data})
    response = client.post(transition_url(order_id, name), payload, format="json")
    body = response.json()
    assert response.status_code != 500, body
    if response.status_code == 200:
        return Outcome(200, body=body)
    assert isinstance(body, dict) and body.get("detail") and body.get("code"), body
    return Outcome(
        response.status_code,
        code=body["code"],
        unmet=[u["code"] for u in body.get("unmet", [])],
        errors=body.get("errors", {}),
        body=body,
    )


def run_via_service(user, order_id, name: str, comment: str = "", **data) -> Outcome:
    try:
        with transaction.atomic():
            order = services.run_transition(user=user, order_id=order_id, name=name, comment=comment, data=data)
    except ConditionsUnmet as exc:
        return Outcome(exc.status, code=exc.code, unmet=[u["code"] for u in exc.unmet])
    except ServiceError as exc:
        return Outcome(exc.status, code=exc.code, errors=exc.errors)
    return Outcome(200, body={"id": order.pk, "state": order.state})


def run_transition(via: str, client_factory, user, order_id, name: str, comment: str = "", **data) -> Outcome:
    """Run a transition `via` "api" (client_factory(user) → APIClient) or "service"."""
    if via == "api":
        return run_via_api(client_factory(user), order_id, name, comment, **data)
    return run_via_service(user, order_id, name, comment, **data)


def state_logs(order_id):
    return StateLog.objects.filter(content_type=ContentType.objects.get_for_model(Order), object_id=order_id)


def order_row(order_id) -> dict:
    """The order's row, to compare before/after a refused write."""
    return Order.objects.filter(pk=order_id).values().get()


def call(client, method: str, path: str, data=None, *, expect: int | None = None):
    """`client.<method>(API + path, data)` (JSON body; query parameters for GET); asserts the status when
    `expect` is given; returns the decoded body."""
    method = method.lower()
    if method == "get":
        response = client.get(API + path, data or {})
    else:
        response = getattr(client, method)(API + path, data if data is not None else {}, format="json")
    body = response.json() if response.content else None
    if expect is not None:
        assert response.status_code == expect, (method, path, response.status_code, body)
    return body


def results(body):
    """The items of a list answer, paginated (`results`) or not."""
    return body["results"] if isinstance(body, dict) and "results" in body else body


class module_data:
    """Build data once for a module, inside a transaction rolled back when the module is done.

    Use in a module-scoped fixture::

        @pytest.fixture(scope="module")
        def world(django_db_setup, django_db_blocker):
            with module_data(django_db_blocker) as build:
                yield build(make_the_data)

    Every test (``django_db``, not transactional) then runs in a savepoint of that
    transaction, rolled back after it, so each starts from the same data.
    """

    def __init__(self, blocker):
        self.blocker = blocker
        self.atomic = transaction.atomic()

    def __enter__(self):
        with self.blocker.unblock():
            self.atomic.__enter__()
        return self.build

    def build(self, make):
        from django.db import connection

        with self.blocker.unblock():
            value = make()
            # check the deferred foreign keys of the setup once, not after every test
            connection.check_constraints()
        return value

    def __exit__(self, *exc):
        with self.blocker.unblock():
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)
        return False


def run_on_fresh_sqlite(tmp_path, script: str):
    """Migrate a new SQLite database (the quick start's) in a process of its own, run `script` there (Python,
    after ``django.setup()``), and return the JSON its last printed line holds."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SECRET_KEY")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DEBUG": "true",
                "CELERY_BROKER_URL": "memory://", "DJANGO_SETTINGS_MODULE": "orderdesk.settings"})
    env.setdefault("SECRET_KEY", "x" * 60)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True, timeout=300)
    out = subprocess.run([sys.executable, "-c", "import django\ndjango.setup()\n" + script], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])
