"""After a broker outage every queued e-mail is sent within one sweep interval (issue 9).

A Redis server of the test's own (no persistence, on a free port), a real worker and beat
(subprocesses; the sweep ``deliver_pending`` set to SWEEP_SECONDS in the beat schedule, as an
operator would in the admin). Redis is stopped, orders are approved (their e-mails cannot be
queued: they wait in the outbox), Redis starts again: the worker reconnects and the next sweep
sends them all — the sweep's grace period (60 s) does not hold back rows that were never queued.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from tests.ops.stack import (
    PYTHON,
    ROOT,
    clean_env,
    free_port,
    manage,
    prepare,
    redis_start,
    redis_stop,
    sent_outbox_ids,
    wait_until,
)

pytestmark = [pytest.mark.slow]

SWEEP_SECONDS = 15
REDIS = shutil.which("redis-server")

SET_SWEEP = f"""
from django_celery_beat.models import IntervalSchedule, PeriodicTask
every = IntervalSchedule.objects.get_or_create(every={SWEEP_SECONDS}, period="seconds")[0]
assert PeriodicTask.objects.filter(task="notifications.tasks.deliver_pending").update(interval=every) == 1
"""

APPROVE = """
import datetime
from decimal import Decimal
from django.contrib.auth.models import User
from django.utils import timezone
from orders import services
from orders.models import Customer, Product

sa, sm = User.objects.get(username="sa"), User.objects.get(username="sm")
for i in range(2):
    order = services.create_order(
        user=sa, customer=Customer.objects.get(), channel="phone", contact_name="Li", contact_phone="1",
        delivery_address="A", requested_delivery_date=timezone.localdate() + datetime.timedelta(days=30),
        lines=[{"product": Product.objects.get(), "specification": "M8", "quantity": Decimal("1"),
                "unit_price": Decimal("2")}],
    )
    services.run_transition(user=sa, order_id=order.pk, name="submit")
    services.run_transition(user=sm, order_id=order.pk, name="approve", comment="ok")
"""

COUNTS = """
from notifications.models import EmailOutbox
print({s: EmailOutbox.objects.filter(status=s).count() for s in ("pending", "sent", "failed")},
      sorted(EmailOutbox.objects.values_list("pk", flat=True)))
"""


def counts(env):
    line = manage(env, "shell", "-c", COUNTS).strip().splitlines()[-1]
    by_status, ids = line.split("} ")
    return eval(by_status + "}"), eval(ids)  # noqa: S307 - our own print


@pytest.mark.skipif(REDIS is None, reason="redis-server is not installed")
def test_every_queued_email_is_sent_within_one_sweep_interval_after_the_broker_returns(tmp_path):
    port = free_port()
    (tmp_path / "mail").mkdir()
    env = clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0",
        CELERY_TASK_ALWAYS_EAGER="false", EMAIL_URL=f"filemail:///{tmp_path / 'mail'}", DEBUG="false",
        BEAT_HEARTBEAT_FILE=tmp_path / "beat-heartbeat", LOG_FORMAT="text", MEDIA_ROOT=tmp_path / "media",
        CELERY_BROKER_CONNECT_TIMEOUT="0.5",
    )
    prepare(env)
    manage(env, "shell", "-c", SET_SWEEP)
    redis_start(port, tmp_path)
    celery = str(ROOT / ".venv" / "bin" / "celery") if (ROOT / ".venv" / "bin" / "celery").exists() else "celery"
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("worker", "beat")}  # noqa: SIM115
    processes = {
        "worker": subprocess.Popen([PYTHON, celery, "-A", "orderdesk", "worker", "-l", "info", "--pool", "solo"],
                                   cwd=ROOT, env=env, stdout=logs["worker"], stderr=subprocess.STDOUT),
        "beat": subprocess.Popen([PYTHON, celery, "-A", "orderdesk", "beat", "-l", "info"],
                                 cwd=ROOT, env=env, stdout=logs["beat"], stderr=subprocess.STDOUT),
    }
    try:
        wait_until(lambda: "ready." in (tmp_path / "worker.log").read_text(), timeout=90, message="worker ready")

        redis_stop(port)  # the outage
        manage(env, "shell", "-c", APPROVE)  # commits; queueing each e-mail fails (logged), the rows stay pending
        by_status, ids = counts(env)
        assert by_status["pending"] == len(ids) >= 6 and by_status["sent"] == 0, by_status
        assert not sent_outbox_ids(tmp_path / "mail")

        redis_start(port, tmp_path)  # the broker returns (empty: nothing was kept)
        back = time.monotonic()
        wait_until(lambda: counts(env)[0]["pending"] == 0, timeout=SWEEP_SECONDS * 4, interval=1,
                   message="the outbox drained")
        took = time.monotonic() - back
        print(f"\noutage: {len(ids)} e-mails sent {took:.1f}s after the broker returned (sweep every {SWEEP_SECONDS}s)")
        # one sweep interval, plus the worker's reconnect and a little for the check itself
        assert took <= SWEEP_SECONDS + 8, f"took {took:.1f}s"
        assert sorted(sent_outbox_ids(tmp_path / "mail")) == ids  # each once
        assert counts(env)[0] == {"pending": 0, "sent": len(ids), "failed": 0}
        for name, process in processes.items():
            assert process.poll() is None, f"{name} died: " + (tmp_path / f"{name}.log").read_text()[-3000:]
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs.values():
            log.close()
        redis_stop(port)
