"""``manage.py kpi_rollup``: fold the KPI rollup now (what beat does every five minutes); ``--rebuild`` recomputes
it from the orders; ``--verify`` checks it against the orders (see :mod:`supervision.kpi_rollup`)."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max, Min
from django.utils import timezone

from orders.models import Order
from supervision import kpi_rollup
from supervision.models import KpiDay
from supervision.selectors import kpis as kpi_reads


def periods(today: datetime.date):
    """The periods ``--verify`` compares: every day the rollup holds (months and weeks), the last year, the last
    90 days (the API's default) and the next 90 days (promises not yet due)."""
    span = KpiDay.objects.aggregate(first=Min("day"), last=Max("day"))
    if span["first"] is not None:
        yield span["first"], span["last"]
    yield today - datetime.timedelta(days=364), today
    yield today - datetime.timedelta(days=kpi_reads.DEFAULT_PERIOD_DAYS - 1), today
    yield today, today + datetime.timedelta(days=90)


def compare(today: datetime.date | None = None) -> list[str]:
    """Where the KPIs from the rollup differ from the KPIs computed from the orders (``live=True``): for the team
    and for each assistant with orders, by month and by week, over :func:`periods`."""
    today = today or timezone.localdate()
    people = [None, *get_user_model().objects.filter(
        pk__in=Order.objects.order_by().values("assistant_id").distinct()).order_by("pk")]
    differences = []
    for start, end in periods(today):
        for person in people:
            for series in ("month", "week"):
                args = {"start": start, "end": end, "assistant": person, "series": series, "today": today}
                rolled, live = kpi_reads.kpis(**args), kpi_reads.kpis(live=True, **args)
                if rolled != live:
                    keys = sorted(k for k in live if rolled.get(k) != live[k])
                    differences.append(f"{start}..{end} {series} {person or 'team'}: {', '.join(keys)}")
    return differences


class Command(BaseCommand):
    help = "Fold the KPI rollup now; --rebuild recomputes it from the orders; --verify checks it against them."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="recompute every fact and day from the orders")
        parser.add_argument("--verify", action="store_true",
                            help="fail unless every fact, every day and the KPIs of several periods match the orders")

    def handle(self, *args, rebuild=False, verify=False, **options):
        if rebuild:
            self.stdout.write(f"rebuilt: {kpi_rollup.rebuild()} orders count")
        else:
            self.stdout.write(f"folded: {kpi_rollup.fold_and_compact()} orders")
        if verify:
            stale = kpi_rollup.stale_facts()
            if stale:
                raise CommandError(f"{len(stale)} orders' facts are stale, e.g. {stale[:10]}")
            if not kpi_rollup.day_sums_match_facts():
                raise CommandError("the days are not the sums of the facts")
            differences = compare()
            if differences:
                raise CommandError("the KPIs differ from the live ones:\n" + "\n".join(differences))
            self.stdout.write("verified: the rollup matches the orders")
