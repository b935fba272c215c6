"""The assistant's desk in Chromium, once per language: intake with three lines, validation errors,
the fix, the assistant's check and `submit`, then the manager's `approve`, then the timeline."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Order, State
from tests import factories
from tests.browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_assistant_enters_submits_and_manager_approves(browser_page, language):
    page = browser_page
    assistant = factories.user_with_role("sales_assistant")
    manager = factories.user_with_role("sales_manager")
    customer = factories.CustomerFactory(name="Acme Pumps")
    products = [factories.ProductFactory(lead_time_days=days) for days in (5, 12, 20)]
    requested = factories.days(45).isoformat()

    log_in(page, assistant, language=language)
    assert page.locator("html").get_attribute("lang") == language
    page.goto(f"{page.base_url}/orders/new/")
    page.select_option("#id_customer", str(customer.pk))
    page.select_option("#id_channel", "email")
    page.fill("#id_contact_name", "Li Lei")
    # contact phone left empty: an error
    page.fill("#id_delivery_address", "88 Century Avenue, Shanghai")
    page.fill("#id_requested_delivery_date", requested)
    for i, product in enumerate(products):
        page.select_option(f"#id_lines-{i}-product", str(product.pk))
        page.fill(f"#id_lines-{i}-quantity", str(i + 2))
    # choosing a product fills its standard specification and price
    assert page.input_value("#id_lines-0-unit_price") == "100.00"
    page.fill("#id_lines-1-quantity", "-5")  # a bad value
    # line totals and the order total as you type; the earliest feasible date from the longest lead time
    page.fill("#id_lines-2-unit_price", "50")
    expect(page.locator("#earliest-date")).to_have_attribute("data-value", factories.days(20).isoformat())
    expect(page.locator("#order-total")).not_to_have_text("\u2014")
    page.locator("#order-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")

    assert "/orders/new/" in page.url
    assert Order.objects.count() == 0
    assert page.locator(".field.has-error #id_contact_phone").count() == 1
    assert page.locator("td.col-qty.has-error #id_lines-1-quantity").count() == 1
    assert page.locator(".errorlist").count() >= 2

    page.fill("#id_contact_phone", "+86 21 5555 0001")
    page.fill("#id_lines-1-quantity", "3")
    page.locator("#order-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")

    order = Order.objects.get()
    assert page.url.endswith(f"/orders/{order.pk}/")
    assert order.lines.count() == 3
    assert order.total_amount == Decimal("2") * 100 + Decimal("3") * 100 + Decimal("4") * 50
    # the assistant's check: every point holds
    assert page.locator("#checklist li").count() >= 4
    assert page.locator("#checklist li.todo").count() == 0
    page.locator("form[data-transition=submit] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    order.refresh_from_db()
    assert order.submitted_at is not None
    assert page.locator("ol.timeline li.transition[data-transition=submit]").count() == 1

    log_in(page, manager, language=language)
    page.goto(f"{page.base_url}/orders/{order.pk}/")
    page.locator("form[data-transition=approve] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#order-state").get_attribute("data-state") == State.REVIEWED
    order.refresh_from_db()
    assert order.state == State.REVIEWED
    timeline = page.locator("ol.timeline")
    assert timeline.locator("li.transition[data-transition=submit]").count() == 1
    assert timeline.locator("li.transition[data-transition=approve]").count() == 1
    assert manager.username in timeline.inner_text() or (manager.get_full_name() in timeline.inner_text())
    assert page.locator("html").get_attribute("lang") == language
