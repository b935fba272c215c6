"""Issue 13 in Chromium, in Chinese and in English: what only shows in a real browser.

The orders list at 390 px keeps a customer's name on one line; the review page's cards keep a gap; the
intake pickers say "nothing found" visibly; a line is removed while editing; a submitted order offers
"withdraw" instead of "submit", and a failed transition's page can be reloaded without posting again;
a superseded objection is greyed and explained.
"""

from __future__ import annotations

import pytest

from orders.models import Order, OrderLine
from orders.services import record_signoff
from tests import factories
from tests.browser_support import log_in
from tests.factories import Cast, make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["zh-hans", "en"]
TEXTS = {
    "zh-hans": {"none": "未找到结果", "withdraw": "撤回提交", "superseded": "已被", "not_done": "未执行"},
    "en": {
        "none": "Nothing found",
        "withdraw": "Withdraw the submission",
        "superseded": "superseded by the approval of",
        "not_done": "was not done",
    },
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_orders_list_at_390_px_keeps_customer_names_readable(browser_page, language):
    page = browser_page
    customer = factories.CustomerFactory(name="Zhejiang Dongfang Precision Machinery Co.")
    make_order(customer=customer)
    log_in(page, factories.user_with_role("sales_assistant"), language=language)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base_url}/orders/")
    cell = page.locator("td.col-customer").first
    box = cell.bounding_box()
    line_height = cell.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    # the name has the row's whole width: at most two lines, never squeezed onto four
    assert box["width"] > 300, box
    assert box["height"] <= 3.5 * line_height, (box, line_height)
    # nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_review_pages_cards_do_not_touch(browser_page, language):
    page = browser_page
    manager = factories.user_with_role("sales_manager")
    order = make_order("received", submitted=True, cast=Cast(sales_manager=manager), special_terms="two lots")
    log_in(page, manager, language=language)
    page.goto(f"{page.base_url}/supervision/review/{order.pk}/")
    boxes = page.evaluate(
        """() => [...document.querySelectorAll("main.container > .card, main.container > .grid-2")]
            .map(e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; })"""
    )
    assert len(boxes) >= 3
    gaps = [nxt[0] - cur[1] for cur, nxt in zip(boxes, boxes[1:], strict=False)]
    assert min(gaps) >= 8, gaps


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_intake_picker_says_nothing_found(browser_page, language):
    page = browser_page
    factories.CustomerFactory(name="Hangzhou Pump Works")
    log_in(page, factories.user_with_role("sales_assistant"), language=language)
    page.goto(f"{page.base_url}/orders/new/")
    search = page.locator("input.picker-search[data-picker-for='customer']")
    search.fill("no-such-customer-xyz")
    status = page.locator("#id_customer ~ .picker-status, .picker-status").first
    status.wait_for(state="visible")
    assert status.inner_text() == TEXTS[language]["none"]
    search.fill("Hangzhou")
    page.wait_for_function("() => document.querySelector('.picker-status').hidden")


@pytest.mark.parametrize("language", LANGUAGES)
def test_editing_removes_a_line_in_the_browser(browser_page, language):
    page = browser_page
    assistant = factories.user_with_role("sales_assistant")
    order = make_order(products=[factories.ProductFactory(), factories.ProductFactory()])
    log_in(page, assistant, language=language)
    page.goto(f"{page.base_url}/orders/{order.pk}/edit/")
    page.check("input[name='lines-1-DELETE']")
    assert "removed" in page.locator("tr.line-row").nth(1).get_attribute("class")
    page.locator("#order-form button[type=submit]").last.click()
    page.wait_for_url(f"**/orders/{order.pk}/")
    assert OrderLine.objects.filter(order=order).count() == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_submitted_order_is_withdrawn_and_a_failed_transition_survives_a_reload(browser_page, language):
    page = browser_page
    assistant = factories.user_with_role("sales_assistant")
    order = make_order("received", submitted=True, assistant=assistant)
    log_in(page, assistant, language=language)
    page.goto(f"{page.base_url}/orders/{order.pk}/")
    assert page.locator("form[data-transition='submit']").count() == 0
    page.locator("#withdraw-form button[type=submit]").click()
    page.wait_for_url(f"**/orders/{order.pk}/")
    assert Order.objects.get(pk=order.pk).submitted_at is None
    # a submission refused (an open clarification) shows why; reloading only reloads the page
    page.fill("#id_clar_question", "Which colour?")
    page.locator("#clarification-form button[type=submit]").click()
    page.wait_for_url(f"**/orders/{order.pk}/")
    page.locator("form[data-transition='submit'] button[type=submit]").click()
    page.wait_for_url(f"**/orders/{order.pk}/")
    assert page.locator("#transition-failure").is_visible()
    assert TEXTS[language]["not_done"] in page.locator("#transition-failure").inner_text()
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert posts == [] and page.locator("#transition-failure").count() == 0
    assert Order.objects.get(pk=order.pk).submitted_at is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_superseded_objection_is_greyed_and_explained(browser_page, language):
    page = browser_page
    manager = factories.user_with_role("sales_manager")
    cast = Cast(sales_manager=manager)
    order = make_order("received", submitted=True, cast=cast, special_terms="90 days")
    record_signoff(user=cast.finance_manager, order_id=order.pk, decision="object", comment="deposit first")
    record_signoff(user=cast.finance_manager, order_id=order.pk, decision="approve", comment="agreed")
    log_in(page, manager, language=language)
    page.goto(f"{page.base_url}/orders/{order.pk}/")
    superseded = page.locator("li.superseded")
    assert superseded.count() == 1
    assert TEXTS[language]["superseded"] in superseded.inner_text()
    badge = superseded.locator(".badge")
    assert "line-through" in badge.evaluate("e => getComputedStyle(e).textDecorationLine")
    red = page.evaluate("() => getComputedStyle(document.querySelector('.badge-danger') || document.body).color")
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") != red
