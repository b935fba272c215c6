"""Soak of the quick-start shape (issue 9): scripts/run.sh — runserver, a real Celery worker and
beat on SQLite and the embedded SQLite broker — under concurrent API writes for a bounded time
(``ORDERDESK_SOAK_SECONDS``, 60 by default). Then every outbox e-mail was sent exactly once (the
file backend's messages counted by their outbox id), none is pending, no request failed with a
5xx, and the worker lived throughout (no restart, no unrecoverable error)."""

from __future__ import annotations

import datetime
import os
import signal
import sqlite3
import threading
import time

import pytest

from tests.ops.stack import (
    RunSh,
    alive,
    answers,
    free_port,
    prepare,
    quickstart_env,
    request,
    sent_outbox_ids,
    token,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.concurrency]

SOAK_SECONDS = float(os.environ.get("ORDERDESK_SOAK_SECONDS", "60"))
WRITERS = 4


def outbox(db) -> dict[str, int]:
    with sqlite3.connect(db, timeout=30) as conn:
        return dict(conn.execute("select status, count(*) from notifications_emailoutbox group by status").fetchall())


def test_the_quick_start_under_concurrent_writes_delivers_every_email_once(tmp_path):
    port = free_port()
    env = quickstart_env(tmp_path, port)
    customer, product = prepare(env)
    script = RunSh(env, tmp_path / "run.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{base}/healthz/"), timeout=120, message="the web app")
        wait_until(lambda: "ready." in script.log(), timeout=120, message="the worker")
        (worker,) = script.pids("worker")
        tokens = {name: token(base, name) for name in ("sa", "sm")}
        api = f"{base}/api/v1"
        payload = {
            "customer": customer, "channel": "email", "contact_name": "Li", "contact_phone": "1",
            "delivery_address": "A",
            "requested_delivery_date": (datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
            "lines": [{"product": product, "specification": "M8", "quantity": "1", "unit_price": "2"}],
        }
        statuses: list[int] = []
        approved: list[int] = []
        stop_at = time.monotonic() + SOAK_SECONDS

        def writer():
            while time.monotonic() < stop_at:
                status, body = request(f"{api}/orders/", payload, tokens["sa"])
                statuses.append(status)
                if status != 201:
                    continue
                steps = [("submit", "sa"), ("approve", "sm")]
                for name, who in steps:
                    status, _ = request(f"{api}/orders/{body['id']}/transitions/{name}/", {"comment": "soak"},
                                        tokens[who])
                    statuses.append(status)
                    if status != 200:
                        break
                else:
                    approved.append(body["id"])

        threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        writing = time.monotonic() - started

        db = tmp_path / "db.sqlite3"
        wait_until(lambda: outbox(db).get("pending", 0) == 0 and outbox(db).get("sent"), timeout=120,
                   interval=1, message="the outbox drained")
        time.sleep(2)  # anything sent twice would show up now
        counts = outbox(db)
        sent_ids = sent_outbox_ids(tmp_path / "mail")
        with sqlite3.connect(db, timeout=30) as conn:
            expected = {row[0] for row in conn.execute("select id from notifications_emailoutbox")}
            in_app = conn.execute("select count(*) from orders_notification").fetchone()[0]
        print(
            f"\nsoak: {writing:.0f}s, {WRITERS} writers, {len(statuses)} requests "
            f"({sum(s < 300 for s in statuses)} ok, {sum(s == 409 for s in statuses)} conflicts), "
            f"{len(approved)} orders approved, {in_app} in-app notifications, "
            f"{len(sent_ids)} e-mails sent for {len(expected)} outbox rows, duplicates {len(sent_ids) - len(set(sent_ids))}"
        )
        assert not [s for s in statuses if s >= 500], "a request failed with a 5xx"
        assert len(approved) >= WRITERS, "the soak wrote almost nothing"
        assert counts == {"sent": len(expected)}, counts
        assert sorted(sent_ids) == sorted(expected), "an e-mail was sent twice or not at all"
        assert alive(worker) and script.pids("worker") == [worker], "the worker died during the soak"
        log = script.log()
        assert "Unrecoverable error" not in log and "JSONDecodeError" not in log, log[-3000:]
        assert script.stop(signal.SIGINT) == 130
    finally:
        script.stop(signal.SIGKILL, timeout=5)
        script.kill_everything()
