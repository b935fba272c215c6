"""`python manage.py benchmark`: the overdue and at-risk scan over many orders.

Bulk-creates synthetic orders (in batches) in the current database — a small share
overdue, a small share at risk (a milestone past due, or a slow pace of progress
reports) — runs the scan twice (the first run fires the alerts, the second is the
steady state every scheduled run pays), and reports time, peak Python memory
(tracemalloc), the process's peak RSS (getrusage) and the number of queries. The
synthetic rows are removed afterwards unless ``--keep``.

It lives in `supervision`, the top layer (issue 8): it builds orders, plans and progress, so no lower app may
hold it (``tests/test_architecture.py``). The command's name is unchanged.
"""

from __future__ import annotations

import datetime
import random
import resource
import time
import tracemalloc
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from notifications import services
from notifications.models import EmailOutbox
from orders import checks
from orders.models import Alert, Customer, Order, State
from production.models import Milestone, ProductionPlan, ProgressReport, Workshop

PREFIX = "BENCH-"


class Command(BaseCommand):
    help = "Benchmark the overdue and at-risk scan over synthetic orders (default 1,000,000)."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=1_000_000, help="how many synthetic orders (default 1000000)")
        parser.add_argument("--batch", type=int, default=10_000, help="rows per bulk insert")
        parser.add_argument("--late-ratio", type=float, default=0.001, help="share of orders past their promise")
        parser.add_argument("--risk-ratio", type=float, default=0.001, help="share of orders at risk")
        parser.add_argument("--keep", action="store_true", help="keep the synthetic orders afterwards")
        parser.add_argument("--seed", type=int, default=5)
        parser.add_argument("--receivables", type=int, default=100_000,
                            help="open invoices for the receivables section (issue 11; 0 skips it)")

    def handle(self, *args, **opts):
        if opts["orders"] < 1 or opts["batch"] < 1:
            raise CommandError("--orders and --batch must be positive")
        if not 0 <= opts["late_ratio"] <= 1 or not 0 <= opts["risk_ratio"] <= 1:
            raise CommandError("ratios must lie between 0 and 1")
        if Order.objects.filter(number__startswith=PREFIX).exists():
            raise CommandError(f"synthetic orders ({PREFIX}*) exist already: remove them or run without --keep first")
        rng = random.Random(opts["seed"])
        # The alerts' e-mails stay in the outbox (removed with the orders): nothing is queued or sent.
        with services.sending_held():
            self.run_benchmark(opts, rng)
        if opts["receivables"] > 0:
            from supervision import bench_receivables

            bench_receivables.run(self.stdout, invoices=opts["receivables"], batch=opts["batch"], keep=opts["keep"])

    def run_benchmark(self, opts, rng):
        vendor = connection.vendor
        self.stdout.write(f"database: {vendor} {connection.settings_dict.get('NAME')}")
        started = time.perf_counter()
        try:
            created = self.populate(opts, rng)
            self.stdout.write(f"created {created:,} orders in {time.perf_counter() - started:.1f} s")
            for label in ("first run (fires)", "second run (steady state)"):
                self.measure(label)
        finally:
            if not opts["keep"]:
                t = time.perf_counter()
                self.cleanup(opts["batch"])
                self.stdout.write(f"removed the synthetic orders in {time.perf_counter() - t:.1f} s")

    # --- data --------------------------------------------------------------------------------------------
    def populate(self, opts, rng) -> int:
        User = get_user_model()
        user, _ = User.objects.get_or_create(username="bench_assistant", defaults={"is_active": False})
        customer, _ = Customer.objects.get_or_create(code="BENCH", defaults={"name": "Benchmark customer"})
        workshop, _ = Workshop.objects.get_or_create(code="BENCH", defaults={"name": "Benchmark workshop"})
        today = timezone.localdate()
        now = timezone.now()
        states = [State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.PRODUCING, State.SHIPPED,
                  State.ACCEPTED, State.SETTLED, State.RECEIVED]
        total, n = opts["orders"], 0
        while n < total:
            size = min(opts["batch"], total - n)
            rows, risky = [], []
            for i in range(n, n + size):
                roll = rng.random()
                late = roll < opts["late_ratio"]
                risk = not late and roll < opts["late_ratio"] + opts["risk_ratio"]
                state = State.PRODUCING if risk else states[i % len(states)]
                promised = today + datetime.timedelta(days=-rng.randint(1, 30) if late else rng.randint(5, 90))
                rows.append(
                    Order(
                        number=f"{PREFIX}{i:08d}", customer=customer, channel="other", contact_name="bench",
                        contact_phone="0", delivery_address="bench", requested_delivery_date=promised,
                        promised_delivery_date=None if state == State.RECEIVED else promised, state=state,
                        total_amount=Decimal("100.00"), assistant=user, created_by=user, created_at=now,
                    )
                )
                risky.append(risk)
            with transaction.atomic():
                Order.objects.bulk_create(rows, batch_size=opts["batch"])
                at_risk = [o for o, r in zip(rows, risky, strict=True) if r]
                self.plan(at_risk, workshop, user, today, now, rng)
            n += size
            if n % (opts["batch"] * 10) == 0 or n == total:
                self.stdout.write(f"  … {n:,} orders")
        return n

    def plan(self, orders, workshop, user, today, now, rng):
        """Half of the at-risk orders have a milestone past due, the other half a slow pace."""
        if not orders:
            return
        plans = ProductionPlan.objects.bulk_create(
            [ProductionPlan(order=o, workshop=workshop, created_by=user, materials_ready=True, equipment_ready=True)
             for o in orders]
        )
        milestones, reports = [], []
        for k, (order, plan) in enumerate(zip(orders, plans, strict=True)):
            if k % 2 == 0:
                due = today - datetime.timedelta(days=rng.randint(1, 5))
                milestones.append(Milestone(plan=plan, name="late", due_date=due, responsible=user))
            else:
                milestones.append(Milestone(plan=plan, name="done", due_date=today, responsible=user, done_at=now))
                reports += [
                    ProgressReport(order=order, percent_complete=5, reported_by=user,
                                   reported_at=now - datetime.timedelta(days=20)),
                    ProgressReport(order=order, percent_complete=10, reported_by=user, reported_at=now),
                ]
        Milestone.objects.bulk_create(milestones)
        ProgressReport.objects.bulk_create(reports)

    def cleanup(self, batch):
        bench = Order.objects.filter(number__startswith=PREFIX)
        while True:
            ids = list(bench.order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            with transaction.atomic():
                EmailOutbox.objects.filter(order_id__in=ids).delete()
                Order.objects.filter(pk__in=ids).delete()

    # --- the measurement ------------------------------------------------------------------------------------------
    def measure(self, label):
        tracemalloc.start()
        t = time.perf_counter()
        queries = 0

        def count(execute, sql, params, many, context):
            # a counter, not a log: CaptureQueriesContext keeps at most 9,000 queries (and their memory)
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            overdue = checks.run_check("overdue")
            at_risk = checks.run_check("at_risk")
        elapsed = time.perf_counter() - t
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        self.stdout.write(
            f"{label}: {elapsed:.2f} s, {queries} queries, peak traced memory {peak / 2**20:.1f} MiB, "
            f"peak RSS {rss:.0f} MiB; overdue fired {overdue['fired']}, at risk fired {at_risk['fired']}, "
            f"open alerts {Alert.objects.filter(resolved_at__isnull=True).count()}"
        )
