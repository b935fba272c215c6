"""The README's quick start (scripts/quickstart.sh) walks one order received → settled against a live server."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from orders.models import Order, State

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "quickstart.sh"


@pytest.mark.django_db(transaction=True)
def test_quickstart_script_settles_an_order(live_server):
    assert shutil.which("curl"), "curl is needed by the README's quick start"
    call_command("seed_demo", verbosity=0)
    before = set(Order.objects.values_list("pk", flat=True))
    env = {**os.environ, "API": f"{live_server.url}/api/v1", "DEMO_PASSWORD": settings.DEMO_PASSWORD}
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (new,) = Order.objects.exclude(pk__in=before)
    assert new.state == State.SETTLED
    assert f"order {new.pk} is settled" in result.stderr
    assert "submit" in result.stdout and "settle" in result.stdout
