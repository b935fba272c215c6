"""The KPI rollup (issue 14): the accuracy, delivery and turnaround cohorts' counts per assistant and local day,
kept exact by database triggers and folded before every read. Why this design: :mod:`supervision.selectors.kpis`.

Three tables (:mod:`supervision.models`):

- :class:`~supervision.models.KpiOrderMark` — an order whose contribution may have changed. Triggers (migration
  ``supervision/0003``, PostgreSQL plpgsql and SQLite) append one on every write that can change a fact: an order
  inserted, deleted or updated in its assistant, state, submission, approval, promise or acceptance columns; a
  ``return`` or ``reject_delivery`` record of the state log written, changed or removed; any row of the field
  history (``OrderChange``); a check item whose outcome is or was ``error``. Writers only ever insert marks, so a
  write never waits for a reader.
- :class:`~supervision.models.KpiOrderFact` — what each order counts for as of the last fold.
- :class:`~supervision.models.KpiDay` — the sums of the facts per (assistant, local day).

:func:`fold` deletes the marks and reads them back in one statement (``DELETE … RETURNING``): a mark a concurrent
writer commits later stays for the next fold, and two folds never take the same mark. Two folds never work at
once either: a second fold's ``DELETE`` meets the marks the first one deleted and waits for its commit, and on
PostgreSQL each fold then takes a transaction-level advisory lock (the same one :func:`rebuild` and the compaction
take; always after the marks, never before, so no two of them wait for each other). Whatever follows reads what
the previous fold committed: its facts are the old ones (SQLite has one writer at a time anyway). For the marked
orders it computes the facts again from the orders table (the same definitions as the live cohorts, local days of
``settings.TIME_ZONE``), deletes the old facts reading them back, writes the new ones and adds ``new − old`` to
the days — in a fixed number of statements whatever the number of orders (up to :data:`CHUNK` orders a round).
A fact is always at least as new as the marks folded into it, and any later write has a mark still waiting, so a
read that folds first is exact.

:func:`rebuild` recomputes everything from the orders (``manage.py kpi_rollup --rebuild``; after ``migrate``
when the time zone the rollup was built in is not ``settings.TIME_ZONE``, see :func:`check_zone`).
:func:`fold_and_compact` is beat's (every five minutes): a fold, then the days that sum to nothing are dropped.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import TruncDate
from django.utils import timezone
from django_fsm_log.models import StateLog

from orders.models import Order, OrderChange, State
from supervision.models import CheckItem, KpiDay, KpiOrderFact, KpiOrderMark, KpiRollupZone

#: orders recomputed per round (one query reads them, one deletes their old facts)
CHUNK = 2000
#: rows per INSERT (SQLite binds at most 32,766 parameters per statement)
BATCH = 500
#: the PostgreSQL advisory lock that lets one fold at a time work on the facts ("KPI")
LOCK_KEY = 0x4B5049

MARKS = KpiOrderMark._meta.db_table
FACTS = KpiOrderFact._meta.db_table
DAYS = KpiDay._meta.db_table
FACT_COLUMNS = ("order_id", "assistant_id", "submitted_on", "decided", "accurate", "returned", "corrected",
                "promised_on", "accepted", "on_time", "on_time_in_full", "approved_on", "turnaround_us")
DAY_COUNTS = ("submitted", "decided", "accurate", "returned", "corrected", "promised", "accepted", "on_time",
              "on_time_in_full", "approved", "turnaround_us")
_ZERO = (0,) * len(DAY_COUNTS)
_ONE_MICROSECOND = datetime.timedelta(microseconds=1)


# --- one order's facts ------------------------------------------------------------------------------------------
def facts_of(order_ids) -> list[tuple]:
    """The facts (rows of :data:`FACT_COLUMNS`) of these orders as they are now; an order that counts in no
    cohort (never submitted, approved or promised) or no longer exists has none. One query."""
    from supervision.selectors.common import CORRECTION_FIELDS, order_ct

    tz = timezone.get_default_timezone()
    ct = order_ct()

    def logged(name):
        return Exists(StateLog.objects.filter(content_type=ct, object_id=OuterRef("pk"), transition=name))

    rows = (
        Order.objects.filter(pk__in=order_ids).order_by()
        .annotate(
            first_day=TruncDate("first_submitted_at", tzinfo=tz),
            approved_day=TruncDate("approved_at", tzinfo=tz),
            accepted_day=TruncDate("accepted_at", tzinfo=tz),
            was_returned=logged("return"),
            was_rejected=logged("reject_delivery"),
            was_corrected=Exists(OrderChange.objects.filter(order=OuterRef("pk"), field__in=CORRECTION_FIELDS,
                                                            at__gt=OuterRef("first_submitted_at"))),
            check_error=Exists(CheckItem.objects.filter(order=OuterRef("pk"), outcome=CheckItem.Outcome.ERROR)),
        )
        .values_list("pk", "assistant_id", "state", "promised_delivery_date", "submitted_at", "approved_at",
                     "first_day", "approved_day", "accepted_day", "was_returned", "was_rejected", "was_corrected",
                     "check_error")
    )
    facts = []
    for (pk, assistant_id, state, promised, submitted_at, approved_at, first_day, approved_day, accepted_day,
         returned, rejected, corrected, check_error) in rows:
        fact = [pk, assistant_id, None, False, False, False, False, None, False, False, False, None, 0]
        if first_day is not None:  # accuracy: first submitted on this day
            approved = approved_at is not None
            corrected = bool(corrected or check_error)
            fact[2:7] = [first_day, approved or returned, approved and not returned and not corrected,
                         bool(returned), corrected]
        if promised is not None and state != State.CANCELLED:  # delivery: promised for this day
            on_time = accepted_day is not None and accepted_day <= promised
            fact[7:11] = [promised, accepted_day is not None, on_time, on_time and not rejected]
        if approved_at is not None and submitted_at is not None:  # turnaround: approved on this day
            fact[11:13] = [approved_day, (approved_at - submitted_at) // _ONE_MICROSECOND]
        if fact[2] is not None or fact[7] is not None or fact[11] is not None:
            facts.append(tuple(fact))
    return facts


def contributions(fact):
    """What a fact adds to :class:`KpiDay`: ((assistant, day), counts in :data:`DAY_COUNTS` order) per cohort."""
    (_pk, assistant_id, submitted_on, decided, accurate, returned, corrected, promised_on, accepted, on_time,
     on_time_in_full, approved_on, turnaround_us) = fact
    if submitted_on is not None:
        yield (assistant_id, submitted_on), (1, int(decided), int(accurate), int(returned), int(corrected),
                                             0, 0, 0, 0, 0, 0)
    if promised_on is not None:
        yield (assistant_id, promised_on), (0, 0, 0, 0, 0, 1, int(accepted), int(on_time), int(on_time_in_full),
                                            0, 0)
    if approved_on is not None:
        yield (assistant_id, approved_on), (0, 0, 0, 0, 0, 0, 0, 0, 0, 1, int(turnaround_us))


# --- folding ----------------------------------------------------------------------------------------------------
def _values(n_rows: int, n_columns: int) -> str:
    row = "(" + ", ".join(["%s"] * n_columns) + ")"
    return ", ".join([row] * n_rows)


def _insert_facts_sql(facts) -> tuple[str, list]:
    columns = ", ".join(FACT_COLUMNS)
    return (f"INSERT INTO {FACTS} ({columns}) VALUES {_values(len(facts), len(FACT_COLUMNS))}",  # noqa: S608
            [value for fact in facts for value in fact])


def _add_to_days_sql(deltas) -> tuple[str, list]:
    """One upsert adding each (assistant, day)'s counts to its row (PostgreSQL and SQLite spell it alike)."""
    columns = ", ".join(("assistant_id", "day", *DAY_COUNTS))
    added = ", ".join(f"{c} = {DAYS}.{c} + excluded.{c}" for c in DAY_COUNTS)
    sql = (f"INSERT INTO {DAYS} ({columns}) VALUES {_values(len(deltas), 2 + len(DAY_COUNTS))} "  # noqa: S608
           f"ON CONFLICT (day, assistant_id) DO UPDATE SET {added}")
    return sql, [value for (assistant_id, day), counts in deltas for value in (assistant_id, day, *counts)]


def _write(cursor, facts: list, deltas: list) -> None:
    """Insert the new facts and add the deltas to the days: on PostgreSQL both in one statement a batch (a data
    modifying ``WITH``), on SQLite one statement each."""
    while facts or deltas:
        some_facts, facts = facts[:BATCH], facts[BATCH:]
        some_deltas, deltas = deltas[:BATCH], deltas[BATCH:]
        statements = []
        if some_facts:
            statements.append(_insert_facts_sql(some_facts))
        if some_deltas:
            statements.append(_add_to_days_sql(some_deltas))
        if connection.vendor == "postgresql" and len(statements) == 2:
            (first, first_params), (second, second_params) = statements
            statements = [(f"WITH new_facts AS ({first}) {second}", first_params + second_params)]
        for sql, params in statements:
            cursor.execute(sql, params)


def _fold_orders(cursor, order_ids: list) -> None:
    """Recompute these orders' facts and move the days by ``new − old``. A round of :data:`CHUNK` orders reads
    them, takes their old facts and writes the new ones; the days are written once, with the last round's facts
    on PostgreSQL (each day row is updated once per fold, however many rounds). Hold the fold lock."""
    deltas: dict = defaultdict(lambda: [0] * len(DAY_COUNTS))
    chunks = [order_ids[i:i + CHUNK] for i in range(0, len(order_ids), CHUNK)]
    for n, chunk in enumerate(chunks, 1):
        facts = facts_of(chunk)
        cursor.execute(f"DELETE FROM {FACTS} WHERE order_id IN ({', '.join(['%s'] * len(chunk))}) "  # noqa: S608
                       f"RETURNING {', '.join(FACT_COLUMNS)}", chunk)
        old = cursor.fetchall()
        if connection.vendor == "sqlite":  # SQLite hands back dates and booleans as stored
            old = [_parse_fact(row) for row in old]
        for sign, rows in ((-1, old), (1, facts)):
            for fact in rows:
                for key, counts in contributions(fact):
                    total = deltas[key]
                    for j, count in enumerate(counts):
                        total[j] += sign * count
        last = n == len(chunks)
        changed = [(key, tuple(c)) for key, c in sorted(deltas.items()) if tuple(c) != _ZERO] if last else []
        _write(cursor, facts, changed)


def _parse_fact(row) -> tuple:
    def day(value):
        return datetime.date.fromisoformat(value) if isinstance(value, str) else value

    row = list(row)
    for i in (2, 7, 11):
        row[i] = day(row[i])
    return tuple(row)


def _lock(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def fold() -> int:
    """Fold the marked orders into the rollup; returns how many orders were folded. With nothing marked it is
    one statement; otherwise five (PostgreSQL: take the marks, lock, read the orders, take the old facts, write)
    for up to :data:`CHUNK` orders."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MARKS} RETURNING order_id")  # noqa: S608 (our table)
        order_ids = sorted({row[0] for row in cursor.fetchall()})
        if order_ids:
            _lock(cursor)
            _fold_orders(cursor, order_ids)
    return len(order_ids)


def fold_and_compact() -> int:
    """Beat's run: a fold, then the days whose counts are all zero are dropped. Returns the orders folded."""
    folded = fold()
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(f"DELETE FROM {DAYS} WHERE " + " AND ".join(f"{c} = 0" for c in DAY_COUNTS))  # noqa: S608
    return folded


def rebuild() -> int:
    """Recompute every fact and day from the orders (and record the time zone they are in); returns the orders
    that count. Marks written meanwhile by concurrent writes stay for the next fold."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MARKS}")  # noqa: S608 (our tables) — the marks first, then the lock, as a fold
        _lock(cursor)
        for table in (FACTS, DAYS):  # PostgreSQL: a new file for each, no dead rows left behind
            cursor.execute(f"{'TRUNCATE' if connection.vendor == 'postgresql' else 'DELETE FROM'} {table}")
        _fold_orders(cursor, list(Order.objects.order_by("pk").values_list("pk", flat=True)))
        KpiRollupZone.objects.all().delete()
        KpiRollupZone.objects.create(name=settings.TIME_ZONE)
        counted = KpiOrderFact.objects.count()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:  # every row was rewritten: fresh statistics, no dead rows to scan
            cursor.execute(f"VACUUM ANALYZE {MARKS}, {FACTS}, {DAYS}")  # noqa: S608
    return counted


def check_zone() -> bool:
    """Rebuild when the rollup's local days are not those of ``settings.TIME_ZONE`` (or it was never built):
    run after every ``migrate``. Returns whether it rebuilt."""
    if list(KpiRollupZone.objects.values_list("name", flat=True)) == [settings.TIME_ZONE]:
        return False
    rebuild()
    return True


# --- checking ---------------------------------------------------------------------------------------------------
def stale_facts() -> list[int]:
    """After a fold: the orders whose stored fact is not what their rows say now (a write no trigger saw)."""
    fold()
    stored = {row[0]: tuple(row) for row in KpiOrderFact.objects.order_by().values_list(*FACT_COLUMNS)}
    current = {}
    ids = list(Order.objects.order_by("pk").values_list("pk", flat=True))
    for i in range(0, len(ids), CHUNK):
        current.update((fact[0], fact) for fact in facts_of(ids[i:i + CHUNK]))
    return sorted(pk for pk in stored.keys() | current.keys() if stored.get(pk) != current.get(pk))


def day_sums_match_facts() -> bool:
    """The days are the sums of the facts (dropping the days that sum to nothing)."""
    sums: dict = defaultdict(lambda: [0] * len(DAY_COUNTS))
    for fact in KpiOrderFact.objects.order_by().values_list(*FACT_COLUMNS):
        for key, counts in contributions(fact):
            for j, n in enumerate(counts):
                sums[key][j] += n
    expected = {key: tuple(c) for key, c in sums.items() if tuple(c) != _ZERO}
    stored = {(a, d): tuple(c) for a, d, *c in KpiDay.objects.values_list("assistant_id", "day", *DAY_COUNTS)
              if tuple(c) != _ZERO}
    return stored == expected
