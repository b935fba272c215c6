"""Each customer's open exposure as the database keeps it (``orders.models.CustomerExposure``, migration 0012)
equals the figure added up from the orders and their invoices (``selectors.live_open_exposure``, DESIGN §4's
definition) after every kind of write: approvals, invoices and payments, settlement, cancellation, bulk updates
and deletes that bypass the services, before and after compaction, on PostgreSQL and on SQLite. The credit
check reads it in a fixed number of queries however many orders are open."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders import selectors, services
from orders.models import Customer, CustomerExposure, Order, State
from tests.factories import Cast, CustomerFactory, invoice_and_pay, make_order, run
from tests.utils import run_on_fresh_sqlite

pytestmark = pytest.mark.django_db


def _check_every_customer() -> dict[int, Decimal]:
    kept = {}
    for customer in Customer.objects.all():
        live = selectors.live_open_exposure(customer=customer)
        position = selectors.credit_position_of(customer_id=customer.pk)[1]
        assert position == live, (customer.code, position, live)
        assert selectors.customer_open_exposure(customer=customer) == live
        kept[customer.pk] = live
    listed = {c.pk: c.open_exposure for c in selectors.customers_with_exposure()}
    assert listed == kept
    return kept


def test_the_exposure_follows_approvals_payments_settlement_and_cancellation(sales_manager):
    cast = Cast()
    customer = CustomerFactory(credit_limit=Decimal("10000000.00"))
    approved = make_order("reviewed", cast=cast, customer=customer)
    producing = make_order("producing", cast=cast, customer=customer)
    make_order("received", cast=cast, submitted=True, customer=customer)  # not open: counts nothing
    kept = _check_every_customer()
    assert kept[approved.customer_id] == approved.total_amount + producing.total_amount
    # an invoice paid in part, then in full, lowers it; a settled order leaves it
    invoice = invoice_and_pay(producing, cast, pay=False)
    _check_every_customer()
    from finance import services as finance

    finance.record_payment(user=cast.finance_specialist, invoice_id=invoice.pk, amount=Decimal("10.00"),
                           received_on=invoice.issued_at.date(), reference="PART")
    assert _check_every_customer()[approved.customer_id] == (
        approved.total_amount + producing.total_amount - Decimal("10.00"))
    accepted = make_order("accepted", cast=cast, customer=customer)
    invoice_and_pay(accepted, cast)
    _check_every_customer()
    run(accepted, "settle", cast.finance_specialist, comment="settled")
    _check_every_customer()
    run(approved, "cancel", cast.sales_manager, comment="customer withdrew")
    assert _check_every_customer()[approved.customer_id] == producing.total_amount - Decimal("10.00")


def test_writes_around_the_services_count_too(sales_manager):
    cast = Cast()
    order = make_order("reviewed", cast=cast)
    other = Customer.objects.exclude(pk=order.customer_id).first() or Customer.objects.create(
        code="OTHER", name="Other", contact_name="a", contact_phone="1", address="x")
    Order.objects.filter(pk=order.pk).update(total_amount=Decimal("123.45"))
    assert _check_every_customer()[order.customer_id] == Decimal("123.45")
    Order.objects.filter(pk=order.pk).update(customer=other)
    kept = _check_every_customer()
    assert kept[other.pk] == Decimal("123.45") and kept.get(order.customer_id, Decimal("0")) == 0
    Order.objects.filter(pk=order.pk).update(state=State.SETTLED)
    _check_every_customer()
    Order.objects.filter(pk=order.pk).update(state=State.SHIPPED)
    _check_every_customer()
    # an update that changes none of the columns appends nothing
    rows = CustomerExposure.objects.count()
    Order.objects.filter(pk=order.pk).update(contact_name="someone else")
    assert CustomerExposure.objects.count() == rows
    Order.objects.filter(pk=order.pk).delete()
    assert _check_every_customer()[other.pk] == 0


def test_compaction_folds_the_rows_and_keeps_the_sums(sales_manager):
    cast = Cast()
    customer = CustomerFactory(credit_limit=Decimal("10000000.00"))
    for _ in range(3):
        order = make_order("reviewed", cast=cast, customer=customer)
    invoice_and_pay(order, cast)
    before = _check_every_customer()
    appended = CustomerExposure.objects.count()
    assert services.compact_state_tallies() >= appended
    assert _check_every_customer() == before
    rows = list(CustomerExposure.objects.values_list("customer_id", "amount"))
    assert len(rows) == len({c for c, _a in rows}) and all(a for _c, a in rows)


def test_the_credit_check_reads_the_kept_figure_in_fixed_queries(sales_manager, django_assert_num_queries):
    """Approving costs the same queries whatever the customer's open orders; an order over the limit is refused
    with the kept figure, as with the live one."""
    cast = Cast()
    customer = CustomerFactory(credit_limit=Decimal("10000000.00"))
    first = make_order("reviewed", cast=cast, customer=customer)
    exposure = selectors.credit_position_of(customer_id=customer.pk)[1]
    for _ in range(3):
        make_order("reviewed", cast=cast, customer=customer)
    with django_assert_num_queries(1):
        limit, more = selectors.credit_position_of(customer_id=customer.pk)
    assert more == exposure * 4 == selectors.live_open_exposure(customer=customer)
    Customer.objects.filter(pk=customer.pk).update(credit_limit=more)  # exactly used up
    waiting = make_order("received", cast=cast, submitted=True, customer=customer)
    answer = pytest.raises(Exception, run, waiting, "approve", cast.sales_manager)
    assert "credit_limit_exceeded" in str(answer.value.unmet)
    # an open order excluded from its own customer's figure (the review page of an approved order)
    assert selectors.customer_open_exposure(customer=customer, exclude_order=first) == more - first.total_amount


SQLITE_SCRIPT = """
import json
from decimal import Decimal
from orders import selectors, services
from orders.models import Customer, Order
from finance.models import Invoice
from django.contrib.auth import get_user_model
c = Customer.objects.create(code="T", name="T", contact_name="a", contact_phone="1", address="x")
u = get_user_model().objects.create(username="t")
def make(n, **kw):
    return Order.objects.create(number=n, customer=c, contact_name="a", contact_phone="1", delivery_address="x",
                                requested_delivery_date="2030-01-01", assistant=u, created_by=u, **kw)
a, b = make("A", total_amount=Decimal("100.00")), make("B", state="reviewed", total_amount=Decimal("50.50"))
Order.objects.filter(pk=a.pk).update(state="scheduled")
inv = Invoice.objects.create(order=b, amount=Decimal("50.50"), due_date="2030-01-01", issued_by=u)
Invoice.objects.filter(pk=inv.pk).update(paid_amount=Decimal("20.25"))
figures = [str(selectors.credit_position_of(customer_id=c.pk)[1]), str(selectors.live_open_exposure(customer=c))]
Order.objects.filter(pk=b.pk).update(state="settled")
figures += [str(selectors.credit_position_of(customer_id=c.pk)[1]), str(selectors.live_open_exposure(customer=c))]
services.compact_state_tallies()
figures += [str(selectors.credit_position_of(customer_id=c.pk)[1])]
print(json.dumps(figures))
"""


def test_the_sqlite_triggers_of_the_quick_start_keep_the_same_figure(tmp_path):
    figures =run_on_fresh_sqlite(tmp_path, SQLITE_SCRIPT)
    # scheduled A (100.00) + reviewed B (50.50) less 20.25 paid; then B settled: A alone; compaction keeps it
    assert figures == ["130.25", "130.25", "100.00", "100.00", "100.00"]


def test_check_exposure_finds_and_repairs_a_difference(sales_manager):
    from io import StringIO

    from django.core.management import call_command

    order = make_order("reviewed")
    out = StringIO()
    call_command("check_exposure", stdout=out)
    assert "no difference" in out.getvalue()
    CustomerExposure.objects.create(customer_id=order.customer_id, amount=Decimal("5.00"))  # drifted
    with pytest.raises(SystemExit):
        call_command("check_exposure", stdout=StringIO(), stderr=StringIO())
    call_command("check_exposure", "--repair", stdout=out)
    assert selectors.credit_position_of(customer_id=order.customer_id)[1] == order.total_amount
    call_command("check_exposure", stdout=out)


def test_a_writing_transaction_folds_a_customer_whose_entries_piled_up(sales_manager):
    """Between two compactions a busy customer's entries pile up; the credit check of a writing transaction folds
    them into one (the figure unchanged), a read outside a transaction leaves them."""
    from django.db import transaction

    order = make_order("reviewed")
    drift = [Decimal("2.50") if k % 2 else Decimal("-1.50") for k in range(selectors.EXPOSURE_FOLD_AT + 5)]
    for amount in drift:
        CustomerExposure.objects.create(customer_id=order.customer_id, amount=amount)
    rows = CustomerExposure.objects.filter(customer_id=order.customer_id)
    before = selectors.live_open_exposure(customer=order.customer) + sum(drift)
    with transaction.atomic():
        assert selectors.credit_position_of(customer_id=order.customer_id)[1] == before
    assert rows.count() == 1 and rows.get().amount == before
    assert selectors.credit_position_of(customer_id=order.customer_id)[1] == before
