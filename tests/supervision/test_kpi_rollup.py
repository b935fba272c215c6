"""The KPI rollup (issue 14, :mod:`supervision.kpi_rollup`) answers exactly what the live cohorts answer
(``kpis(live=True)``, the scans of the orders) right after any write: random runs of the real services, writes
that bypass them, concurrent readers folding at once, on PostgreSQL and (in a subprocess) on SQLite."""

from __future__ import annotations

import datetime
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django_fsm_log.models import StateLog

from orders import services as order_services
from orders.models import Order, OrderChange, State
from production import services as production
from supervision import kpi_rollup, services, tasks
from supervision.models import CheckItem, KpiDay, KpiOrderFact, KpiOrderMark, KpiRollupZone
from supervision.selectors.kpis import kpis
from tests import factories
from tests.factories import Cast, days, make_order, receipt_data, run, today

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRESQL = connection.vendor == "postgresql"


def assert_rollup_is_live(*, periods=None, people=(None,), todays=(0,)):
    """kpis() from the rollup == kpis(live=True) from the orders, for each period, person, series and today."""
    periods = periods or [(days(-400), days(400)), (days(-10), days(60)), (today(), today())]
    for start, end in periods:
        for person in people:
            for series in ("month", "week"):
                for shift in todays:
                    args = {"start": start, "end": end, "assistant": person, "series": series,
                            "today": days(shift)}
                    rolled = kpis(**args)
                    assert rolled == kpis(live=True, **args), args
    assert kpi_rollup.day_sums_match_facts()


# --- equivalence after random runs of the services --------------------------------------------------------------
class World:
    """Two assistants' orders and the people who act on them; each step is one real service action."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.a = factories.user_with_role("sales_assistant", "rollup_a")
        self.b = factories.user_with_role("sales_assistant", "rollup_b")
        self.manager = factories.user_with_role("sales_manager", "rollup_manager")
        self.cast = Cast(sales_manager=self.manager)
        self.orders: list[int] = []

    def casted(self, assistant):
        cast = Cast(**{k: v for k, v in self.cast._users.items() if k != "owner"})
        cast._users["owner"] = assistant
        return cast

    def pick(self, *states, **flags):
        qs = Order.objects.filter(pk__in=self.orders, state__in=states)
        if "submitted" in flags:
            qs = qs.filter(submitted_at__isnull=not flags["submitted"])
        pks = sorted(qs.values_list("pk", flat=True))
        return Order.objects.get(pk=self.rng.choice(pks)) if pks else None

    # the actions ------------------------------------------------------------------------------------------------
    def create(self):
        assistant = self.rng.choice([self.a, self.b])
        state, submitted = self.rng.choice([(State.RECEIVED, False), (State.RECEIVED, True), (State.REVIEWED, False),
                                            (State.PRODUCING, False), (State.SHIPPED, False),
                                            (State.CANCELLED, False)])
        order = make_order(state, submitted=submitted, cast=self.casted(assistant))
        self.orders.append(order.pk)

    def submit(self):
        if order := self.pick(State.RECEIVED, submitted=False):
            run(order, "submit", order.assistant)

    def return_(self):
        if order := self.pick(State.RECEIVED, submitted=True):
            run(order, "return", self.manager, comment="spec unclear")

    def approve(self):
        if order := self.pick(State.RECEIVED, submitted=True):
            run(order, "approve", self.manager, comment="ok")

    def edit(self):  # after the first submission: a correction (and the submission is withdrawn)
        if order := self.pick(State.RECEIVED):
            order_services.update_order(user=order.assistant, order_id=order.pk,
                                        data={"contact_name": f"Contact {self.rng.randrange(10**6)}"})

    def check(self):
        assistant = self.rng.choice([self.a, self.b])
        try:
            check = services.create_periodic_check(user=self.manager, assistant_id=assistant.pk,
                                                   period_start=days(-30), period_end=today(), sample_size=2,
                                                   seed=self.rng.randrange(1000))
        except Exception:  # noqa: BLE001 (no order of theirs submitted yet: nothing to sample)
            return
        for item in check.items.all():
            error = self.rng.random() < 0.6
            services.record_check_outcome(user=self.manager, item_id=item.pk, outcome="error" if error else "correct",
                                          error_description="wrong address" if error else "")

    def accept(self):
        if order := self.pick(State.SHIPPED):
            run(order, "accept", order.assistant, comment="ok", **receipt_data())

    def reject(self):
        if order := self.pick(State.SHIPPED):
            run(order, "reject_delivery", order.assistant, comment="scratched")

    def reship(self):  # a rejected delivery reworked and shipped again
        order = self.pick(State.PRODUCING)
        if order is None or not order.production_issues.filter(kind="quality", resolved_at__isnull=True).exists():
            return
        cast = self.casted(order.assistant)
        for issue in order.production_issues.filter(kind="quality", resolved_at__isnull=True):
            production.resolve_issue(user=cast.production_supervisor, issue_id=issue.pk, resolution="reworked")
        production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=100)
        factories.record_shipment(order, cast)
        run(order, "ship", cast.logistics_specialist, comment="again")

    def promise(self):
        if order := self.pick(State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED):
            new = days(self.rng.randrange(1, 80))
            if new != order.promised_delivery_date:
                order_services.revise_promise(user=self.manager, order_id=order.pk, promised_delivery_date=new,
                                              reason="capacity")

    def reassign(self):
        if order := self.pick(*State.values):
            other = self.b if order.assistant_id == self.a.pk else self.a
            order_services.reassign_order(user=self.manager, order_id=order.pk, assistant=other, reason="holiday")

    def cancel(self):
        if order := self.pick(State.RECEIVED, State.REVIEWED, State.SCHEDULED):
            run(order, "cancel", self.manager, comment="withdrawn")

    def backdate(self):
        """Move an order's dates (as the KPI tests' set-up does): promises due and overdue, submissions and
        approvals on other days, weeks and months, acceptances late."""
        order = self.pick(*State.values)
        if order is None:
            return
        shift = datetime.timedelta(days=self.rng.randrange(-70, 30), hours=self.rng.randrange(24))
        fields = {}
        for name in ("first_submitted_at", "submitted_at", "approved_at", "accepted_at"):
            if getattr(order, name) is not None and self.rng.random() < 0.5:
                fields[name] = getattr(order, name) + shift
        if order.promised_delivery_date is not None and self.rng.random() < 0.7:
            fields["promised_delivery_date"] = days(self.rng.randrange(-60, 40))
        if fields:
            Order.objects.filter(pk=order.pk).update(**fields)

    ACTIONS = ("create", "submit", "return_", "approve", "edit", "check", "accept", "reject", "reship", "promise",
               "reassign", "cancel", "backdate")


def run_world(seed: int, steps: int) -> World:
    world = World(random.Random(seed))
    for _ in range(5):
        world.create()
    assert_rollup_is_live(people=(None, world.a, world.b))
    for step in range(steps):
        action = world.rng.choice(World.ACTIONS)
        getattr(world, action)()
        # exact right after the write: one period of each kind, the team and each assistant
        period = world.rng.choice([(days(-400), days(400)), (days(-10), days(60)), (days(-40), today())])
        assert_rollup_is_live(periods=[period], people=(None, world.rng.choice([world.a, world.b])),
                              todays=(world.rng.choice([0, -3, 20]),)), (step, action)
    assert_rollup_is_live(people=(None, world.a, world.b), todays=(0, -20, 45))
    return world


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_the_rollup_equals_the_live_kpis_after_random_service_actions(seed):
    world = run_world(seed, 40)
    assert Order.objects.filter(pk__in=world.orders).count() >= 5
    # nothing left unfolded, and every stored fact is what the orders say now
    assert not KpiOrderMark.objects.exists()
    assert kpi_rollup.stale_facts() == []


def test_every_kind_of_write_is_seen_even_outside_the_services(sales_assistant, sales_assistant2, sales_manager):
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    returned = make_order("received", cast=cast, submitted=True)
    run(returned, "return", sales_manager, comment="unclear")
    run(returned, "submit", sales_assistant)
    run(returned, "approve", sales_manager, comment="ok")
    shipped = make_order("shipped", cast=cast)
    run(shipped, "reject_delivery", sales_assistant, comment="broken")
    accepted = make_order("accepted", cast=cast)
    corrected = make_order("received", cast=cast, submitted=True)
    order_services.update_order(user=sales_assistant, order_id=corrected.pk, data={"contact_name": "Other"})
    people = (None, sales_assistant, sales_assistant2)
    assert_rollup_is_live(people=people)
    before = kpis(start=days(-400), end=days(400))["counts"]
    assert before["orders_returned"] == 1 and before["orders_corrected"] == 1

    # the state log: a return record removed, a reject_delivery record moved to another order, then removed
    StateLog.objects.filter(object_id=returned.pk, transition="return").delete()
    assert_rollup_is_live(people=people)
    assert kpis(start=days(-400), end=days(400))["counts"]["orders_returned"] == 0
    StateLog.objects.filter(object_id=shipped.pk, transition="reject_delivery").update(object_id=accepted.pk)
    assert_rollup_is_live(people=people)
    StateLog.objects.filter(transition="reject_delivery").update(transition="something_else")
    assert_rollup_is_live(people=people)
    # the field history: the correction moved before the first submission, then to another order, then removed
    change = OrderChange.objects.get(order=corrected, field="contact_name")
    OrderChange.objects.filter(pk=change.pk).update(at=corrected.first_submitted_at - datetime.timedelta(hours=1))
    assert_rollup_is_live(people=people)
    OrderChange.objects.filter(pk=change.pk).update(at=corrected.first_submitted_at + datetime.timedelta(hours=1),
                                                    order=accepted)
    assert_rollup_is_live(people=people)
    OrderChange.objects.filter(pk=change.pk).delete()
    assert_rollup_is_live(people=people)
    # check items: an error recorded by a bulk update, moved, and deleted
    check = services.create_periodic_check(user=sales_manager, assistant_id=sales_assistant.pk,
                                           period_start=days(-1), period_end=today(), sample_size=3, seed=3)
    item = check.items.order_by("pk").first()
    CheckItem.objects.filter(pk=item.pk).update(outcome="error")
    assert_rollup_is_live(people=people)
    unsampled = Order.objects.filter(assistant=sales_assistant).exclude(check_items__check_run=check).first()
    CheckItem.objects.filter(pk=item.pk).update(order=unsampled)
    assert_rollup_is_live(people=people)
    CheckItem.objects.filter(pk=item.pk).delete()
    assert_rollup_is_live(people=people)
    # the orders table: bulk updates of every column a fact reads, reassignment, a raw cancel, a delete
    Order.objects.filter(pk=accepted.pk).update(accepted_at=accepted.accepted_at + datetime.timedelta(days=40))
    Order.objects.filter(pk=shipped.pk).update(promised_delivery_date=days(-5), assistant=sales_assistant2)
    assert_rollup_is_live(people=people)
    Order.objects.filter(pk=returned.pk).update(state=State.CANCELLED, approved_at=None)
    Order.objects.filter(pk=corrected.pk).update(first_submitted_at=None, submitted_at=None)
    assert_rollup_is_live(people=people)
    # an order that counts (its dates set by hand) deleted
    doomed = make_order("received", assistant=sales_assistant2)
    Order.objects.filter(pk=doomed.pk).update(first_submitted_at=doomed.created_at, promised_delivery_date=days(-1),
                                              approved_at=doomed.created_at, submitted_at=doomed.created_at)
    assert_rollup_is_live(people=people)
    assert kpis(start=days(-1), end=today(), assistant=sales_assistant2)["counts"]["orders_due"] == 1
    Order.objects.filter(pk=doomed.pk).delete()
    assert_rollup_is_live(people=people)
    assert kpis(start=days(-1), end=today(), assistant=sales_assistant2)["counts"]["orders_due"] == 0
    assert kpi_rollup.stale_facts() == []


def test_updates_that_change_no_fact_mark_nothing(sales_assistant):
    order = make_order("reviewed", assistant=sales_assistant)
    kpi_rollup.fold()
    Order.objects.filter(pk=order.pk).update(contact_name="x", special_terms="y", total_amount=5)
    Order.objects.filter(pk=order.pk).update(state=State.SCHEDULED)  # still not cancelled
    make_order("received", assistant=sales_assistant)  # never submitted: counts nowhere
    assert not KpiOrderMark.objects.exists()
    Order.objects.filter(pk=order.pk).update(state=State.CANCELLED)
    assert list(KpiOrderMark.objects.values_list("order_id", flat=True)) == [order.pk]


def test_the_kpi_answer_reads_the_rollup_not_the_orders(api_client_for, sales_manager, sales_assistant):
    """Folded once, a day row the orders do not have shows up in the answer (the KPIs read the rollup)."""
    make_order("reviewed", assistant=sales_assistant)
    kpi_rollup.fold()
    KpiDay.objects.filter(assistant_id=sales_assistant.pk, day=today()).update(submitted=7, decided=7, accurate=7)
    body = api_client_for(sales_manager).get("/api/v1/kpis/", {"start": today(), "end": today()}).json()
    assert body["counts"]["orders_submitted"] == 7 and body["accuracy_rate"] == 1.0
    assert kpis(start=today(), end=today(), live=True)["counts"]["orders_submitted"] == 1


def test_a_fold_is_a_fixed_number_of_statements(sales_assistant, django_assert_num_queries):
    for _ in range(2):
        make_order("reviewed", assistant=sales_assistant)
    kpi_rollup.fold()
    with django_assert_num_queries(1):  # nothing marked: one DELETE … RETURNING
        assert kpi_rollup.fold() == 0
    Order.objects.filter(assistant=sales_assistant).update(promised_delivery_date=days(3))
    statements = 5  # take the marks, (PostgreSQL: lock,) read the orders, take the old facts, write (SQLite: 2)
    with django_assert_num_queries(statements):
        assert kpi_rollup.fold() == 2
    for _ in range(6):
        make_order("reviewed", assistant=sales_assistant)
    Order.objects.filter(assistant=sales_assistant).update(promised_delivery_date=days(4))
    with django_assert_num_queries(statements):
        assert kpi_rollup.fold() == 8


def test_beat_folds_and_drops_empty_days(sales_assistant, sales_manager):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="fold_kpi_rollup")
    assert task.task == "supervision.tasks.fold_kpi_rollup" and task.enabled
    assert task.interval.every == 5 and task.interval.period == "minutes"
    order = make_order("received", assistant=sales_assistant, submitted=True)
    assert tasks.fold_kpi_rollup() == 1 and not KpiOrderMark.objects.exists()
    assert KpiDay.objects.get(assistant_id=sales_assistant.pk, day=today()).submitted == 1
    Order.objects.filter(pk=order.pk).update(first_submitted_at=order.first_submitted_at - datetime.timedelta(days=3))
    tasks.fold_kpi_rollup()
    assert list(KpiDay.objects.values_list("day", "submitted")) == [(days(-3), 1)]  # today's emptied row dropped
    assert_rollup_is_live(people=(None, sales_assistant))


def test_rebuild_and_verify_and_a_new_time_zone(sales_assistant, sales_manager, settings):
    from django.core.management import call_command

    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    make_order("accepted", cast=cast)
    make_order("received", cast=cast, submitted=True)
    kpi_rollup.fold()
    KpiDay.objects.update(submitted=99)  # broken by hand: --verify fails, --rebuild repairs
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("kpi_rollup", "--verify")
    call_command("kpi_rollup", "--rebuild", "--verify")
    assert kpi_rollup.check_zone() is False  # built in settings.TIME_ZONE: nothing to do
    # late in the evening UTC is the next morning in Shanghai: another zone moves the local days
    Order.objects.filter(assistant=sales_assistant).update(
        first_submitted_at=datetime.datetime(2026, 1, 31, 20, 0, tzinfo=datetime.UTC),
        approved_at=datetime.datetime(2026, 1, 31, 23, 0, tzinfo=datetime.UTC))
    kpi_rollup.fold()
    assert set(KpiDay.objects.filter(submitted__gt=0).values_list("day", flat=True)) == {datetime.date(2026, 2, 1)}
    settings.TIME_ZONE = "UTC"
    assert kpi_rollup.check_zone() is True
    assert list(KpiRollupZone.objects.values_list("name", flat=True)) == ["UTC"]
    assert set(KpiDay.objects.filter(submitted__gt=0).values_list("day", flat=True)) == {datetime.date(2026, 1, 31)}


# --- concurrent readers (PostgreSQL: real transactions in threads) ----------------------------------------------
def _in_thread(target):
    errors = []

    def work():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 (reported to the test)
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread, errors


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has one writer at a time: no concurrent fold")
@pytest.mark.django_db(transaction=True)
def test_two_readers_fold_once_and_never_count_twice():
    assistant = factories.user_with_role("sales_assistant", "rollup_concurrent")
    cast = Cast(owner=assistant)
    orders = [make_order("reviewed", cast=cast) for _ in range(3)]
    a_holds, a_may_commit, b_done = threading.Event(), threading.Event(), threading.Event()

    def reader_a():  # folds every mark, then keeps its transaction (its lock and deleted marks) open
        with transaction.atomic():
            assert kpi_rollup.fold() == 3
            a_holds.set()
            assert a_may_commit.wait(30)

    def reader_b():  # its own mark of the same order: it must wait for A and then fold on top of A's facts
        kpis(start=days(-400), end=days(400))
        b_done.set()

    thread_a, errors_a = _in_thread(reader_a)
    assert a_holds.wait(30)
    # a write to an order A has folded, committed while A still works: a new mark only B can take
    Order.objects.filter(pk=orders[0].pk).update(promised_delivery_date=days(-2))
    thread_b, errors_b = _in_thread(reader_b)
    assert not b_done.wait(1.0), "B folded while A still held the lock"
    a_may_commit.set()
    for thread in (thread_a, thread_b):
        thread.join(60)
    assert not errors_a and not errors_b, (errors_a, errors_b)
    assert b_done.is_set()
    assert not KpiOrderMark.objects.exists()
    totals = KpiDay.objects.aggregate(submitted=Sum("submitted"), promised=Sum("promised"))
    assert totals == {"submitted": 3, "promised": 3}  # three orders, each counted once
    assert_rollup_is_live(people=(None, assistant), todays=(0, 5))
    assert kpi_rollup.stale_facts() == []


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has one writer at a time: no concurrent fold")
@pytest.mark.django_db(transaction=True)
def test_readers_at_once_all_get_the_exact_answer():
    assistant = factories.user_with_role("sales_assistant", "rollup_many")
    cast = Cast(owner=assistant)
    for state in ("reviewed", "accepted", "received"):
        make_order(state, cast=cast, submitted=True)
    expected = kpis(start=days(-30), end=days(90), live=True)
    barrier = threading.Barrier(4)
    answers = []

    def reader():
        barrier.wait(30)
        answers.append(kpis(start=days(-30), end=days(90)))

    threads = [_in_thread(reader) for _ in range(4)]
    for thread, errors in threads:
        thread.join(60)
        assert not errors, errors
    assert answers == [expected] * 4
    assert KpiOrderFact.objects.count() == 3 and kpi_rollup.day_sums_match_facts()


# --- SQLite (the quick start) ---------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not ON_POSTGRESQL, reason="already running on SQLite")
def test_the_same_on_sqlite(tmp_path):
    """This module's tests on SQLite (its own triggers, upsert and RETURNING), in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SECRET_KEY")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CELERY_BROKER_URL": "memory://",
                "CELERY_TASK_ALWAYS_EAGER": "true", "DEBUG": "false"})
    env.setdefault("SECRET_KEY", "x" * 60)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--create-db",
         str(Path(__file__).relative_to(ROOT)), "-k", "not test_the_same_on_sqlite"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-3000:]
    assert " passed" in out.stdout and "failed" not in out.stdout
