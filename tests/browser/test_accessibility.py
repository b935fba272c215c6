"""The axe-core audit (issue 13): every main page, in Chinese and in English, has no critical or serious
violation (labels of the line inputs and the product select, select names, progress bars' names, links
told apart from text, table headers with text...).

One order in every state, a joint review with an objection, a complaint, a survey and a periodic check
give every page something to show; each role visits the pages it works on, then the customer's pages
and the login form. axe-core is vendored in ``tests/browser/vendor`` (see :mod:`tests.browser.axe`).
"""

from __future__ import annotations

import datetime
import json

import pytest

from feedback.services import record_complaint, survey_token
from orders.services import record_signoff
from supervision.services import create_periodic_check
from tests.browser.axe import AXE_JS, audit, axe_sha256, describe, pinned
from tests.browser_support import log_in
from tests.factories import Cast, make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_axe_core_is_the_pinned_npm_release():
    meta = pinned()
    assert meta["devDependencies"] == {"axe-core": "4.14.1"}
    assert AXE_JS.read_text()[:20].startswith("/*! axe v4.14.1")
    assert axe_sha256() == meta["vendored"]["axe.min.js"]["sha256"]


@pytest.fixture
def audit_page(browser, live_server):
    """A browser context for the audit: the app's CSP is bypassed only so the injected axe script runs."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=live_server.url, locale="zh-CN", bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.base_url = live_server.url
    yield page
    context.close()


def world() -> dict:
    cast = Cast()
    draft = make_order("received", cast=cast)
    joint = make_order("received", submitted=True, cast=cast, special_terms="two lots, 90 days")
    record_signoff(user=cast.finance_manager, order_id=joint.pk, decision="object", comment="deposit first")
    record_signoff(user=cast.finance_manager, order_id=joint.pk, decision="approve", comment="deposit agreed")
    orders = {
        state: make_order(state, cast=cast)
        for state in ("reviewed", "scheduled", "producing", "shipped", "accepted", "settled")
    }
    record_complaint(
        user=cast.sales_assistant,
        order_id=orders["accepted"].pk,
        kind="complaint",
        description="Two boxes were dented.",
    )
    today = datetime.date.today()
    check = create_periodic_check(
        user=cast.sales_manager,
        assistant_id=cast.sales_assistant.pk,
        period_start=today - datetime.timedelta(days=30),
        period_end=today,
        sample_size=3,
    )
    ids = {"draft": draft.pk, "joint": joint.pk, **{s: o.pk for s, o in orders.items()}}
    pages = {
        "sales_assistant": [
            "/",
            "/orders/",
            "/orders/new/",
            f"/orders/{ids['draft']}/",
            f"/orders/{ids['draft']}/edit/",
            f"/orders/{ids['joint']}/",
            f"/orders/{ids['shipped']}/",
            f"/orders/{ids['accepted']}/",
            "/orders/import/",
            "/notifications/",
            "/notifications/preferences/",
            "/supervision/kpis/",
            "/finance/receivables/",
        ],
        "sales_manager": [
            "/",
            "/supervision/review/",
            f"/supervision/review/{ids['joint']}/",
            "/supervision/team/",
            "/supervision/kpis/",
            "/supervision/audit/",
            "/supervision/checks/",
            f"/supervision/checks/{check.pk}/",
            "/supervision/complaints/",
            "/supervision/violations/",
            "/supervision/losses/",
            "/logistics/",
            f"/orders/{ids['joint']}/",
            f"/orders/{ids['scheduled']}/",
            f"/orders/{ids['settled']}/",
        ],
        "finance_manager": ["/", "/supervision/signoffs/", f"/orders/{ids['accepted']}/", "/finance/"],
        "finance_specialist": ["/finance/", "/finance/receivables/", f"/orders/{ids['shipped']}/"],
        "production_supervisor": ["/", f"/orders/{ids['reviewed']}/", f"/orders/{ids['producing']}/", "/production/",
                                  f"/production/orders/{ids['reviewed']}/", f"/production/orders/{ids['producing']}/"],
        "production_worker": ["/production/my/"],
        "logistics_specialist": ["/", f"/orders/{ids['producing']}/", f"/orders/{ids['shipped']}/", "/logistics/"],
        "auditor": ["/supervision/audit/", f"/orders/{ids['settled']}/", "/supervision/violations/"],
    }
    public = [
        "/accounts/login/",
        f"/track/{orders['shipped'].tracking_token}/",
        f"/survey/{survey_token(orders['accepted'])}/",
    ]
    return {"cast": cast, "pages": pages, "public": public}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_main_page_has_no_critical_or_serious_violation(audit_page, language):
    page = audit_page
    data = world()
    found: dict[str, list[dict]] = {}
    visited = 0

    def visit(label: str, path: str) -> None:
        nonlocal visited
        response = page.goto(f"{page.base_url}{path}")
        assert response is not None and response.status == 200, (label, path, response and response.status)
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == language, (label, path)
        violations = audit(page)
        visited += 1
        if violations:
            found[f"[{language}] {label} {path}"] = violations

    for role, paths in data["pages"].items():
        log_in(page, getattr(data["cast"], role), language=language)
        for path in paths:
            visit(role, path)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
    for path in data["public"]:
        visit("customer", path)
    assert visited == sum(len(p) for p in data["pages"].values()) + len(data["public"])
    assert not found, (
        "axe-core found critical or serious violations:\n"
        + describe(found)
        + "\n"
        + json.dumps(sorted({v["id"] for vs in found.values() for v in vs}))
    )
