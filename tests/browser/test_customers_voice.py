"""Customers' voice in Chromium (issue 12), in Chinese and in English: the customer opens the tracking link, sees
the progress, files a complaint; staff resolve and close it; the customer sees the outcome and answers the
survey; the auditor finds a planted violation on the violation report."""

import pytest

from feedback.models import Complaint, Survey
from orders.models import Order
from tests import factories
from tests.browser_support import log_in
from tests.factories import Cast, make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "zh-hans": {"contact": "您的联系人", "filed": "我们已收到您的留言", "answer": "我们的答复", "thanks": "感谢您的反馈",
                "rule": "绕过服务写入状态"},
    "en": {"contact": "Your contact", "filed": "we have received your message", "answer": "Our answer",
           "thanks": "Thank you for your answer", "rule": "State written outside the service"},
}


@pytest.fixture(autouse=True)
def _fresh_complaint_throttle():
    """The tracking page's complaint throttle counts per address in the shared cache (Redis): the browser
    always posts from 127.0.0.1, so earlier tests' complaints must not count against this one."""
    from django.core.cache import cache

    cache.clear()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_customer_is_heard_from_the_link_to_the_survey(browser_page, language):
    page = browser_page
    texts = TEXTS[language]
    manager = factories.user_with_role("sales_manager")
    assistant = factories.user_with_role("sales_assistant")
    assistant.first_name, assistant.last_name = "Mei", "Chen"
    assistant.save()
    customer = factories.CustomerFactory(language=language)
    order = make_order("accepted", cast=Cast(owner=assistant, sales_manager=manager), customer=customer)
    link = f"{page.base_url}/track/{Order.objects.get(pk=order.pk).tracking_token}/"

    # the customer, without an account, in their language
    page.context.clear_cookies()
    page.goto(link)
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("ol.steps li.current").count() == 1
    assert page.locator("ol.steps li.done").count() == 6  # every step up to the delivery
    assert texts["contact"] in page.locator("#contact").inner_text() and "Mei Chen" in page.content()
    page.check("#id_track_kind_0")  # complaint
    page.fill("#id_track_description", "The <b>handles</b> are loose.")
    page.locator("#track-complaint button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert texts["filed"].lower() in page.locator("#feedback").inner_text().lower()
    assert "The <b>handles</b> are loose." in page.locator("#feedback").inner_text()  # shown as text
    complaint = Complaint.objects.get(order=order)

    # the manager resolves it on the order page, then closes it
    log_in(page, manager, language=language)
    page.goto(f"{page.base_url}/orders/{order.pk}/#feedback")
    page.select_option(f"#id_complaint{complaint.pk}_status", "resolved")
    page.fill(f"#id_complaint{complaint.pk}_resolution", "We send new handles with fitting instructions.")
    page.locator(f"li[data-complaint='{complaint.pk}'] form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(f"li[data-complaint='{complaint.pk}']").get_attribute("data-status") == "resolved"
    page.select_option(f"#id_complaint{complaint.pk}_status", "closed")
    page.locator(f"li[data-complaint='{complaint.pk}'] form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert Complaint.objects.get(pk=complaint.pk).status == "closed"

    # the customer sees the outcome and answers the questionnaire from the tracking page
    page.context.clear_cookies()
    page.goto(link)
    outcome = page.locator(f"#feedback li[data-complaint='{complaint.pk}']").inner_text()
    assert texts["answer"] in outcome and "We send new handles with fitting instructions." in outcome
    page.locator("#feedback a[href^='/survey/']").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("fieldset.scores").count() == 4
    for name, score in (("quality", 4), ("punctuality", 3), ("communication", 5), ("score", 4)):
        page.check(f"#id_{name}_{score}")
    page.fill("#id_comment", "Quick answer, thank you.")
    page.locator("#survey-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert texts["thanks"] in page.content()
    survey = Survey.objects.get(order=order)
    assert (survey.score, survey.quality, survey.punctuality, survey.communication) == (4, 4, 3, 5)


def test_the_auditor_finds_a_planted_violation(browser_page):
    page = browser_page
    auditor = factories.user_with_role("auditor")
    clean = make_order("producing")
    planted = make_order("producing")
    Order.objects.filter(pk=planted.pk).update(state="shipped")  # around the transition service
    for language in ("zh-hans", "en"):
        log_in(page, auditor, language=language)
        page.goto(f"{page.base_url}/supervision/violations/")
        rows = page.locator("tbody tr[data-rule='state_written_outside_service']")
        assert rows.count() == 1 and planted.number in rows.inner_text() and clean.number not in rows.inner_text()
        assert TEXTS[language]["rule"] in page.locator("[data-rule='state_written_outside_service'] dt").inner_text()
        page.select_option("#id_rule", "self_approval")
        page.locator("#violation-filter button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert page.locator("tbody tr").count() == 0
