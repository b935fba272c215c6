"""The embedded default under a multi-worker server (issue: lost races are 409, never 500).

Starts the real production server (gunicorn, three worker processes) on a fresh
SQLite file with the settings `make run` uses (WAL, IMMEDIATE transactions, busy
timeout), then fires parallel requests at it: racing transitions of one order and
parallel creations. Runs whatever database the rest of the suite uses, since it
brings its own.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from orderdesk.middleware import LockTimeoutMiddleware

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "multiworker-pw"

SETUP = """
import datetime
from decimal import Decimal
from django.contrib.auth.models import Group, User
from django.utils import timezone
from orders import services
from orders.models import Customer, Product

def user(name, role):
    u = User.objects.create_user(name, password=PASSWORD_HERE)
    u.groups.add(Group.objects.get(name=role))
    return u

sa = user("sa", "sales_assistant")
user("sm", "sales_manager")
customer = Customer.objects.create(code="C1", name="Acme", credit_limit=Decimal("10000000"))
product = Product.objects.create(sku="P1", name="Gear", lead_time_days=5)
order = services.create_order(
    user=sa, customer=customer, channel="phone", contact_name="Li", contact_phone="1", delivery_address="A",
    requested_delivery_date=timezone.localdate() + datetime.timedelta(days=30),
    lines=[{"product": product, "specification": "M8", "quantity": Decimal("1"), "unit_price": Decimal("2")}],
)
services.run_transition(user=sa, order_id=order.pk, name="submit")
print(order.pk, customer.pk, product.pk)
""".replace("PASSWORD_HERE", repr(PASSWORD))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, data=None, token=None, method=None):
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method or ("POST" if body else "GET"))
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw.decode(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("embedded")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_BROKER"))},
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "DEBUG": "false",
        "MEDIA_ROOT": str(folder / "media"),
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    ids = subprocess.run([python, "manage.py", "shell", "-c", SETUP], cwd=ROOT, env=env, check=True, timeout=120,
                         capture_output=True, text=True).stdout.split()[-3:]
    port = free_port()
    gunicorn = Path(python).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "orderdesk.wsgi", "-b", f"127.0.0.1:{port}", "-w", "3", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:  # whatever fails below, the server must not outlive the test
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10)
                break
            except OSError:  # not listening yet, or a worker still loading the app on a busy machine
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    pytest.fail("gunicorn did not start: " + process.stdout.read().decode(errors="replace"))
                time.sleep(0.3)
        tokens = {name: request(f"{base}/auth/token/", {"username": name, "password": PASSWORD})[1]["token"]
                  for name in ("sa", "sm")}
        yield {"base": base, "order": int(ids[0]), "customer": int(ids[1]), "product": int(ids[2]),
               "tokens": tokens}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def in_parallel(count: int, call):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_racing_approvals_on_three_workers_one_wins_the_rest_409(server):
    url = f"{server['base']}/orders/{server['order']}/transitions/approve/"
    results = in_parallel(8, lambda i: request(url, {"comment": f"try {i}"}, server["tokens"]["sm"]))
    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [409] * 7, results
    history = request(f"{server['base']}/orders/{server['order']}/history/", token=server["tokens"]["sm"])[1]
    assert [e["transition"] for e in history if e["kind"] == "transition"] == ["submit", "approve"]


def test_parallel_creations_on_three_workers_get_unique_numbers(server):
    payload = {
        "customer": server["customer"], "channel": "email", "contact_name": "Li", "contact_phone": "1",
        "delivery_address": "A", "requested_delivery_date": time.strftime("%Y-%m-%d", time.localtime(
            time.time() + 40 * 86400)),
        "lines": [{"product": server["product"], "specification": "M8", "quantity": "1", "unit_price": "2"}],
    }
    results = in_parallel(10, lambda i: request(f"{server['base']}/orders/", payload, server["tokens"]["sa"]))
    assert [status for status, _body in results] == [201] * 10, results
    numbers = [body["number"] for _status, body in results]
    assert len(set(numbers)) == 10


def test_a_lock_timeout_is_a_409_page_or_json_never_a_500():
    middleware = LockTimeoutMiddleware(lambda request: None)
    locked = OperationalError("database is locked")
    api = middleware.process_exception(RequestFactory().post("/api/v1/orders/1/transitions/approve/"), locked)
    assert api.status_code == 409 and json.loads(api.content)["code"] == "conflict"
    page = middleware.process_exception(RequestFactory().post("/orders/1/transitions/approve/"), locked)
    assert page.status_code == 409
    assert middleware.process_exception(RequestFactory().get("/"), OperationalError("no such table")) is None
