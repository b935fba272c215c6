"""The review desk in Chromium: the manager works the queue; finance and production sign a joint review."""

import pytest

from orders.models import Order
from tests import factories
from tests.browser_support import log_in
from tests.factories import Cast, make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_works_the_queue_and_approves(browser_page):
    page = browser_page
    manager = factories.user_with_role("sales_manager")
    cast = Cast(sales_manager=manager)
    one = make_order("received", submitted=True, cast=cast)
    two = make_order("received", submitted=True, cast=cast)
    joint = make_order("received", submitted=True, cast=cast, special_terms="two lots")
    log_in(page, manager, language="en")
    page.goto(f"{page.base_url}/supervision/review/")
    rows = page.locator("#review-queue tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).get_attribute("data-order") == one.number  # oldest first
    assert "Joint review pending" in page.locator(f"tr[data-order='{joint.number}']").inner_text()

    # open the first order, check the review page, approve with the prefilled promised date
    page.click(f"text={one.number}")
    page.wait_for_url(f"**/supervision/review/{one.pk}/")
    assert page.locator("#credit").is_visible() and page.locator("#feasibility").is_visible()
    prefilled = page.locator("#id_approve_promised_delivery_date").input_value()
    assert prefilled == page.locator("#suggested-date").inner_text().strip()
    page.fill("#id_approve_comment", "fine")
    page.locator("#approve-form button[type=submit]").click()
    page.wait_for_url("**/supervision/review/")
    assert f"{one.number} is approved." in page.content()

    # bulk-approve the remaining clean one; the joint-review order has no checkbox
    assert page.locator(f"tr[data-order='{joint.number}'] input[type=checkbox]").count() == 0
    page.check(f"tr[data-order='{two.number}'] input[type=checkbox]")
    page.click("#bulk-approve")
    page.wait_for_load_state("networkidle")
    assert f"{two.number}: approved." in page.content()
    states = dict(Order.objects.values_list("pk", "state"))
    assert states[one.pk] == "reviewed" and states[two.pk] == "reviewed" and states[joint.pk] == "received"
    assert str(Order.objects.get(pk=one.pk).promised_delivery_date) == prefilled


def test_finance_and_production_sign_then_the_manager_approves(browser_page):
    page = browser_page
    manager = factories.user_with_role("sales_manager")
    finance = factories.user_with_role("finance_manager")
    production = factories.user_with_role("production_supervisor")
    order = make_order("received", submitted=True, cast=Cast(sales_manager=manager), special_terms="90 days credit")

    for user, comment in ((finance, "payment terms acceptable"), (production, "capacity reserved")):
        log_in(page, user, language="en")
        page.goto(f"{page.base_url}/supervision/signoffs/")
        page.click(f"#signoff-pending tr[data-order='{order.number}'] a")
        page.wait_for_url(f"**/supervision/review/{order.pk}/")
        page.select_option("#id_signoff_decision", "approve")
        page.fill("#id_signoff_comment", comment)
        page.locator("#signoff-form button[type=submit]").click()
        page.wait_for_url("**/supervision/signoffs/")
        assert "Nothing waits for your sign-off." in page.content()

    log_in(page, manager, language="en")
    page.goto(f"{page.base_url}/supervision/review/{order.pk}/")
    assert page.locator("#joint-review").inner_text().count("Approved") == 2
    page.locator("#approve-form button[type=submit]").click()
    page.wait_for_url("**/supervision/review/")
    assert Order.objects.get(pk=order.pk).state == "reviewed"
