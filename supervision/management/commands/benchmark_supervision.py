"""`manage.py benchmark_supervision --orders 100000`: time the dashboard, the review queue and the KPIs.

By default it runs in a transaction that is rolled back at the end (throwaway: nothing stays).
With ``--keep`` the synthetic orders stay (tagged ``BENCH-``) and ``--cleanup`` removes them later.
"""

import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from supervision import synthetic
from supervision.selectors import kpis as kpi_reads, review as review_reads, team as team_reads


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Bulk-create synthetic orders and report timings and query counts of the supervision reads."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=10000)
        parser.add_argument("--assistants", type=int, default=20)
        parser.add_argument("--keep", action="store_true", help="keep the synthetic orders (tagged BENCH-)")
        parser.add_argument("--cleanup", action="store_true", help="only remove earlier synthetic orders")

    def handle(self, *args, **options):
        if options["cleanup"]:
            self.stdout.write(f"removed {synthetic.cleanup()} synthetic orders")
            return
        if options["orders"] < 0 or options["orders"] > 2_000_000:
            self.stderr.write("--orders must be between 0 and 2,000,000")
            return
        try:
            with transaction.atomic():
                self._run(options)
                if not options["keep"]:
                    raise Rollback
        except Rollback:
            self.stdout.write("rolled back: no synthetic data stays")

    def _run(self, options):
        started = time.perf_counter()
        made = synthetic.generate(orders=options["orders"], assistants=options["assistants"])
        self.stdout.write(f"created {made} synthetic orders in {time.perf_counter() - started:.1f}s")
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE")
        today = timezone.localdate()
        manager = synthetic.User.objects.get(username=f"{synthetic.PREFIX.lower()}manager")
        runs = [
            ("team dashboard", lambda: team_reads.team_dashboard()),
            ("review queue", lambda: review_reads.review_queue(user=manager)),
            ("KPIs, one year, team", lambda: kpi_reads.kpis(start=today - timezone.timedelta(days=365), end=today)),
            ("KPIs, 90 days, weekly", lambda: kpi_reads.kpis(start=today - timezone.timedelta(days=89), end=today,
                                                              series="week")),
        ]
        for label, run in runs:
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                run()
                elapsed = time.perf_counter() - started
            self.stdout.write(f"{label:28s} {elapsed * 1000:9.1f} ms  {len(queries):3d} queries")
