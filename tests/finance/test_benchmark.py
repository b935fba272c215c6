"""The receivables section of `manage.py benchmark` (issue 11): bounded queries whatever the invoices."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from finance.models import Invoice
from orders.models import Order
from supervision import bench_receivables

pytestmark = pytest.mark.django_db


def test_receivables_benchmark_queries_do_not_grow_with_the_invoices():
    out = io.StringIO()
    small = bench_receivables.run(out, invoices=200, batch=100)
    large = bench_receivables.run(out, invoices=1000, batch=500)
    assert small["queries"] == large["queries"] <= 8
    assert large["open"] == 1000 and large["page"] == 50
    assert "receivables (warm)" in out.getvalue()
    assert not Order.objects.filter(number__startswith="BENCHR-").exists() and not Invoice.objects.exists()


def test_the_benchmark_command_reports_the_section():
    out = io.StringIO()
    call_command("benchmark", sections="receivables", orders=120, batch=50, stdout=out)
    report = out.getvalue()
    assert "receivables (warm)" in report
    row = next(line for line in report.splitlines() if line.startswith("| receivables |"))
    assert "120 open invoices" in row and "| yes |" in row
