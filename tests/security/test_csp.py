"""A strict Content-Security-Policy on every page; no inline script or style left to allow (issue 9)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests import factories

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", *sorted(ROOT.glob("*/templates"))]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def assert_strict(response, *, inline_styles: bool = False):
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    # Swagger UI injects <style> elements: its page alone allows inline styles (never scripts)
    assert directives["style-src"] == (["'self'", "'unsafe-inline'"] if inline_styles else ["'self'"])
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]


def templates():
    for folder in TEMPLATE_DIRS:
        yield from sorted(folder.rglob("*.html"))


def test_no_template_holds_inline_script_style_or_handlers():
    found = []
    for path in templates():
        text = path.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            if "src=" not in attrs and "application/json" not in attrs:
                found.append(f"{path.relative_to(ROOT)}: inline <script>")
        for pattern, what in ((r"\son[a-z]+\s*=", "event handler attribute"), (r"\sstyle\s*=", "style attribute"),
                              (r"<style\b", "<style> element"), (r"javascript:", "javascript: URL")):
            if re.search(pattern, text):
                found.append(f"{path.relative_to(ROOT)}: {what}")
    assert found == []


@pytest.mark.django_db
def test_public_pages_carry_the_policy(client):
    assert_strict(client.get("/accounts/login/"))
    assert_strict(client.get("/api/v1/docs/"), inline_styles=True)


@pytest.mark.django_db
def test_signed_in_pages_and_the_admin_carry_the_policy(sales_assistant, superuser):
    order = factories.make_order()
    client = Client()
    client.force_login(sales_assistant)
    for path in ("/", "/orders/", "/orders/new/", f"/orders/{order.pk}/"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert_strict(answer)
    admin = Client()
    admin.force_login(superuser)
    for path in ("/admin/", "/admin/orders/order/", f"/admin/orders/order/{order.pk}/change/"):
        answer = admin.get(path)
        assert answer.status_code == 200, path
        assert_strict(answer)


@pytest.mark.django_db
def test_swagger_ui_is_served_from_the_app(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    refs = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert refs, html
    assert all(not urlsplit(ref).netloc for ref in refs), refs
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert not re.search(r"https?://", script.content.decode())
