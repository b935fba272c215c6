"""Finance (R3.5, R4.5): invoices, payments and the customer's open exposure — services and API."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from finance import services
from finance.models import Invoice, Payment
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.selectors import customer_open_exposure, customers_with_exposure
from tests import factories
from tests.factories import Cast, days, make_order, today
from tests.utils import call, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return Cast()


def invoice(cast, order, amount, user=None):
    return services.create_invoice(
        user=user or cast.finance_specialist, order_id=order.pk, amount=Decimal(amount), due_date=days(30)
    )


def pay(cast, inv, amount, **kw):
    data = {"received_on": today(), "reference": "BANK-1", **kw}
    return services.record_payment(user=cast.finance_specialist, invoice_id=inv.pk, amount=Decimal(amount), **data)


def test_invoices_may_not_exceed_the_order_total(cast):
    order = make_order("shipped", cast=cast)  # 1000.00
    invoice(cast, order, "600.00")
    with pytest.raises(InvalidInput) as exc:
        invoice(cast, order, "400.01")
    assert "amount" in exc.value.errors
    invoice(cast, order, "400.00")
    for bad in ("0", "-1"):
        with pytest.raises(InvalidInput):
            invoice(cast, order, bad)
    assert Invoice.objects.filter(order=order).count() == 2


@pytest.mark.parametrize(("state", "error"), [("received", Conflict), ("settled", Conflict), ("cancelled", Conflict)])
def test_invoices_between_approval_and_settlement(cast, state, error):
    order = make_order(state, cast=cast)
    with pytest.raises(error):
        invoice(cast, order, "1.00")


@pytest.mark.parametrize(
    ("role", "error"),
    [
        ("sales_manager", Forbidden),
        ("owner", Forbidden),
        ("production_supervisor", Forbidden),
        ("auditor", Forbidden),
        ("logistics_supervisor", Forbidden),
    ],
)
def test_only_finance_invoices(cast, role, error):
    order = make_order("accepted", cast=cast)
    with pytest.raises(error):
        invoice(cast, order, "1.00", user=getattr(cast, role))
    assert not Invoice.objects.exists()


def test_payments_keep_paid_amount_and_refuse_bad_values(cast):
    order = make_order("accepted", cast=cast)
    inv = invoice(cast, order, "1000.00")
    pay(cast, inv, "300.00")
    inv.refresh_from_db()
    assert (inv.paid_amount, inv.outstanding, inv.is_paid) == (Decimal("300.00"), Decimal("700.00"), False)
    bad = [
        ({"amount": "700.01"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"received_on": today() + datetime.timedelta(days=1)}, "received_on"),
        ({"received_on": None}, "received_on"),
        ({"reference": "  "}, "reference"),
    ]
    for change, field in bad:
        data = {"amount": "100.00", **change}
        amount = data.pop("amount")
        with pytest.raises(InvalidInput) as exc:
            pay(cast, inv, amount, **data)
        assert field in exc.value.errors
    with pytest.raises(Forbidden):
        services.record_payment(
            user=cast.sales_manager, invoice_id=inv.pk, amount=Decimal("1"), received_on=today(), reference="x"
        )
    with pytest.raises(NotFound):
        services.record_payment(
            user=cast.finance_specialist, invoice_id=999999, amount=Decimal("1"), received_on=today(), reference="x"
        )
    pay(cast, inv, "700.00")
    inv.refresh_from_db()
    assert inv.is_paid and Payment.objects.filter(invoice=inv).count() == 2


def test_open_exposure_is_unpaid_open_orders(cast):
    customer = factories.CustomerFactory()
    make_order("received", cast=cast, customer=customer)  # not approved: no exposure
    reviewed = make_order("reviewed", cast=cast, customer=customer)  # 1000
    accepted = make_order("accepted", cast=cast, customer=customer)  # 1000
    make_order("settled", cast=cast, customer=customer)  # closed
    make_order("cancelled", cast=cast, customer=customer)  # closed
    assert customer_open_exposure(customer=customer) == Decimal("2000.00")
    inv = invoice(cast, accepted, "1000.00")
    assert customer_open_exposure(customer=customer) == Decimal("2000.00")  # invoiced but unpaid
    pay(cast, inv, "250.00")
    assert customer_open_exposure(customer=customer) == Decimal("1750.00")
    assert customer_open_exposure(customer=customer, exclude_order=reviewed) == Decimal("750.00")
    annotated = customers_with_exposure().get(pk=customer.pk)
    assert annotated.open_exposure == Decimal("1750.00")


def test_invoice_and_payment_endpoints(cast, api_client_for):
    order = make_order("accepted", cast=cast)
    client = api_client_for(cast.finance_specialist)
    call(
        client,
        "post",
        "/finance/invoices/",
        {"order": order.pk, "amount": "2000.00", "due_date": "2099-01-01"},
        expect=400,
    )
    call(
        api_client_for(cast.production_supervisor),
        "post",
        "/finance/invoices/",
        {"order": order.pk, "amount": "1.00", "due_date": "2099-01-01"},
        expect=403,
    )
    inv = call(
        client,
        "post",
        "/finance/invoices/",
        {"order": order.pk, "amount": "1000.00", "due_date": days(30).isoformat()},
        expect=201,
    )
    assert Decimal(inv["outstanding"]) == Decimal("1000.00") and inv["is_paid"] is False
    call(
        client,
        "post",
        "/finance/payments/",
        {"invoice": inv["id"], "amount": "1000.01", "received_on": today().isoformat(), "reference": "B"},
        expect=400,
    )
    call(
        client,
        "post",
        "/finance/payments/",
        {"invoice": inv["id"], "amount": "1000.00", "received_on": today().isoformat(), "reference": "B"},
        expect=201,
    )
    listed = results(call(client, "get", "/finance/invoices/", {"order": order.pk}, expect=200))
    assert listed[0]["is_paid"] is True
    body = call(api_client_for(cast.finance_manager), "post", f"/orders/{order.pk}/transitions/settle/", {}, expect=200)
    assert body["state"] == "settled"
