#!/usr/bin/env python3
"""Refresh the README's screenshots (docs/screenshots/*.png) with Playwright and Chromium.

Run against a server with the demo data (``make run``, or ``python manage.py seed_demo`` then the server):

    .venv/bin/python scripts/screenshots.py                 # http://127.0.0.1:8000, Chinese
    BASE_URL=http://host:port LANGUAGE=en .venv/bin/python scripts/screenshots.py

It logs in as the demo users (password ``DEMO_PASSWORD``, default ``orderdesk-demo``) through the real login
form and saves one full-page PNG per page of the README's table.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
LANGUAGE = os.environ.get("LANGUAGE", "zh-hans")
PASSWORD = os.environ.get("DEMO_PASSWORD", "orderdesk-demo")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def log_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": LANGUAGE, "url": BASE_URL}])
    page.goto(f"{BASE_URL}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    if "/accounts/login/" in page.url:
        sys.exit(f"login failed for {username}: is the demo data there (seed_demo)?")


def first_link(page, path: str, pattern: str) -> str:
    """The first link on `path` whose href matches `pattern` (e.g. an order of the list)."""
    page.goto(f"{BASE_URL}{path}")
    for href in page.locator("a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        if re.fullmatch(pattern, href or ""):
            return href
    sys.exit(f"no link matching {pattern} on {path}")


def shoot(page, path: str, name: str) -> None:
    page.goto(f"{BASE_URL}{path}")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"{name}.png ← {path}")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
        log_in(page, "sales_assistant")
        shoot(page, "/orders/new/", "intake")
        order = first_link(page, "/orders/?state=received", r"/orders/\d+/")
        shoot(page, order, "order")
        log_in(page, "sales_manager")
        shoot(page, "/supervision/review/", "review_queue")
        review = first_link(page, "/supervision/review/", r"/supervision/review/\d+/")
        shoot(page, review, "review")
        shoot(page, "/supervision/team/", "team")
        shoot(page, "/supervision/kpis/", "kpis")
        browser.close()


if __name__ == "__main__":
    main()
