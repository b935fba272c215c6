"""Concurrent payments and invoices (issue 11): the order's and the invoice's rows are locked, so racing
writers never pay an invoice beyond its amount nor invoice an order beyond its total (PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection

from finance import services
from finance.models import Invoice, Payment
from orderdesk.errors import InvalidInput
from tests import factories
from tests.factories import Cast, days, make_order, today
from tests.orders.test_concurrency import race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

THREADS = 6


def _outcome(work):
    try:
        work()
        return "ok"
    except InvalidInput:
        return "refused"


def test_concurrent_payments_never_exceed_the_invoice():
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    cast = Cast()
    order = make_order("accepted", cast=cast)
    invoice = services.create_invoice(
        user=cast.finance_specialist, order_id=order.pk, amount=Decimal("1000"), due_date=days(10)
    )
    clerks = [factories.user_with_role("finance_specialist", f"clerk{i}") for i in range(THREADS)]

    def work(i):
        return _outcome(
            lambda: services.record_payment(
                user=clerks[i], invoice_id=invoice.pk, amount=Decimal("400"), received_on=today(), reference=f"B{i}"
            )
        )

    counts = Counter(race(THREADS, work))
    assert counts == {"ok": 2, "refused": THREADS - 2}
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("800.00") == sum(p.amount for p in Payment.objects.filter(invoice=invoice))


def test_concurrent_invoices_never_exceed_the_order_total():
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    cast = Cast()
    order = make_order("accepted", cast=cast)  # 1000.00
    clerks = [factories.user_with_role("finance_specialist", f"clerk{i}") for i in range(THREADS)]

    def work(i):
        return _outcome(
            lambda: services.create_invoice(user=clerks[i], order_id=order.pk, amount=Decimal("300"), due_date=days(10))
        )

    counts = Counter(race(THREADS, work))
    assert counts == {"ok": 3, "refused": THREADS - 3}
    assert sum(i.amount for i in Invoice.objects.filter(order=order)) == Decimal("900.00")
