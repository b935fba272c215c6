"""The browser harness itself: Chromium logs a user in through the real login form."""

import pytest

from tests import factories
from tests.browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_reaches_the_dashboard_in_the_browsers_chinese(browser_page):
    user = factories.user_with_role("sales_assistant")
    log_in(browser_page, user)
    assert browser_page.locator("html").get_attribute("lang") == "zh-hans"
    assert "工作台" in browser_page.content()


def test_the_language_switch_gives_english(browser_page):
    user = factories.user_with_role("sales_assistant")
    log_in(browser_page, user, language="en")
    assert browser_page.locator("html").get_attribute("lang") == "en"
    assert "Dashboard" in browser_page.content()


def test_wrong_password_stays_on_the_login_page(browser_page):
    user = factories.user_with_role("sales_assistant")
    browser_page.goto(f"{browser_page.base_url}/accounts/login/")
    browser_page.fill("input[name=username]", user.username)
    browser_page.fill("input[name=password]", "wrong")
    browser_page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    browser_page.wait_for_load_state("networkidle")
    assert "/accounts/login/" in browser_page.url
