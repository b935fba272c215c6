"""API tokens expire and are revoked on logout, password change and by an admin (issue 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def _clean_state(db):
    from axes.utils import reset

    reset()
    cache.clear()


def obtain(username: str, password: str = PASSWORD) -> dict:
    answer = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_token_answer_keeps_its_contract_and_tells_the_expiry(sales_assistant, settings):
    before = timezone.now()
    body = obtain("sales_assistant")
    assert set(body) == {"token", "expires_at"}
    expires = parse_datetime(body["expires_at"])
    assert before + timedelta(hours=settings.API_TOKEN_HOURS) <= expires <= timezone.now() + timedelta(
        hours=settings.API_TOKEN_HOURS)
    assert with_token(body["token"]).get("/api/v1/products/").status_code == 200
    assert obtain("sales_assistant")["token"] == body["token"]  # the same valid token again


def test_an_expired_token_is_refused(sales_assistant, settings):
    settings.API_TOKEN_HOURS = 2
    key = obtain("sales_assistant")["token"]
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=59)):
        assert with_token(key).get("/api/v1/products/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        answer = with_token(key).get("/api/v1/products/")
        assert answer.status_code == 401
        assert answer.json()["code"] == "token_expired"
        assert not Token.objects.filter(key=key).exists()
        fresh = obtain("sales_assistant")["token"]
        assert fresh != key
        assert with_token(fresh).get("/api/v1/products/").status_code == 200


def test_api_logout_revokes_the_token(sales_assistant):
    key = obtain("sales_assistant")["token"]
    client = with_token(key)
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/products/").status_code == 401


def test_page_logout_revokes_the_token(sales_assistant):
    key = obtain("sales_assistant")["token"]
    browser = Client()
    assert browser.post("/accounts/login/", {"username": "sales_assistant", "password": PASSWORD}).status_code == 302
    assert browser.post("/accounts/logout/").status_code == 302
    assert with_token(key).get("/api/v1/products/").status_code == 401


def test_a_password_change_revokes_the_token(sales_assistant, sales_manager):
    key = obtain("sales_assistant")["token"]
    other = obtain("sales_manager")["token"]
    user = get_user_model().objects.get(username="sales_assistant")
    user.set_password("a-new-password-456")
    user.save()
    assert with_token(key).get("/api/v1/products/").status_code == 401
    assert with_token(other).get("/api/v1/products/").status_code == 200  # others keep theirs
    # other saves of the user do not revoke
    key = obtain("sales_assistant", "a-new-password-456")["token"]
    user.refresh_from_db()
    user.first_name = "Li"
    user.save()
    assert with_token(key).get("/api/v1/products/").status_code == 200


def test_a_password_change_through_the_page_revokes_the_token(sales_assistant):
    key = obtain("sales_assistant")["token"]
    browser = Client()
    browser.post("/accounts/login/", {"username": "sales_assistant", "password": PASSWORD})
    answer = browser.post("/accounts/password_change/", {
        "old_password": PASSWORD, "new_password1": "a-new-password-456", "new_password2": "a-new-password-456"})
    assert answer.status_code == 302
    assert with_token(key).get("/api/v1/products/").status_code == 401


def test_an_admin_revokes_a_token(sales_assistant, superuser):
    key = obtain("sales_assistant")["token"]
    admin = Client()
    admin.force_login(superuser)
    url = reverse("admin:authtoken_tokenproxy_delete", args=[Token.objects.get(key=key).user_id])
    assert admin.get(url).status_code == 200
    assert admin.post(url, {"post": "yes"}).status_code == 302
    assert with_token(key).get("/api/v1/products/").status_code == 401


def test_an_unknown_token_is_refused():
    answer = with_token("0" * 40).get("/api/v1/products/")
    assert answer.status_code == 401
