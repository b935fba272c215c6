"""Payment terms (issue 11, DESIGN §6b): installments summing to 100 %, invoices drawn from the terms once
when their trigger happens, manual invoices within what remains, credit notes, the deposit gate and its
waiver, through the services and the API."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from finance import services
from finance.models import CreditNote, DepositWaiver, Installment, Invoice, PaymentTerms
from orderdesk.errors import ConditionsUnmet, Conflict, Forbidden, InvalidInput
from orders.models import Order, OrderChange
from tests import factories
from tests.factories import Cast, days, make_order, prepare, receipt_data, run, today
from tests.utils import call, results

pytestmark = pytest.mark.django_db

DEPOSIT_BALANCE = [
    {"percent": "30", "trigger": "approval", "days": 0},
    {"percent": "70", "trigger": "acceptance", "days": 30},
]


@pytest.fixture
def cast(db):
    return Cast()


def terms(cast, installments=None, name="30/70"):
    return services.create_terms(
        user=cast.finance_manager, name=name, installments=DEPOSIT_BALANCE if installments is None else installments
    )


def pay(cast, invoice, amount=None):
    return services.record_payment(
        user=cast.finance_specialist,
        invoice_id=invoice.pk,
        amount=Decimal(amount or invoice.outstanding),
        received_on=today(),
        reference=f"BANK-{invoice.pk}",
    )


# --- terms as data -----------------------------------------------------------------------------------
def test_terms_are_data_and_their_installments_sum_to_100(cast):
    t = terms(cast)
    assert [(i.position, i.percent, i.trigger, i.days) for i in t.installments.all()] == [
        (1, Decimal("30.00"), "approval", 0),
        (2, Decimal("70.00"), "acceptance", 30),
    ]
    bad = [
        [{"percent": "30", "trigger": "approval"}, {"percent": "60", "trigger": "acceptance"}],  # 90 %
        [{"percent": "60", "trigger": "approval"}, {"percent": "60", "trigger": "acceptance"}],  # 120 %
        [{"percent": "100", "trigger": "someday"}],
        [{"percent": "0", "trigger": "approval"}, {"percent": "100", "trigger": "shipment"}],
        [{"percent": "100", "trigger": "shipment", "days": -1}],
        [],
    ]
    for n, installments in enumerate(bad):
        with pytest.raises(InvalidInput) as exc:
            terms(cast, installments, name=f"bad {n}")
        assert "installments" in exc.value.errors
    assert PaymentTerms.objects.count() == 1 and Installment.objects.count() == 2


def test_only_the_finance_manager_keeps_terms(cast):
    for role in ("finance_specialist", "sales_manager", "sales_assistant", "auditor", "production_supervisor"):
        with pytest.raises(Forbidden):
            services.create_terms(user=getattr(cast, role), name=role, installments=DEPOSIT_BALANCE)
    assert not PaymentTerms.objects.exists()


def test_terms_api(cast, api_client_for):
    manager = api_client_for(cast.finance_manager)
    body = call(manager, "post", "/finance/terms/", {"name": "deposit", "installments": DEPOSIT_BALANCE}, expect=201)
    assert [i["trigger"] for i in body["installments"]] == ["approval", "acceptance"]
    assert results(call(manager, "get", "/finance/terms/", expect=200))[0]["name"] == "deposit"
    for payload in (
        {"name": "x", "installments": [{"percent": "50", "trigger": "approval"}]},
        {"name": "x", "installments": [{"percent": "abc", "trigger": "approval"}]},
        {"name": "", "installments": DEPOSIT_BALANCE},
        {"name": "deposit", "installments": DEPOSIT_BALANCE},
        {"installments": "nope"},
    ):
        body = call(manager, "post", "/finance/terms/", payload, expect=400)
        assert body["code"] and "errors" in body
    assert PaymentTerms.objects.count() == 1
    call(
        api_client_for(cast.finance_specialist),
        "post",
        "/finance/terms/",
        {"name": "y", "installments": DEPOSIT_BALANCE},
        expect=403,
    )
    # production never sees financial terms (DESIGN §5: price class)
    assert results(call(api_client_for(cast.production_supervisor), "get", "/finance/terms/", expect=200)) == []


# --- the order takes the customer's terms; intake may choose others -------------------------------------------
def test_order_takes_the_customers_terms_by_default(cast, api_client_for):
    t = terms(cast)
    other = terms(cast, [{"percent": "100", "trigger": "shipment", "days": 10}], name="on shipment")
    customer = factories.CustomerFactory(payment_terms=t)
    assert make_order("received", cast=cast, customer=customer).payment_terms == t
    assert make_order("received", cast=cast).payment_terms is None  # a customer without default terms
    payload = {
        "customer": customer.pk,
        "channel": "phone",
        "contact_name": "A",
        "contact_phone": "1",
        "delivery_address": "X",
        "requested_delivery_date": str(days(60)),
        "payment_terms": other.pk,
        "lines": [
            {"product": factories.ProductFactory().pk, "specification": "s", "quantity": "1", "unit_price": "10.00"}
        ],
    }
    assistant = api_client_for(cast.sales_assistant)
    body = call(assistant, "post", "/orders/", payload, expect=201)
    assert body["payment_terms"] == other.pk
    count = Order.objects.count()
    call(assistant, "post", "/orders/", {**payload, "payment_terms": 999999}, expect=400)
    assert Order.objects.count() == count
    production = call(api_client_for(cast.production_supervisor), "get", "/orders/", {"state": "received"})
    assert all("payment_terms" not in o for o in results(production))


def test_the_finance_manager_sets_an_orders_terms_in_the_review(cast):
    t = terms(cast)
    order = make_order("received", cast=cast, submitted=True, special_terms="joint review please")
    services.set_order_terms(user=cast.finance_manager, order_id=order.pk, terms=t)
    assert Order.objects.get(pk=order.pk).payment_terms == t
    assert OrderChange.objects.filter(order=order, field="payment_terms").exists()
    with pytest.raises(Forbidden):
        services.set_order_terms(user=cast.sales_manager, order_id=order.pk, terms=None)
    from orders.services import record_signoff

    record_signoff(user=cast.finance_manager, order_id=order.pk, decision="approve", comment="terms ok")
    with pytest.raises(Conflict):  # the sign-off covered these terms
        services.set_order_terms(user=cast.finance_manager, order_id=order.pk, terms=None)
    approved = make_order("reviewed", cast=cast)
    with pytest.raises(Conflict):
        services.set_order_terms(user=cast.finance_manager, order_id=approved.pk, terms=t)


# --- invoices drawn from the terms ---------------------------------------------------------------------
def test_triggers_draw_the_right_invoices_once(cast):
    t = terms(
        cast,
        [
            {"percent": "30", "trigger": "approval", "days": 0},
            {"percent": "20", "trigger": "shipment", "days": 15},
            {"percent": "50", "trigger": "acceptance", "days": 30},
        ],
    )
    customer = factories.CustomerFactory(payment_terms=t)
    order = make_order("reviewed", cast=cast, customer=customer)  # total 1000.00
    drawn = list(order.invoices.all())
    assert [(i.amount, i.trigger, i.due_date, i.source) for i in drawn] == [
        (Decimal("300.00"), "approval", today(), "terms")
    ]
    # a retried event never invoices twice (the service skips; the constraint refuses)
    assert services.draw_invoices(order=order, user=cast.sales_manager, triggers=("approval",)) == []
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            order=order,
            amount=1,
            due_date=today(),
            issued_by=cast.sales_manager,
            installment=drawn[0].installment,
            trigger="approval",
            source="terms",
        )
    pay(cast, drawn[0])
    order = prepare(order, "start_production", cast)
    run(order, "schedule", cast.production_supervisor)
    run(order, "start_production", cast.production_supervisor)
    order = prepare(Order.objects.get(pk=order.pk), "ship", cast)
    run(order, "ship", cast.logistics_specialist)
    shipment = Invoice.objects.get(order=order, trigger="shipment")
    assert (shipment.amount, shipment.due_date) == (Decimal("200.00"), days(15))
    run(order, "accept", cast.owner, **receipt_data())
    balance = Invoice.objects.get(order=order, trigger="acceptance")
    assert (balance.amount, balance.due_date) == (Decimal("500.00"), days(30))
    assert Invoice.objects.filter(order=order).count() == 3
    assert services.uninvoiced(order) == 0


def test_rounding_remainder_goes_to_the_last_installment(cast):
    t = terms(
        cast,
        [
            {"percent": "33.33", "trigger": "approval"},
            {"percent": "33.33", "trigger": "approval"},
            {"percent": "33.34", "trigger": "acceptance"},
        ],
    )
    order = make_order(
        "received",
        cast=cast,
        customer=factories.CustomerFactory(payment_terms=t),
        unit_price=Decimal("0.01"),
        quantity=Decimal("1001"),
    )  # 10.01
    amounts = [a for _i, a in services.installment_amounts(order)]
    assert sum(amounts) == order.total_amount == Decimal("10.01")


def test_manual_invoices_only_within_what_remains_and_never_due_in_the_past(cast):
    t = terms(cast, [{"percent": "40", "trigger": "approval"}, {"percent": "60", "trigger": "acceptance"}])
    order = make_order("reviewed", cast=cast, customer=factories.CustomerFactory(payment_terms=t))
    assert services.uninvoiced(order) == 0  # the acceptance installment is reserved
    with pytest.raises(InvalidInput) as exc:
        services.create_invoice(user=cast.finance_specialist, order_id=order.pk, amount=Decimal("1"), due_date=days(5))
    assert "amount" in exc.value.errors
    plain = make_order("reviewed", cast=cast)
    with pytest.raises(InvalidInput) as exc:
        services.create_invoice(
            user=cast.finance_specialist, order_id=plain.pk, amount=Decimal("100"), due_date=days(-1)
        )
    assert "due_date" in exc.value.errors
    assert not plain.invoices.exists()


def test_invoice_api_refuses_a_past_due_date_and_lists_by_order(cast, api_client_for):
    finance = api_client_for(cast.finance_specialist)
    order = make_order("reviewed", cast=cast)
    body = call(
        finance,
        "post",
        "/finance/invoices/",
        {"order": order.pk, "amount": "10.00", "due_date": str(days(-3))},
        expect=400,
    )
    assert "due_date" in body["errors"]
    call(
        finance,
        "post",
        "/finance/invoices/",
        {"order": order.pk, "amount": "10.00", "due_date": str(days(3))},
        expect=201,
    )
    listed = results(call(finance, "get", "/finance/invoices/", {"order": order.pk}, expect=200))
    assert [(i["amount"], i["source"]) for i in listed] == [("10.00", "manual")]


def test_cancel_credits_the_unpaid_invoices(cast):
    t = terms(cast)
    order = make_order("reviewed", cast=cast, customer=factories.CustomerFactory(payment_terms=t))
    deposit = order.invoices.get()
    run(order, "cancel", cast.sales_manager, comment="customer withdrew")
    deposit.refresh_from_db()
    assert (deposit.credited_amount, deposit.outstanding) == (Decimal("300.00"), 0)
    assert CreditNote.objects.get(invoice=deposit).reason == "customer withdrew"


def test_credit_note_for_a_reduced_order(cast, api_client_for):
    order = make_order("accepted", cast=cast)
    inv = services.create_invoice(
        user=cast.finance_specialist, order_id=order.pk, amount=Decimal("1000"), due_date=days(10)
    )
    pay(cast, inv, "600")
    finance = api_client_for(cast.finance_specialist)
    call(finance, "post", "/finance/credit-notes/", {"invoice": inv.pk, "amount": "400.01", "reason": "x"}, expect=400)
    call(finance, "post", "/finance/credit-notes/", {"invoice": inv.pk, "amount": "100", "reason": ""}, expect=400)
    call(
        api_client_for(cast.sales_assistant),
        "post",
        "/finance/credit-notes/",
        {"invoice": inv.pk, "amount": "100", "reason": "r"},
        expect=403,
    )
    assert not CreditNote.objects.exists()
    call(
        finance,
        "post",
        "/finance/credit-notes/",
        {"invoice": inv.pk, "amount": "400", "reason": "2 pcs short"},
        expect=201,
    )
    inv.refresh_from_db()
    assert inv.is_paid and inv.outstanding == 0
    run(order, "settle", cast.finance_specialist)
    assert Order.objects.get(pk=order.pk).state == "settled"


# --- the deposit gate ----------------------------------------------------------------------------------
def _scheduled_with_deposit(cast):
    t = terms(cast)
    order = make_order("reviewed", cast=cast, customer=factories.CustomerFactory(payment_terms=t))
    order = prepare(order, "start_production", cast)
    run(order, "schedule", cast.production_supervisor)
    return Order.objects.get(pk=order.pk)


def test_production_cannot_start_until_the_deposit_is_paid(cast):
    order = _scheduled_with_deposit(cast)
    with pytest.raises(ConditionsUnmet) as exc:
        run(order, "start_production", cast.production_supervisor)
    assert [u["code"] for u in exc.value.unmet] == ["deposit_unpaid"]
    deposit = order.invoices.get()
    pay(cast, deposit, "100")  # a part is not enough
    with pytest.raises(ConditionsUnmet):
        run(order, "start_production", cast.production_supervisor)
    pay(cast, Invoice.objects.get(pk=deposit.pk))
    run(order, "start_production", cast.production_supervisor)
    assert Order.objects.get(pk=order.pk).state == "producing"


def test_a_finance_manager_waives_the_deposit_with_a_reason(cast, api_client_for):
    order = _scheduled_with_deposit(cast)
    for role in ("finance_specialist", "sales_manager", "production_supervisor"):
        call(
            api_client_for(getattr(cast, role)),
            "post",
            "/finance/deposit-waivers/",
            {"order": order.pk, "reason": "trusted"},
            expect=403,
        )
    manager = api_client_for(cast.finance_manager)
    call(manager, "post", "/finance/deposit-waivers/", {"order": order.pk, "reason": ""}, expect=400)
    assert not DepositWaiver.objects.exists()
    call(
        manager,
        "post",
        "/finance/deposit-waivers/",
        {"order": order.pk, "reason": "key account, LC received"},
        expect=201,
    )
    call(manager, "post", "/finance/deposit-waivers/", {"order": order.pk, "reason": "again"}, expect=409)
    change = OrderChange.objects.get(order=order, field="deposit_waiver")
    assert change.new_value == "key account, LC received" and change.user == cast.finance_manager
    run(order, "start_production", cast.production_supervisor)
    assert Order.objects.get(pk=order.pk).state == "producing"


def test_without_terms_nothing_gates_production(cast):
    order = make_order("producing", cast=cast)
    assert order.state == "producing" and not order.invoices.exists()


def test_bad_ids_are_404_not_500(cast, api_client_for):
    finance = api_client_for(cast.finance_manager)
    for path, payload in (
        ("/finance/deposit-waivers/", {"order": 999999, "reason": "r"}),
        ("/finance/credit-notes/", {"invoice": 999999, "amount": "1", "reason": "r"}),
        ("/finance/follow-ups/", {"invoice": 999999, "channel": "call", "note": "n"}),
    ):
        call(finance, "post", path, payload, expect=404)
    for path, payload in (
        ("/finance/deposit-waivers/", {"order": "x", "reason": "r"}),
        ("/finance/credit-notes/", {"invoice": 1, "amount": "NaN", "reason": "r"}),
        ("/finance/follow-ups/", {"invoice": 1, "channel": "fax", "note": "n"}),
    ):
        call(finance, "post", path, payload, expect=400)
    assert datetime.date.today()  # the clock is real here


def test_intake_form_takes_terms_or_the_customers(cast, client):
    from tests.orders.test_pages_intake_list import intake_data

    t = terms(cast)
    other = terms(cast, [{"percent": "100", "trigger": "shipment", "days": 0}], name="ship")
    customer = factories.CustomerFactory(payment_terms=t)
    product = factories.ProductFactory()
    client.force_login(cast.sales_assistant)
    assert "id_payment_terms" in client.get("/orders/new/").content.decode()
    response = client.post("/orders/new/", intake_data(customer, [product]))
    assert response.status_code == 302
    assert Order.objects.latest("id").payment_terms == t
    response = client.post("/orders/new/", intake_data(customer, [product], {"payment_terms": other.pk},
                                                       confirm_duplicate="on"))
    assert response.status_code == 302
    assert Order.objects.latest("id").payment_terms == other
    count = Order.objects.count()
    response = client.post("/orders/new/", intake_data(customer, [product], {"payment_terms": "999999"},
                                                       confirm_duplicate="on"))
    assert response.status_code in (200, 400) and b"errorlist" in response.content  # the page's convention
    assert Order.objects.count() == count


def test_order_page_terms_form(cast, client):
    t = terms(cast)
    order = make_order("received", cast=cast, submitted=True)
    client.force_login(cast.finance_manager)
    assert 'id="terms-form"' in client.get(f"/orders/{order.pk}/").content.decode()
    assert client.post(f"/orders/{order.pk}/payment-terms/", {"payment_terms": "abc"}).status_code == 400
    assert client.post(f"/orders/{order.pk}/payment-terms/", {"payment_terms": t.pk}).status_code == 302
    assert Order.objects.get(pk=order.pk).payment_terms == t
    client.force_login(cast.finance_specialist)
    assert client.post(f"/orders/{order.pk}/payment-terms/", {"payment_terms": ""}).status_code == 403
    assert Order.objects.get(pk=order.pk).payment_terms == t
