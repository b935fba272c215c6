"""A REAL Celery worker for the tests: the app pointed at a real broker, a worker thread on it.

The broker is Redis when ``CELERY_BROKER_URL`` starts with ``redis://`` (CI; locally e.g.
``redis://127.0.0.1:6379/14``), else kombu's SQLAlchemy transport on a SQLite file in a
temporary folder (the embedded broker of `make run`). In CI (``ORDERDESK_REQUIRE_SERVICES=1``) anything but a Redis
that answers is a FAILURE, never a skip. Each test gets its own queue, so parallel test
processes (pytest-xdist) sharing one Redis never take each other's tasks.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import close_old_connections, connection
from kombu import pools as kombu_pools

from orderdesk.celery import app

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: the broker is "down"
REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 5, "max_retries": 0}


def real_broker(tmp_path) -> tuple[str, dict]:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url.startswith(("redis://", "rediss://")):
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        except Exception as exc:  # noqa: BLE001 - a missing Redis fails the test (CI must never skip this)
            pytest.fail(f"CELERY_BROKER_URL={url} but Redis does not answer: {exc}")
        return url, dict(REDIS_OPTIONS)
    if os.environ.get("ORDERDESK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"ORDERDESK_REQUIRE_SERVICES=1 needs CELERY_BROKER_URL=redis://..., not {url!r}")
    return f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}", {"connect_args": {"timeout": 30}}


def _reset_pools() -> None:
    with contextlib.suppress(Exception):
        kombu_pools.reset()  # kombu's process-wide connection/producer pools
    app._pool = None
    app.amqp._producer_pool = None


def point_app_at(url: str, options: dict, queue: str) -> None:
    """Re-point the (already configured) Celery app at another broker and default queue."""
    _reset_pools()
    amqp = app.amqp
    amqp._producer_pool = None
    for cached in ("queues", "default_queue", "router", "send_task_message"):
        amqp.__dict__.pop(cached, None)
    amqp._rtable = None
    app.conf.update(
        broker_url=url, broker_read_url=None, broker_write_url=None, broker_transport_options=options,
        task_default_queue=queue, task_always_eager=False,
        broker_connection_retry=False, broker_connection_max_retries=0,
        task_publish_retry_policy={"max_retries": 0},
    )


@contextlib.contextmanager
def celery_on(url: str, options: dict):
    """The app on broker `url` (not eager) for the duration; restored afterwards."""
    keys = (
        "broker_url", "broker_read_url", "broker_write_url", "broker_transport_options", "task_default_queue",
        "task_always_eager", "broker_connection_retry", "broker_connection_max_retries",
        "task_publish_retry_policy",
    )
    saved = {k: app.conf.get(k) for k in keys}
    queue = f"test-{uuid.uuid4().hex[:12]}"
    point_app_at(url, options, queue)
    try:
        yield queue
    finally:
        if url != DEAD_BROKER:  # leave nothing behind on a shared Redis
            with contextlib.suppress(Exception), app.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)
        _reset_pools()
        for cached in ("queues", "default_queue", "router", "send_task_message"):
            app.amqp.__dict__.pop(cached, None)
        app.conf.update(saved)


def _close_db(**kwargs):
    # the worker thread's own connection: closed after each task so the test database can be dropped
    connection.close()


@contextlib.contextmanager
def live_worker(queue: str):
    """A real worker (solo pool, in a thread) consuming `queue` until the block ends."""
    task_postrun.connect(_close_db, weak=False)
    task_postrun.connect(_record, weak=False)
    try:
        with start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING", queues=[queue],
            shutdown_timeout=15,
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_db)
        task_postrun.disconnect(_record)
        close_old_connections()


_finished: dict[str, object] = {}


def _record(task_id=None, retval=None, **kwargs):
    _finished[task_id] = retval


def result_of(async_result, *, timeout: float = 30.0):
    """What a task returned on the live worker (the worker runs in this process: its
    ``task_postrun`` signal tells us, no result backend needed)."""
    wait_until(lambda: async_result.id in _finished, timeout=timeout, message=f"task {async_result.id}")
    return _finished.pop(async_result.id)


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
