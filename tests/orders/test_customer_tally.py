"""The customers' tallies the database keeps (``orders.models.CustomerStateTally``, migration 0012) equal a count and
sum of the orders table (by customer, state and submission) after every kind of write, before and after compaction,
on PostgreSQL and on SQLite; the review queue reads the open exposure and its number of waiting orders from them and
shows what a live count and sum over the orders would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Count, Sum

from orders import services, tasks
from orders.models import OPEN_APPROVED_STATES, CustomerStateTally, Order, State
from orders.selectors import customer_open_exposure
from supervision.selectors import review as review_reads
from tests import factories
from tests.factories import Cast, days, make_order, run, today

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cast(db):
    return Cast()


def _invoice_and_pay(cast, order, amount: str, paid: str) -> None:
    from finance import services as finance

    invoice = finance.create_invoice(user=cast.finance_specialist, order_id=order.pk, amount=Decimal(amount),
                                     due_date=days(30))
    finance.record_payment(user=cast.finance_specialist, invoice_id=invoice.pk, amount=Decimal(paid),
                           received_on=today(), reference="BANK-1")


def _live(by_submission=False) -> dict:
    from django.db.models import BooleanField, ExpressionWrapper, Q

    submitted = ExpressionWrapper(Q(submitted_at__isnull=False), output_field=BooleanField())
    rows = Order.objects.order_by().annotate(sub=submitted).values_list("customer_id", "state", "sub").annotate(
        n=Count("*"), s=Sum("total_amount"))
    out: dict = {}
    for c, st, sub, n, s in rows:
        key = (c, st, sub) if by_submission else (c, st)
        count, total = out.get(key, (0, Decimal("0")))
        out[key] = (count + n, total + s)
    return out


def _tallied(by_submission=False) -> dict:
    rows = CustomerStateTally.objects.order_by().values_list("customer_id", "state", "submitted").annotate(
        n=Sum("n"), s=Sum("amount"))
    out: dict = {}
    for c, st, sub, n, s in rows:
        key = (c, st, sub) if by_submission else (c, st)
        count, total = out.get(key, (0, Decimal("0")))
        out[key] = (count + n, total + s)
    return {k: v for k, v in out.items() if v[0] or v[1]}


def test_the_tallies_follow_creates_transitions_edits_bulk_updates_and_deletes(cast, sales_manager):
    first, second = factories.CustomerFactory(), factories.CustomerFactory()
    received = make_order("received", cast=cast, customer=first, submitted=True)
    reviewed = make_order("reviewed", cast=cast, customer=first)
    make_order("cancelled", cast=cast, customer=second)
    assert _tallied() == _live() and _live()[(first.pk, State.REVIEWED)][0] == 1

    assert _tallied(True) == _live(True) and (first.pk, State.RECEIVED, True) in _live(True)
    run(received, "approve", sales_manager)
    assert _tallied(True) == _live(True) and (first.pk, State.RECEIVED) not in _live()
    # writes that bypass the services count too: a new total, another customer, a new state, a raw delete
    Order.objects.filter(pk=reviewed.pk).update(total_amount=Decimal("1234.56"))
    assert _tallied() == _live()
    Order.objects.filter(pk=reviewed.pk).update(customer=second)
    assert _tallied() == _live() and _live()[(second.pk, State.REVIEWED)] == (1, Decimal("1234.56"))
    Order.objects.filter(pk=received.pk).update(state=State.PRODUCING)
    Order.objects.filter(pk=reviewed.pk).delete()
    assert _tallied() == _live()
    assert set(_live()) == {(first.pk, State.PRODUCING), (second.pk, State.CANCELLED)}
    # submitting, returning and withdrawing move an order in and out of the queue
    waiting = make_order("received", cast=cast, customer=first)
    assert (first.pk, State.RECEIVED, False) in _tallied(True)
    run(waiting, "submit", cast.owner)
    assert _tallied(True) == _live(True) and _live(True)[(first.pk, State.RECEIVED, True)][0] == 1
    run(waiting, "return", sales_manager, comment="no")
    assert _tallied(True) == _live(True) and (first.pk, State.RECEIVED, True) not in _tallied(True)
    Order.objects.filter(pk=waiting.pk).update(submitted_at="2030-01-01T00:00Z")
    assert _tallied(True) == _live(True) and review_reads.awaiting_review_count() == 1
    # an update that changes none of the three columns appends nothing
    rows = CustomerStateTally.objects.count()
    Order.objects.filter(pk=received.pk).update(contact_name="someone else", promised_delivery_date="2031-01-01")
    assert CustomerStateTally.objects.count() == rows


def test_compaction_folds_the_rows_and_keeps_the_sums(cast, sales_manager):
    customer = factories.CustomerFactory()
    for _ in range(3):
        order = make_order("received", cast=cast, customer=customer, submitted=True)
        run(order, "approve", sales_manager)
    make_order("received", cast=cast, customer=customer, submitted=True)
    before = _tallied(True)
    appended = CustomerStateTally.objects.count()
    tasks.compact_state_tallies()  # the beat task folds these rows with the per-state ones
    assert CustomerStateTally.objects.count() < appended
    assert _tallied(True) == before == _live(True)
    rows = list(CustomerStateTally.objects.values_list("customer_id", "state", "submitted", "n", "amount"))
    assert len(rows) == len({(c, s, b) for c, s, b, *_x in rows}) and all(n or a for *_k, n, a in rows)
    # the approved orders left `received`: their received rows folded to nothing; one order still waits
    assert [(s, b, n) for _c, s, b, n, _a in rows if s == State.RECEIVED] == [(State.RECEIVED, True, 1)]
    assert review_reads.awaiting_review_count() == 1
    assert services.compact_customer_tallies() == len(rows)  # a second run folds what the first left
    assert _tallied(True) == before


def test_the_review_queue_reads_the_exposure_from_the_tallies(client, cast, sales_manager):
    """The queue's exposure is the live one (open approved orders less what was paid); an order whose total on top
    of it is over the customer's limit is flagged, one that fits is not."""
    customer = factories.CustomerFactory(credit_limit=Decimal("5000.00"))
    other = factories.CustomerFactory(credit_limit=Decimal("5000.00"))
    accepted = make_order("accepted", cast=cast, customer=customer)
    make_order("reviewed", cast=cast, customer=customer)
    make_order("settled", cast=cast, customer=customer)  # closed: not exposure
    _invoice_and_pay(cast, accepted, "1000.00", "400.00")
    live = customer_open_exposure(customer=customer)
    assert review_reads.exposures_of([customer.pk, other.pk]) == {customer.pk: live, other.pk: Decimal("0")}
    assert live == sum((o.total_amount for o in Order.objects.filter(customer=customer,
                                                                      state__in=OPEN_APPROVED_STATES)),
                       Decimal("0")) - Decimal("400.00")

    fits = make_order("received", cast=cast, customer=customer, submitted=True)
    Order.objects.filter(pk=fits.pk).update(total_amount=Decimal("5000.00") - live)
    over = make_order("received", cast=cast, customer=customer, submitted=True)
    Order.objects.filter(pk=over.pk).update(total_amount=Decimal("5000.01") - live)
    tasks.compact_state_tallies()  # folded or not, the same answer
    client.force_login(sales_manager)
    for language in ("en", "zh-hans"):
        html = client.get("/supervision/review/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        rows = {number: html.split(f'data-order="{number}"')[1].split("</tr>")[0] for number in (fits.number,
                                                                                                 over.number)}
        assert "need-credit" not in rows[fits.number]
        assert "need-credit" in rows[over.number]


SQLITE_SCRIPT = """
import json, django
django.setup()
from decimal import Decimal
from django.db.models import Sum
from orders import services
from orders.models import Customer, CustomerStateTally, Order
from django.contrib.auth import get_user_model
c = Customer.objects.create(code="T", name="T", contact_name="a", contact_phone="1", address="x")
c2 = Customer.objects.create(code="U", name="U", contact_name="a", contact_phone="1", address="x")
u = get_user_model().objects.create(username="t")
def make(n, **kw):
    return Order.objects.create(number=n, customer=c, contact_name="a", contact_phone="1", delivery_address="x",
                                requested_delivery_date="2030-01-01", assistant=u, created_by=u, **kw)
a, b, d = make("A", total_amount=Decimal("10.50")), make("B", state="reviewed", total_amount=Decimal("7.25")), make("D")
Order.objects.filter(pk=a.pk).update(submitted_at="2030-01-01T00:00Z")
Order.objects.filter(pk=a.pk).update(state="scheduled", total_amount=Decimal("11.00"))
Order.objects.filter(pk=b.pk).update(customer=c2)
Order.objects.filter(pk=b.pk).update(contact_name="z")
d.delete()
def tallied():
    rows = CustomerStateTally.objects.values_list("customer__code", "state", "submitted").annotate(
        n=Sum("n"), s=Sum("amount"))
    return sorted([k, st, bool(sub), n, str(s)] for k, st, sub, n, s in rows.order_by() if n or s)
before = tallied()
folded = services.compact_customer_tallies()
print(json.dumps([before, tallied(), folded, CustomerStateTally.objects.count()]))
"""


def test_the_sqlite_trigger_of_the_quick_start_sums_the_same(tmp_path):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SECRET_KEY")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DEBUG": "true",
                "CELERY_BROKER_URL": "memory://", "DJANGO_SETTINGS_MODULE": "orderdesk.settings"})
    env.setdefault("SECRET_KEY", "x" * 60)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    out = subprocess.run([sys.executable, "-c", SQLITE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    before, after, folded, rows = json.loads(out.stdout.strip().splitlines()[-1])
    expected = [["T", "scheduled", True, 1, "11.00"], ["U", "reviewed", False, 1, "7.25"]]
    assert [[k, s, b, n, str(Decimal(a).quantize(Decimal("0.01")))] for k, s, b, n, a in before] == expected
    assert [[k, s, b, n, str(Decimal(a).quantize(Decimal("0.01")))] for k, s, b, n, a in after] == expected
    # inserts a, b, d (3) + a's submission (2) and update (2) + b's move to another customer (2) + d's delete (1);
    # b's contact change touched none of the columns
    assert folded == 10 and rows == 2
