"""The receivables benchmark (issue 11): finance's receivables report over many invoices in bounded queries.

Self-contained so that ``manage.py benchmark`` calls it as one section (:func:`run`): bulk-creates synthetic
accepted orders (``BENCHR-*``) with one open invoice each, due dates spread over 0–150 days in the past and
the future, then reads what ``/finance/`` and ``GET /api/v1/finance/receivables/`` read — the first page of
open invoices with their ageing, the totals per bucket and the ageing per customer and per assistant — as a
finance manager, counting queries and time; the rows are removed afterwards unless ``keep``.
"""

from __future__ import annotations

import datetime
import random
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from finance import selectors
from finance.models import Invoice
from orderdesk.roles import Role
from orders.models import Customer, Order, State

PREFIX = "BENCHR-"


def populate(*, invoices: int, batch: int, seed: int = 11) -> object:
    rng = random.Random(seed)
    User = get_user_model()
    assistant, _ = User.objects.get_or_create(username="bench_assistant", defaults={"is_active": False})
    reader, created = User.objects.get_or_create(username="bench_finance", defaults={"is_active": False})
    if created:
        reader.groups.add(Group.objects.get_or_create(name=Role.FINANCE_MANAGER)[0])
    customers = [
        Customer.objects.get_or_create(code=f"BENCHR{k}", defaults={"name": f"Receivables customer {k}"})[0]
        for k in range(20)
    ]
    today = timezone.localdate()
    now = timezone.now()
    n = 0
    while n < invoices:
        size = min(batch, invoices - n)
        orders = [
            Order(number=f"{PREFIX}{i:08d}", customer=customers[i % len(customers)], channel="other",
                  contact_name="bench", contact_phone="0", delivery_address="bench", requested_delivery_date=today,
                  promised_delivery_date=today, state=State.ACCEPTED, total_amount=Decimal("100.00"),
                  assistant=assistant, created_by=assistant, created_at=now)
            for i in range(n, n + size)
        ]
        with transaction.atomic():
            Order.objects.bulk_create(orders, batch_size=batch)
            Invoice.objects.bulk_create(
                [Invoice(order=o, amount=Decimal("100.00"), paid_amount=Decimal(rng.choice(["0.00", "40.00"])),
                         due_date=today + datetime.timedelta(days=rng.randint(-150, 30)), issued_by=assistant)
                 for o in orders],
                batch_size=batch,
            )
        n += size
    return User.objects.get(pk=reader.pk)


def measure(reader) -> dict:
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    t = time.perf_counter()
    with connection.execute_wrapper(count):
        open_invoices = selectors.receivables(reader)
        page = list(open_invoices[:50])
        totals = selectors.bucket_totals(open_invoices)
        by_customer = selectors.ageing_by(open_invoices, "customer")
        by_assistant = selectors.ageing_by(open_invoices, "assistant")
        count_open = open_invoices.count()
    return {"seconds": time.perf_counter() - t, "queries": queries, "page": len(page), "open": count_open,
            "total": totals["total"], "customers": len(by_customer), "assistants": len(by_assistant)}


def cleanup(batch: int) -> None:
    bench = Order.objects.filter(number__startswith=PREFIX)
    while True:
        ids = list(bench.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        with transaction.atomic():
            Invoice.objects.filter(order_id__in=ids).delete()
            Order.objects.filter(pk__in=ids).delete()
    Customer.objects.filter(code__startswith="BENCHR").delete()
    get_user_model().objects.filter(username="bench_finance").delete()


def run(stdout, *, invoices: int = 100_000, batch: int = 10_000, keep: bool = False) -> dict:
    """Populate, measure twice (cold, warm), report one line each, clean up. Returns the warm figures."""
    if Order.objects.filter(number__startswith=PREFIX).exists():
        cleanup(batch)
    started = time.perf_counter()
    try:
        reader = populate(invoices=invoices, batch=batch)
        stdout.write(f"receivables: created {invoices:,} open invoices in {time.perf_counter() - started:.1f} s")
        result = {}
        for label in ("cold", "warm"):
            result = measure(reader)
            stdout.write(
                f"receivables ({label}): {result['seconds']:.2f} s, {result['queries']} queries for the first page "
                f"of {result['page']}, totals per bucket and ageing per customer ({result['customers']}) and per "
                f"assistant ({result['assistants']}) over {result['open']:,} open invoices ({result['total']} open)"
            )
        return result
    finally:
        if not keep:
            cleanup(batch)
