"""Chromium loads the pages under the CSP without a single violation, and their scripts run (issue 9)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page) -> list[str]:
    """Every CSP violation the page reports (console message or securitypolicyviolation event)."""
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return found


def visit(page, path: str) -> None:
    page.goto(f"{page.base_url}{path}")
    page.wait_for_load_state("networkidle")


def test_the_pages_and_the_intake_script_run_under_the_policy(browser_page):
    violations = watch(browser_page)
    user = factories.user_with_role("sales_assistant")
    order = factories.make_order()
    log_in(browser_page, user, language="en")
    visit(browser_page, "/")
    visit(browser_page, f"/orders/{order.pk}/")
    visit(browser_page, "/orders/new/")
    # the intake script (static/js/order_form.js) runs: it adds a search box to each picker
    assert browser_page.locator("input.picker-search").count() >= 1
    assert violations == []


def test_the_admin_runs_under_the_policy(browser_page):
    violations = watch(browser_page)
    admin = factories.superuser()
    order = factories.make_order()
    log_in(browser_page, admin, language="en")
    visit(browser_page, "/admin/")
    visit(browser_page, f"/admin/orders/order/{order.pk}/change/")
    assert browser_page.locator("#order-transitions, #order-history").count() >= 1
    visit(browser_page, "/admin/orders/order/")
    assert violations == []


def test_swagger_ui_renders_from_the_app_under_the_policy(browser_page):
    violations = watch(browser_page)
    outside: list[str] = []
    browser_page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(browser_page.base_url)
                    and not r.url.startswith("data:") else None)
    visit(browser_page, "/api/v1/docs/")
    browser_page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert outside == []
    assert violations == []
