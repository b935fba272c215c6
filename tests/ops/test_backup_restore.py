"""Backup and restore (issue 9): scripts/backup.sh dumps the database (pg_dump custom format),
scripts/restore.sh restores it into a fresh database, and the app reads the orders back there.
PostgreSQL only (CI runs on it); on SQLite the test skips."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest
from django.db import connection

from orders.models import Order
from tests.factories import Cast, make_order
from tests.ops.stack import ROOT, clean_env, manage

pytestmark = pytest.mark.django_db(transaction=True)

READ_BACK = """
import json
from orders.models import Order
print(json.dumps(sorted([o.number, o.state, str(o.total_amount), o.customer.name, o.lines.count()]
                        for o in Order.objects.all())))
"""


def url_of(settings_dict: dict, name: str) -> str:
    user, password = settings_dict["USER"], settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{name}"


def run(script, *args, env):
    return subprocess.run(["bash", str(ROOT / "scripts" / script), *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_backup_then_restore_into_a_fresh_database_reads_the_orders_back(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("backup and restore are for PostgreSQL (CI runs on it)")
    cast = Cast()
    orders = [make_order("received", cast=cast), make_order("reviewed", cast=cast), make_order("producing", cast=cast)]
    expected = sorted(
        [o.number, o.state, str(o.total_amount), o.customer.name, o.lines.count()]
        for o in Order.objects.filter(pk__in=[o.pk for o in orders])
    )
    source = url_of(connection.settings_dict, connection.settings_dict["NAME"])
    fresh = f"od_restore_{uuid.uuid4().hex[:10]}"
    target = url_of(connection.settings_dict, fresh)
    env = clean_env(DATABASE_URL=source)
    dump = tmp_path / "backup.dump"

    backup = run("backup.sh", str(dump), env=env)
    assert backup.returncode == 0, backup.stderr
    assert backup.stdout.strip() == str(dump) and dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    try:
        restore = run("restore.sh", str(dump), target, env=env)
        assert restore.returncode == 0, restore.stderr
        assert f"created database {fresh}" in restore.stderr

        app_env = clean_env(DATABASE_URL=target, CELERY_TASK_ALWAYS_EAGER="true")
        manage(app_env, "migrate", "--check")  # the restored schema is complete
        assert json.loads(manage(app_env, "shell", "-c", READ_BACK).strip().splitlines()[-1]) == expected

        again = run("restore.sh", str(dump), target, env=env)  # never into a database that holds data
        assert again.returncode == 3 and "restore into a fresh one" in again.stderr
    finally:
        subprocess.run(["psql", url_of(connection.settings_dict, "postgres"), "-qc",
                        f'drop database if exists "{fresh}" with (force)'], capture_output=True, timeout=60)


def test_backup_refuses_a_database_that_is_not_postgresql(tmp_path):
    result = run("backup.sh", str(tmp_path / "x.dump"), env={**clean_env(), "DATABASE_URL": "sqlite:///x.db",
                                                           "PATH": os.environ["PATH"]})
    assert result.returncode == 2 and "not PostgreSQL" in result.stderr
