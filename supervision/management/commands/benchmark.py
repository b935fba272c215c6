"""`python manage.py benchmark` (`make benchmark`): OrderDesk measured against a bare DRF endpoint (issue 14).

The command runs a list of named **sections** (:data:`SECTIONS`, ``--sections a,b``; every default one
without it). Each section builds its own synthetic data, measures, adds rows to the report and removes
its data afterwards unless ``--keep``. A section is a function ``run(bench)`` registered with
:func:`section`; it reads ``bench.opts`` and calls ``bench.row(...)``. Other measurements (receivables,
violations ...) add a small self-contained section the same way.

- ``http``: 100,000 orders (``--orders``), OrderDesk and the bare one-model DRF app of ``benchmarks/bare``
  each under gunicorn (4 sync workers, same database settings), wrk on loopback, interleaved rounds
  (``--rounds``, ``--duration`` seconds each); each figure is the median over the rounds of the ratio to
  the bare endpoint measured in the same round, with the query count of one such request.
- ``scan``: the overdue and at-risk scan over 1,000,000 orders (``--scan-orders``) that fires
  ``--scan-alerts`` alerts with their notifications, against its own steady state (nothing to fire), with
  time, queries and peak memory (each run in a fresh process, so its peak RSS is its own).

``--quick`` shrinks the data (10,000 orders, a 100,000-order scan, 2 rounds of 3 s) for a first look.

It lives in `supervision`, the top layer (issue 8): it builds orders, plans and progress, so no lower app may
hold it (``tests/test_architecture.py``).
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from benchmarks import harness
from supervision import kpi_rollup

PREFIX = "BENCH-"  # the http section's rows (supervision.synthetic's prefix)
SCAN_PREFIX = "BSCAN-"  # the scan section's rows


# --- the report ------------------------------------------------------------------------------------------------
@dataclass
class Row:
    section: str
    figure: str
    value: str
    ratio: float | None = None
    reference: str = ""
    goal: str = ""
    met: bool | None = None
    queries: int | str = ""


@dataclass
class Bench:
    opts: dict
    stdout: object
    rows: list[Row] = field(default_factory=list)
    section: str = ""

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def row(self, figure: str, value: str, *, ratio: float | None = None, reference: str = "", goal: str = "",
            met: bool | None = None, queries: int | str = "") -> None:
        self.rows.append(Row(self.section, figure, value, ratio, reference, goal, met, queries))
        shown = f" = {ratio:.2f}× {reference}" if ratio is not None else ""
        self.say(f"  {figure}: {value}{shown}" + (f" ({queries} queries)" if queries != "" else ""))

    def table(self) -> str:
        lines = ["| section | figure | value | ratio | goal | met | queries |", "|---|---|---|---|---|---|---|"]
        for r in self.rows:
            ratio = f"{r.ratio:.2f}× {r.reference}" if r.ratio is not None else ""
            met = "" if r.met is None else ("yes" if r.met else "**no**")
            lines.append(f"| {r.section} | {r.figure} | {r.value} | {ratio} | {r.goal} | {met} | {r.queries} |")
        return "\n".join(lines)


@dataclass(frozen=True)
class Section:
    name: str
    run: Callable[[Bench], None]
    help: str
    default: bool = True


#: every section by name, in the order they run
SECTIONS: dict[str, Section] = {}


def section(name: str, help: str, *, default: bool = True):
    """Register ``run(bench)`` as a section of the benchmark."""

    def deco(run):
        SECTIONS[name] = Section(name, run, help, default)
        return run

    return deco


# --- the http section ------------------------------------------------------------------------------------------------
class HttpData:
    """The rows and callers of the http section (synthetic history plus what each measured request needs)."""

    def __init__(self, bench: Bench):
        self.bench = bench

    def build(self, orders: int, pool: int) -> None:
        from django.contrib.auth.models import Group

        from benchmarks.bare.models import BenchOrder
        from orderdesk import tokens
        from orderdesk.roles import Role
        from orders import services
        from orders.models import Customer, Order, Product
        from supervision import synthetic

        User = get_user_model()
        t = time.perf_counter()
        have = Order.objects.filter(number__startswith=PREFIX).count()
        if have < orders:
            synthetic.generate(orders=orders - have, assistants=10)
        self.bench.say(f"  {orders:,} synthetic orders ready in {time.perf_counter() - t:.0f} s")
        self.manager = User.objects.get(username=f"{PREFIX.lower()}manager")
        self.manager.groups.add(Group.objects.get(name=Role.SALES_MANAGER))
        self.assistant = User.objects.get(username=f"{PREFIX.lower()}assistant0")
        self.manager_token = tokens.token_for(self.manager).key
        self.assistant_token = tokens.token_for(self.assistant).key
        self.customer, _ = Customer.objects.get_or_create(
            code=f"{PREFIX}W", defaults={"name": "Benchmark writes", "credit_limit": Decimal("999999999999.99"),
                                         "contact_name": "Bench", "contact_phone": "1", "address": "Bench road 1"})
        self.products = [
            Product.objects.get_or_create(sku=f"{PREFIX}P{i}", defaults={
                "name": f"Benchmark product {i}", "lead_time_days": 7, "standard_price": Decimal("10.00")})[0]
            for i in (1, 2)
        ]
        self.requested = timezone.localdate() + datetime.timedelta(days=60)
        with transaction.atomic():
            self.detail = services.create_order(user=self.assistant, **self.order_kwargs())
        # the bare app's rows: as many as the manager's list holds, owned by the manager
        have = BenchOrder.objects.filter(owner=self.manager).count()
        rng = random.Random(3)
        now = timezone.now()
        while have < orders:
            size = min(5000, orders - have)
            BenchOrder.objects.bulk_create([
                BenchOrder(number=f"B{have + i:09d}", state="received", customer_name="Benchmark customer",
                           contact_name="Bench", contact_phone="1", delivery_address="Bench road 1",
                           requested_delivery_date=self.requested, total_amount=Decimal(rng.randint(1000, 90000)),
                           owner=self.manager, created_at=now - datetime.timedelta(minutes=have + i))
                for i in range(size)
            ])
            have += size
        self.bare_detail = BenchOrder.objects.filter(owner=self.manager).order_by("pk").first()
        self.pools(pool)
        # what beat does every five minutes in production: fold the running tallies the bulk inserts appended
        # (one row per order and state otherwise: the dashboard and the list's count would read 100,000 rows) and
        # the KPI rollup's marks (the rows written above bypass the services; its triggers marked them), so the
        # measured requests read both as they stand
        services.compact_state_tallies()
        t = time.perf_counter()
        folded = kpi_rollup.fold()
        self.bench.say(f"  KPI rollup: {folded:,} orders folded in {time.perf_counter() - t:.1f} s")
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("VACUUM ANALYZE")  # fresh visibility maps: index-only scans for both apps

    def order_kwargs(self) -> dict:
        return {
            "customer": self.customer, "channel": "phone", "contact_name": "Bench", "contact_phone": "1",
            "delivery_address": "Bench road 1", "requested_delivery_date": self.requested,
            "lines": [{"product": p, "specification": f"spec {p.sku}", "quantity": Decimal("2"),
                       "unit_price": Decimal("10.00")} for p in self.products],
        }

    def create_body(self) -> str:
        return json.dumps({
            "customer": self.customer.pk, "channel": "phone", "contact_name": "Bench", "contact_phone": "1",
            "delivery_address": "Bench road 1", "requested_delivery_date": self.requested.isoformat(),
            "lines": [{"product": p.pk, "specification": f"spec {p.sku}", "quantity": "2", "unit_price": "10.00"}
                      for p in self.products],
        })

    def bare_create_body(self) -> str:
        return json.dumps({
            "number": "x", "customer_name": "Benchmark writes", "contact_name": "Bench", "contact_phone": "1",
            "delivery_address": "Bench road 1", "requested_delivery_date": self.requested.isoformat(),
            "total_amount": "40.00",
        })

    def pools(self, size: int) -> None:
        """Orders for the transition runs, bulk-inserted as `create_order` leaves them: `size` received and
        not submitted (for submit), `size` submitted (for approve), each with two lines."""
        from orders.models import Order, OrderLine

        now = timezone.now()
        seq = Order.objects.filter(number__startswith=f"{PREFIX}T").count()
        for submitted in (False, True):
            rows = [
                Order(number=f"{PREFIX}T{seq + i:08d}", customer=self.customer, channel="phone", contact_name="Bench",
                      contact_phone="1", delivery_address="Bench road 1", requested_delivery_date=self.requested,
                      total_amount=Decimal("40.00"), assistant=self.assistant, created_by=self.assistant,
                      submitted_at=now if submitted else None,
                      first_submitted_at=now if submitted else None, created_at=now)
                for i in range(size)
            ]
            seq += size
            Order.objects.bulk_create(rows, batch_size=2000)
            OrderLine.objects.bulk_create(
                [OrderLine(order=o, position=k + 1, product=p, specification=f"spec {p.sku}", quantity=Decimal("2"),
                           unit_price=Decimal("10.00")) for o in rows for k, p in enumerate(self.products)],
                batch_size=5000,
            )

    def pool_paths(self, transition: str) -> list[str]:
        from orders.models import Order

        orders = Order.objects.filter(number__startswith=f"{PREFIX}T", state="received",
                                      submitted_at__isnull=(transition == "submit")).order_by("pk")
        return [f"/api/v1/orders/{pk}/transitions/{transition}/" for pk in orders.values_list("pk", flat=True)]

    def session_cookie(self, user) -> str:
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"

    def cleanup(self) -> None:
        from benchmarks.bare.models import BenchOrder
        from orders.models import Order
        from supervision import synthetic

        BenchOrder.objects.all().delete()
        ids = list(Order.objects.filter(customer__code__startswith=PREFIX).exclude(number__startswith=PREFIX)
                   .values_list("pk", flat=True))
        for start in range(0, len(ids), 5000):
            Order.objects.filter(pk__in=ids[start:start + 5000]).delete()
        synthetic.cleanup()
        from orders.models import Product

        Product.objects.filter(sku__startswith=PREFIX).delete()


def _count_queries(call) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = call()
    if response.status_code >= 400:
        raise CommandError(f"in-process request failed: {response.status_code} {response.content[:300]!r}")
    return len(ctx.captured_queries)


def _query_counts(data: HttpData, kpi_query: str) -> dict[str, int]:
    """One in-process request per figure (what each measured request costs in queries)."""
    from django.test import Client

    api = {"HTTP_AUTHORIZATION": f"Token {data.manager_token}"}
    mine = {"HTTP_AUTHORIZATION": f"Token {data.assistant_token}"}
    client = Client()
    client.force_login(data.manager)
    # secure: the same answers with SECURE_SSL_REDIRECT on (the default with DEBUG off)
    get, post = functools.partial(client.get, secure=True), functools.partial(client.post, secure=True)
    get("/")  # warm caches (roles, content types)
    counts = {
        "list-50": _count_queries(lambda: get("/api/v1/orders/", **api)),
        "order detail": _count_queries(lambda: get(f"/api/v1/orders/{data.detail.pk}/", **api)),
        "create, 2 lines": _count_queries(lambda: post("/api/v1/orders/", data.create_body(),
                                                              content_type="application/json", **mine)),
        "dashboard /": _count_queries(lambda: get("/")),
        "order page": _count_queries(lambda: get(f"/orders/{data.detail.pk}/")),
        "review queue": _count_queries(lambda: get("/supervision/review/")),
        "KPIs, one year": _count_queries(lambda: get(f"/api/v1/kpis/?{kpi_query}", **api)),
    }
    for name in ("submit", "approve"):
        path = data.pool_paths(name)[-1]
        counts[name] = _count_queries(lambda path=path, name=name: post(
            path, "{}", content_type="application/json", **(mine if name == "submit" else api)))
    return counts


@section("http", "list, create, transitions, detail, pages and KPIs against a bare DRF endpoint")
def http_section(bench: Bench) -> None:
    opts = bench.opts
    data = HttpData(bench)
    rounds, duration = opts["rounds"], opts["duration"]
    # enough orders that no transition run uses up its pool (a run stops early when it does)
    pool = max(200, int(rounds * duration * opts["pool_rate"]))
    data.build(opts["orders"], pool)
    today = timezone.localdate()
    kpi_query = f"start={(today - datetime.timedelta(days=364)).isoformat()}&end={today.isoformat()}"
    counts = _query_counts(data, kpi_query)

    work = Path(tempfile.mkdtemp(prefix="od-bench-"))
    server_env = {
        "DEBUG": "false", "SECURE_SSL_REDIRECT": "false", "SECURE_HSTS_SECONDS": "0",
        "API_THROTTLE_USER": "100000000/minute", "CELERY_TASK_ALWAYS_EAGER": "false",
        "SECRET_KEY": settings.SECRET_KEY, "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
    }
    bare_env = {**server_env, "DJANGO_SETTINGS_MODULE": "benchmarks.bare.settings"}
    workers = opts["workers"]
    with harness.Server("orderdesk", "orderdesk.wsgi:application", env=server_env, workers=workers,
                        log_dir=work) as app, \
            harness.Server("bare", "benchmarks.bare.wsgi:application", env=bare_env, workers=workers,
                           log_dir=work) as bare:
        bench.say(f"  servers up: orderdesk {app.url}, bare {bare.url} ({workers} sync workers each); logs in {work}")
        a_tok = {"Authorization": f"Token {data.assistant_token}"}
        m_tok = {"Authorization": f"Token {data.manager_token}"}
        page = {"Cookie": data.session_cookie(data.manager)}

        def run(url, headers, **kw):
            return harness.wrk(url, headers=headers, duration=duration, work_dir=work, **kw)


        runs: dict[str, Callable[[], harness.Result]] = {
            "bare list-50": lambda: run(f"{bare.url}/orders/", m_tok),
            "bare detail": lambda: run(f"{bare.url}/orders/{data.bare_detail.pk}/", m_tok),
            "bare create": lambda: run(f"{bare.url}/orders/", a_tok, method="POST", body=data.bare_create_body()),
            "list-50": lambda: run(f"{app.url}/api/v1/orders/", m_tok),
            "order detail": lambda: run(f"{app.url}/api/v1/orders/{data.detail.pk}/", m_tok),
            "create, 2 lines": lambda: run(f"{app.url}/api/v1/orders/", a_tok, method="POST", body=data.create_body()),
            "submit": lambda: run(app.url, a_tok, method="POST", body="{}", paths=data.pool_paths("submit")),
            "approve": lambda: run(app.url, m_tok, method="POST", body="{}", paths=data.pool_paths("approve")),
            "dashboard /": lambda: run(f"{app.url}/", page),
            "order page": lambda: run(f"{app.url}/orders/{data.detail.pk}/", page),
            "review queue": lambda: run(f"{app.url}/supervision/review/", page),
            # latency, one request at a time (a KPI answer may take longer than a wrk run)
            "bare list-50, 1 connection": lambda: harness.latency(f"{bare.url}/orders/", headers=m_tok, requests=10),
            "KPIs, one year": lambda: kpis_after_beat(),
        }
        folds: list[tuple[int, float]] = []

        def kpis_after_beat():
            """The KPI latency as the rollup stands between beat's folds: the orders the transition runs just
            wrote (hundreds a second, no beat running) are folded first and the fold reported apart."""
            t = time.perf_counter()
            folds.append((kpi_rollup.fold(), time.perf_counter() - t))
            return harness.latency(f"{app.url}/api/v1/kpis/?{kpi_query}", headers=m_tok, requests=3)

        # warm-up: imports, connections and caches of every worker
        for url in (f"{bare.url}/orders/", f"{app.url}/api/v1/orders/"):
            harness.wrk(url, headers=m_tok, duration=1, work_dir=work)
        for url in (f"{app.url}/", f"{app.url}/orders/{data.detail.pk}/", f"{app.url}/supervision/review/"):
            harness.wrk(url, headers=page, duration=1, work_dir=work)
        results: dict[str, list[harness.Result]] = {name: [] for name in runs}
        names = list(runs)
        for r in range(rounds):
            order = names if r % 2 == 0 else list(reversed(names))  # interleaved: each side first in turn
            for name in order:
                results[name].append(runs[name]())
            bench.say(f"  round {r + 1}/{rounds}: " + ", ".join(
                f"{n} {results[n][-1].rps:.0f}/s" for n in names))

    def per_round(name, ref):
        return harness.median([a.rps / b.rps for a, b in zip(results[name], results[ref], strict=True) if b.rps])

    def rate(name) -> str:
        res = results[name]
        return f"{harness.median([x.rps for x in res]):.1f} req/s, p50 {harness.median([x.p50_ms for x in res]):.0f} ms"

    for ref in ("bare list-50", "bare detail", "bare create", "bare list-50, 1 connection"):
        bench.row(ref, rate(ref), queries="")
    goals = [
        ("list-50", "bare list-50", 0.6), ("create, 2 lines", "bare create", 0.6), ("submit", "bare create", 0.4),
        ("approve", "bare create", 0.4), ("order detail", "bare detail", 0.8), ("dashboard /", "bare list-50", 0.5),
        ("order page", "bare list-50", 0.5), ("review queue", "bare list-50", 0.5),
    ]
    for name, ref, goal in goals:
        ratio = per_round(name, ref)
        pooled = name in ("submit", "approve")  # each of their requests takes an order of the pool once
        short = " (pool used up: a lower bound)" if pooled and any(x.requests >= 0.98 * pool for x in results[name]) else ""
        bench.row(name, rate(name) + short, ratio=ratio, reference=f"the {ref} rate", goal=f"≥ {goal}×",
                  met=ratio >= goal, queries=counts[name])
    if folds:
        bench.say("  KPI rollup folds before the KPI runs (beat's work): " + ", ".join(
            f"{n:,} orders in {seconds * 1000:.0f} ms" for n, seconds in folds))
    kpi = harness.median([x.mean_ms for x in results["KPIs, one year"] if x.ok])
    ref = harness.median([x.mean_ms for x in results["bare list-50, 1 connection"] if x.ok])
    ratio = kpi / ref if ref else float("inf")
    bench.row("KPIs, one year", f"{kpi:.0f} ms per request over {opts['orders']:,} orders", ratio=ratio,
              reference="the bare list-50 latency (one connection each)", goal="≤ 5×", met=ratio <= 5,
              queries=counts["KPIs, one year"])
    if not opts["keep"]:
        t = time.perf_counter()
        data.cleanup()
        bench.say(f"  removed the http section's rows in {time.perf_counter() - t:.0f} s")


# --- the scan section --------------------------------------------------------------------------------------------------
def scan_populate(*, orders: int, alerts: int, batch: int, seed: int, stdout) -> int:
    """Bulk-insert `orders` orders of which about `alerts` fire (half overdue, half at risk: of those half with
    a milestone past due, half with a slow pace of progress reports)."""
    from orders.models import Customer, Order, State
    from production.models import Milestone, ProductionPlan, ProgressReport, Workshop

    rng = random.Random(seed)
    ratio = min(0.5, alerts / 2 / max(orders, 1))
    User = get_user_model()
    user, _ = User.objects.get_or_create(username="bench_assistant", defaults={"is_active": False})
    customer, _ = Customer.objects.get_or_create(code="BSCAN", defaults={"name": "Benchmark customer"})
    workshop, _ = Workshop.objects.get_or_create(code="BSCAN", defaults={"name": "Benchmark workshop"})
    today, now = timezone.localdate(), timezone.now()
    states = [State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.PRODUCING, State.SHIPPED,
              State.ACCEPTED, State.SETTLED, State.RECEIVED]
    open_dated = [State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED]
    n = 0
    while n < orders:
        size = min(batch, orders - n)
        rows, risky = [], []
        for i in range(n, n + size):
            roll = rng.random()
            late = roll < ratio
            risk = not late and roll < 2 * ratio
            state = State.PRODUCING if risk else states[i % len(states)]
            if late and state not in open_dated:  # an accepted, settled or unpromised order is never overdue
                state = open_dated[i % len(open_dated)]
            promised = today + datetime.timedelta(days=-rng.randint(1, 30) if late else rng.randint(5, 90))
            rows.append(Order(
                number=f"{SCAN_PREFIX}{i:08d}", customer=customer, channel="other", contact_name="bench",
                contact_phone="0", delivery_address="bench", requested_delivery_date=promised,
                promised_delivery_date=None if state == State.RECEIVED else promised, state=state,
                total_amount=Decimal("100.00"), assistant=user, created_by=user, created_at=now,
            ))
            risky.append(risk)
        with transaction.atomic():
            Order.objects.bulk_create(rows, batch_size=batch)
            at_risk = [o for o, r in zip(rows, risky, strict=True) if r]
            if at_risk:
                plans = ProductionPlan.objects.bulk_create([
                    ProductionPlan(order=o, workshop=workshop, created_by=user, materials_ready=True,
                                   equipment_ready=True) for o in at_risk])
                milestones, reports = [], []
                for k, (order, plan) in enumerate(zip(at_risk, plans, strict=True)):
                    if k % 2 == 0:
                        due = today - datetime.timedelta(days=rng.randint(1, 5))
                        milestones.append(Milestone(plan=plan, name="late", due_date=due, responsible=user))
                    else:
                        milestones.append(Milestone(plan=plan, name="done", due_date=today, responsible=user,
                                                    done_at=now))
                        reports += [
                            ProgressReport(order=order, percent_complete=5, reported_by=user,
                                           reported_at=now - datetime.timedelta(days=20)),
                            ProgressReport(order=order, percent_complete=10, reported_by=user, reported_at=now),
                        ]
                Milestone.objects.bulk_create(milestones)
                ProgressReport.objects.bulk_create(reports)
        n += size
        if n % (batch * 20) == 0 or n == orders:
            stdout.write(f"  … {n:,} orders")
            stdout.flush()
    return n


def scan_recipients() -> None:
    """Active people to tell (the assistant of every scan order is inactive): two sales managers and a
    production supervisor, one reading English, so the fired alerts write real notifications and e-mails."""
    from django.contrib.auth.models import Group

    from notifications.models import LanguagePreference
    from orderdesk.roles import Role

    User = get_user_model()
    for name, role, language in (("bscan_manager1", Role.SALES_MANAGER, "zh-hans"),
                                 ("bscan_manager2", Role.SALES_MANAGER, "en"),
                                 ("bscan_supervisor", Role.PRODUCTION_SUPERVISOR, "zh-hans")):
        user, _ = User.objects.get_or_create(username=name, defaults={"email": f"{name}@example.com"})
        user.groups.add(Group.objects.get(name=role))
        LanguagePreference.objects.update_or_create(user=user, defaults={"language": language})


def scan_cleanup(batch: int) -> None:
    from notifications.models import EmailOutbox
    from orders.models import Customer, Order
    from production.models import Workshop

    bench = Order.objects.filter(number__startswith=SCAN_PREFIX)
    while True:
        ids = list(bench.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        with transaction.atomic():
            EmailOutbox.objects.filter(order_id__in=ids).delete()
            Order.objects.filter(pk__in=ids).delete()
    get_user_model().objects.filter(username__startswith="bscan_").delete()
    Customer.objects.filter(code="BSCAN").delete()
    Workshop.objects.filter(code="BSCAN").delete()


def scan_measure() -> dict:
    """One overdue + at-risk scan in this process: time, queries, peak traced memory, peak RSS, alerts fired."""
    from notifications import services
    from orders import checks
    from orders.models import Alert

    # No tracemalloc while timed: it slows every allocation several times, and firing alerts allocates
    # (notifications, e-mails) where the steady state hardly does, so it inflated the ratio it measures.
    # The memory goal is read from the process's peak RSS (getrusage); `--scan-traced` adds traced memory.
    traced = os.environ.get("BENCH_SCAN_TRACED") == "1"
    if traced:
        tracemalloc.start()
    t = time.perf_counter()
    queries = 0

    def count(execute, sql, params, many, context):
        # a counter, not a log: CaptureQueriesContext keeps at most 9,000 queries (and their memory)
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with services.sending_held(), connection.execute_wrapper(count):
        overdue = checks.run_check("overdue")
        at_risk = checks.run_check("at_risk")
    elapsed = time.perf_counter() - t
    peak = 0
    if traced:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "seconds": elapsed, "queries": queries, "traced_mib": peak / 2**20 if traced else None,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "fired": overdue["fired"] + at_risk["fired"],
        "open_alerts": Alert.objects.filter(resolved_at__isnull=True, order__number__startswith=SCAN_PREFIX).count(),
    }


@section("scan", "the overdue/at-risk scan firing its alerts against its steady state")
def scan_section(bench: Bench) -> None:
    from orders.models import Order

    opts = bench.opts
    if Order.objects.filter(number__startswith=SCAN_PREFIX).exists():
        bench.say(f"  reusing the {SCAN_PREFIX}* orders of an earlier --keep run")
    else:
        t = time.perf_counter()
        made = scan_populate(orders=opts["scan_orders"], alerts=opts["scan_alerts"], batch=opts["batch"],
                             seed=opts["seed"], stdout=bench.stdout)
        bench.say(f"  created {made:,} orders in {time.perf_counter() - t:.0f} s")
        scan_recipients()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("VACUUM ANALYZE")  # fresh visibility maps: index-only scans for both apps
    try:
        found = {}
        for label in ("fires", "steady"):
            # a fresh process each: its peak RSS is the scan's, not the data generation's
            out = subprocess.run([sys.executable, "manage.py", "benchmark", "--scan-measure-only"],
                                 capture_output=True, text=True, check=False, cwd=settings.BASE_DIR,
                                 env={**os.environ, "BENCH_SCAN_TRACED": "1" if opts["scan_traced"] else "0"})
            line = next((x for x in out.stdout.splitlines() if x.startswith("SCANJSON ")), None)
            if line is None:
                raise CommandError(f"the scan measurement failed:\n{out.stdout}\n{out.stderr}")
            found[label] = json.loads(line.removeprefix("SCANJSON "))
        fires, steady = found["fires"], found["steady"]
        n = f"{opts['scan_orders']:,} orders"
        for label, m in (("first run (fires)", fires), ("steady state", steady)):
            traced = f"traced {m['traced_mib']:.1f} MiB, " if m["traced_mib"] is not None else ""
            bench.say(f"  {label}: {m['seconds']:.2f} s, {m['queries']} queries, fired {m['fired']}, "
                      f"{traced}RSS {m['rss_mib']:.0f} MiB")
        bench.row("scan, steady state", f"{steady['seconds']:.2f} s over {n}", queries=steady["queries"])
        ratio = fires["seconds"] / steady["seconds"] if steady["seconds"] else float("inf")
        bench.row(f"scan firing {fires['fired']:,} alerts", f"{fires['seconds']:.2f} s over {n}", ratio=ratio,
                  reference="its steady state", goal="≤ 3×", met=ratio <= 3, queries=fires["queries"])
        peak = max(fires["rss_mib"], steady["rss_mib"])
        traced = f" (traced Python {fires['traced_mib']:.1f} MiB)" if fires["traced_mib"] is not None else ""
        bench.row("scan peak memory", f"{peak:.0f} MiB RSS{traced}", goal="< 300 MB", met=peak * 2**20 < 300e6)
    finally:
        if not opts["keep"]:
            t = time.perf_counter()
            scan_cleanup(opts["batch"])
            bench.say(f"  removed the scan's orders in {time.perf_counter() - t:.0f} s")


# --- the command -------------------------------------------------------------------------------------------------------
# --- the violations section (issue 12) -----------------------------------------------------------------
def violation_report_benchmark(*, orders: int = 100_000, batch: int = 10_000, stdout=None) -> dict:
    """Self-contained: bulk-create `orders` synthetic orders (each state reached with its recorded transition,
    a few in every rule's breach), time ``supervision.selectors.violations.violations()`` over them and count
    its queries (one per rule, whatever the number of orders), then remove the rows. Returns the figures.

    ``python manage.py benchmark --violations [--orders 100000]`` prints them."""
    from django.contrib.contenttypes.models import ContentType
    from django_fsm_log.models import StateLog

    from orders.models import Customer, Order, State
    from supervision.selectors.violations import FINDERS, violations

    vprefix = "VBENCH-"
    User = get_user_model()
    user, _ = User.objects.get_or_create(username="bench_assistant", defaults={"is_active": False})
    manager, _ = User.objects.get_or_create(username="bench_manager", defaults={"is_active": False})
    customer, _ = Customer.objects.get_or_create(code="BENCH", defaults={"name": "Benchmark customer"})
    ct = ContentType.objects.get_for_model(Order)
    today, now = timezone.localdate(), timezone.now()
    cycle = [State.RECEIVED, State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED, State.ACCEPTED]
    planted = 0
    try:
        made = 0
        while made < orders:
            size = min(batch, orders - made)
            rows = []
            for i in range(made, made + size):
                state = cycle[i % len(cycle)]
                breach = i % 1000 == 7  # one in a thousand breaks a rule (the rules take turns)
                rule = (i // 1000) % 4 if breach else None
                planted += breach
                rows.append(Order(
                    number=f"{vprefix}{i:08d}", customer=customer, channel="other", contact_name="bench",
                    contact_phone="0", delivery_address="bench", state=state, total_amount=Decimal("100.00"),
                    requested_delivery_date=today + datetime.timedelta(days=30),
                    promised_delivery_date=None if state == State.RECEIVED else (
                        today - datetime.timedelta(days=3) if rule == 0 else today + datetime.timedelta(days=30)),
                    approved_by=None if state == State.RECEIVED else (user if rule == 1 else manager),
                    approved_at=None if state == State.RECEIVED else now,
                    credit_override_reason="bench" if rule == 2 and state != State.RECEIVED else "",
                    accepted_at=now if state == State.ACCEPTED else None,
                    receipt_signed_by="bench" if state == State.ACCEPTED else "",
                    receipt_signed_on=today if state == State.ACCEPTED else None,
                    assistant=user, created_by=user, created_at=now,
                ))
            with transaction.atomic():
                Order.objects.bulk_create(rows, batch_size=batch)
                logs = []
                for i, order in enumerate(rows, start=made):
                    if order.state == State.RECEIVED:
                        continue
                    rule = (i // 1000) % 4 if i % 1000 == 7 else None
                    logged = order.state
                    if rule == 3:  # the state written around the service: the log says otherwise
                        logged = State.SCHEDULED if order.state != State.SCHEDULED else State.PRODUCING
                    logs.append(StateLog(content_type=ct, object_id=order.pk, transition="bench", state=logged,
                                         source_state=State.RECEIVED, by=manager, timestamp=now))
                StateLog.objects.bulk_create(logs, batch_size=batch)
            made += size
        if connection.vendor == "postgresql":  # fresh statistics, as a live database has them
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE orders_order; ANALYZE django_fsm_log_statelog")
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            found = violations()
        elapsed = time.perf_counter() - started
        result = {"orders": made, "rules": len(FINDERS), "queries": queries, "seconds": round(elapsed, 2),
                  "found": len(found), "planted": planted}
        if stdout is not None:
            stdout.write(f"violation report over {made:,} orders: {elapsed:.2f} s, {queries} queries for "
                         f"{len(FINDERS)} rules, {len(found):,} findings ({planted:,} breaches planted)")
        return result
    finally:
        bench = Order.objects.filter(number__startswith=vprefix)
        while True:
            ids = list(bench.order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            with transaction.atomic():
                StateLog.objects.filter(content_type=ct, object_id__in=ids).delete()
                Order.objects.filter(pk__in=ids).delete()


@section("violations", "the violation report (seven rules) over synthetic orders, in bounded queries")
def violations_section(bench: Bench) -> None:
    result = violation_report_benchmark(orders=bench.opts["orders"], batch=bench.opts["batch"])
    bench.row(f"violation report, {result['orders']:,} orders", f"{result['seconds']:.2f} s",
              goal=f"one query per rule ({result['rules']})", met=result["queries"] <= result["rules"],
              queries=result["queries"])


@section("receivables", "the finance workspace's receivables over synthetic open invoices, in bounded queries")
def receivables_section(bench: Bench) -> None:
    from supervision import bench_receivables

    class Say:  # bench_receivables reports line by line; the figures go into the table below
        def write(self, text):
            bench.say("  " + text)

    invoices = bench.opts["orders"]  # as many open invoices as the http section has orders (100,000)
    result = bench_receivables.run(Say(), invoices=invoices, batch=bench.opts["batch"], keep=bench.opts["keep"])
    bench.row(f"receivables: first page, buckets, ageing by customer and assistant, {result['open']:,} open invoices",
              f"{result['seconds']:.2f} s", goal="bounded queries (≤ 8)", met=result["queries"] <= 8,
              queries=result["queries"])


class Command(BaseCommand):
    help = "OrderDesk against a bare DRF endpoint (ratios, query counts) and the overdue/at-risk scan (issue 14)."

    def add_arguments(self, parser):
        names = ", ".join(f"{s.name} ({s.help})" for s in SECTIONS.values())
        parser.add_argument("--sections", default="", help=f"comma-separated, default all: {names}")
        parser.add_argument("--quick", action="store_true",
                            help="small data for a first look: 10,000 orders, a 100,000-order scan, 2 rounds of 3 s")
        parser.add_argument("--orders", type=int, default=None, help="orders of the http section (100000)")
        parser.add_argument("--scan-orders", type=int, default=None, help="orders of the scan (1000000)")
        parser.add_argument("--scan-alerts", type=int, default=2000, help="alerts the scan's first run fires")
        parser.add_argument("--scan-traced", action="store_true",
                            help="also trace Python memory in the scan (slows it: the times are then not comparable)")
        parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (5)")
        parser.add_argument("--duration", type=float, default=None, help="seconds of each wrk run (10)")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers per server")
        parser.add_argument("--pool-rate", type=float, default=150,
                            help="transitions per second the pools of submit/approve orders are sized for")
        parser.add_argument("--batch", type=int, default=10_000, help="rows per bulk insert")
        parser.add_argument("--seed", type=int, default=5)
        parser.add_argument("--keep", action="store_true", help="keep the synthetic rows (reused by the next run)")
        parser.add_argument("--report", default="", help="also write the table (Markdown) to this file")
        parser.add_argument("--scan-measure-only", action="store_true", help=argparse_suppress())

    def handle(self, *args, **opts):
        if opts["scan_measure_only"]:
            self.stdout.write("SCANJSON " + json.dumps(scan_measure()))
            return
        quick = opts["quick"]
        defaults = {"orders": 10_000 if quick else 100_000, "scan_orders": 100_000 if quick else 1_000_000,
                    "rounds": 2 if quick else 5, "duration": 3 if quick else 10}
        for key, value in defaults.items():
            if opts[key] is None:
                opts[key] = value
        if min(opts["orders"], opts["scan_orders"], opts["rounds"], opts["batch"]) < 1 or opts["duration"] < 1:
            raise CommandError("sizes, rounds, batch and duration must be positive")
        chosen = [s for s in opts["sections"].split(",") if s] or [s.name for s in SECTIONS.values() if s.default]
        unknown = [s for s in chosen if s not in SECTIONS]
        if unknown:
            raise CommandError(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
        bench = Bench(opts=opts, stdout=self.stdout)
        db = connection.settings_dict
        bench.say(f"database: {connection.vendor} {db.get('NAME')}; {os.cpu_count()} CPUs; "
                  f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for name in chosen:
            bench.section = name
            bench.say(f"[{name}] {SECTIONS[name].help}")
            t = time.perf_counter()
            SECTIONS[name].run(bench)
            bench.say(f"[{name}] done in {time.perf_counter() - t:.0f} s")
        table = bench.table()
        self.stdout.write("\n" + table)
        if opts["report"]:
            Path(opts["report"]).write_text(table + "\n", encoding="utf-8")


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS
