"""Finance collects per the terms in the browser (issue 11): the finance manager sets the order's terms, the
deposit invoice appears on approval, production cannot start until it is paid, the balance invoice appears on
acceptance, it is paid in two parts, and the order settles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from finance import services as finance
from finance.models import Invoice
from orders.models import Order, State
from tests import factories
from tests.browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit(page, form_selector):
    page.locator(f"{form_selector} button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def pay(page, invoice, amount, reference):
    page.locator("#payment-panel > summary").click()
    page.select_option("#id_payment_invoice", str(invoice.pk))
    page.fill("#id_payment_amount", amount)
    page.fill("#id_payment_received_on", factories.today().isoformat())
    page.fill("#id_payment_reference", reference)
    submit(page, "#payment-form")
    assert "The payment was recorded" in page.content()


def test_finance_collects_per_the_terms(browser_page):
    page = browser_page
    cast = factories.Cast()
    terms = finance.create_terms(user=cast.finance_manager, name="30/70",
                                 installments=[{"percent": "30", "trigger": "approval", "days": 0},
                                               {"percent": "70", "trigger": "acceptance", "days": 30}])
    order = factories.make_order(State.RECEIVED, cast=cast, submitted=True)  # 1000.00, no terms yet
    detail = f"{page.base_url}/orders/{order.pk}/"

    # the finance manager sets the terms during the review
    log_in(page, cast.finance_manager, language="en")
    page.goto(detail)
    page.locator("#terms-panel > summary").click()
    page.select_option("#id_terms_payment_terms", str(terms.pk))
    submit(page, "#terms-form")
    assert page.locator("#payment-terms").inner_text() == "30/70"
    page.goto(f"{page.base_url}/supervision/review/{order.pk}/")
    assert "30/70" in page.locator("#review-payment-terms").inner_text()

    # approval draws the deposit invoice
    log_in(page, cast.sales_manager, language="en")
    page.goto(detail)
    submit(page, "form[data-transition=approve]")
    assert page.locator("#order-state").get_attribute("data-state") == State.REVIEWED
    deposit = Invoice.objects.get(order=order)
    assert (deposit.amount, deposit.trigger) == (Decimal("300.00"), "approval")
    assert page.locator(f"#invoices tr[data-invoice='{deposit.pk}']").count() == 1

    # production cannot start until the deposit is paid
    factories.plan_order(order, cast)
    factories.run(order, "schedule", cast.production_supervisor)
    factories.make_ready(Order.objects.get(pk=order.pk), cast)
    log_in(page, cast.production_supervisor, language="en")
    page.goto(detail)
    assert page.locator("#invoices").count() == 0  # production never sees an invoice
    submit(page, "form[data-transition=start_production]")
    assert page.locator("#order-state").get_attribute("data-state") == State.SCHEDULED
    assert "installment due before production is not paid" in page.content()

    log_in(page, cast.finance_specialist, language="en")
    page.goto(detail)
    pay(page, deposit, "300.00", "BANK-DEP")

    log_in(page, cast.production_supervisor, language="en")
    page.goto(detail)
    submit(page, "form[data-transition=start_production]")
    assert page.locator("#order-state").get_attribute("data-state") == State.PRODUCING

    # shipped and accepted: the balance invoice appears
    order = factories.prepare(Order.objects.get(pk=order.pk), "ship", cast)
    factories.run(order, "ship", cast.logistics_specialist)
    factories.run(order, "accept", cast.owner, **factories.receipt_data())
    balance = Invoice.objects.get(order=order, trigger="acceptance")
    assert (balance.amount, balance.due_date) == (Decimal("700.00"), factories.days(30))

    # paid in two parts, then settled
    log_in(page, cast.finance_specialist, language="en")
    page.goto(detail)
    assert page.locator(f"#invoices tr[data-invoice='{balance.pk}']").count() == 1
    pay(page, balance, "400.00", "BANK-1")
    pay(page, balance, "300.00", "BANK-2")
    page.goto(f"{page.base_url}/finance/")
    assert page.locator(f"#to-settle tr[data-order='{order.number}']").count() == 1
    page.goto(detail)
    submit(page, "form[data-transition=settle]")
    assert page.locator("#order-state").get_attribute("data-state") == State.SETTLED
    assert Order.objects.get(pk=order.pk).state == State.SETTLED
