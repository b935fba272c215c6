"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Registered as a plugin in ``tests/conftest.py`` so every test package can use
``browser``, ``browser_page`` and :func:`log_in`. A missing Chromium FAILS the
run (CI must not go green without the browser tests); it never skips.
"""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls
# made by the test itself (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not os.path.exists(path):
        pytest.fail(f"Chromium is missing at {path}: apt-get install -y chromium fonts-noto-cjk", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def browser_page(browser, live_server):
    """A fresh browser context (no cookies) with a page; ``page.base_url`` is the live server."""
    # A factory's staff browse in Chinese: the browser asks for zh-CN like theirs do.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    yield page
    context.close()


def log_in(page, user, *, password: str | None = None, language: str | None = None) -> None:
    """Log `user` in through the real login form (and pick a UI language first if given)."""
    from tests.factories import PASSWORD

    if password is None:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        password = PASSWORD
    page.context.clear_cookies()
    if language:
        page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "/accounts/login/" not in page.url, f"login failed for {user.username}"
