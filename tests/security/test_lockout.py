"""Login lockout (django-axes) on the three doors, and the API throttles (issue 9)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from orderdesk.security import lockout_message
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def _clean_state(db):
    from axes.utils import reset

    reset()
    cache.clear()
    yield
    reset()
    cache.clear()


def page_login(client, path, username, password):
    return client.post(path, {"username": username, "password": password})


def token_login(client, username, password):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_the_failure_limit_is_five_by_default():
    assert django_settings.AXES_FAILURE_LIMIT == 5
    assert django_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_pages_lock_after_the_failure_limit_and_refuse_the_right_password(path, superuser, settings):
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        answer = page_login(client, path, "admin", "wrong")
        assert answer.status_code == 200  # the form again, with its error
    answer = page_login(client, path, "admin", "wrong")
    assert answer.status_code == 429
    assert b'id="locked-out"' in answer.content
    assert f"locked after {limit} failed logins".encode() in answer.content
    answer = page_login(client, path, "admin", PASSWORD)
    assert answer.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still not logged in


def test_the_right_password_logs_in_below_the_limit(superuser, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        page_login(client, "/accounts/login/", "admin", "wrong")
    answer = page_login(client, "/accounts/login/", "admin", PASSWORD)
    assert answer.status_code == 302
    assert client.session["_auth_user_id"] == str(superuser.pk)


def test_lockout_is_per_username_and_address(superuser, sales_assistant, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page_login(client, "/accounts/login/", "admin", "wrong")
    # another user from the same address, and the same user from another address, still log in
    assert page_login(Client(), "/accounts/login/", "sales_assistant", PASSWORD).status_code == 302
    other = Client(REMOTE_ADDR="10.0.0.7")
    assert page_login(other, "/accounts/login/", "admin", PASSWORD).status_code == 302


def test_token_endpoint_locks_with_a_json_error(sales_assistant, settings):
    client = APIClient()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        answer = token_login(client, "sales_assistant", "wrong")
        assert answer.status_code == 400
    answer = token_login(client, "sales_assistant", "wrong")
    assert answer.status_code == 429
    assert answer.json()["code"] == "locked_out"
    assert f"locked after {limit} failed logins" in answer.json()["detail"]
    assert int(answer["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    answer = token_login(client, "sales_assistant", PASSWORD)
    assert answer.status_code == 429
    assert "token" not in answer.json()


def test_the_limit_comes_from_the_settings(sales_assistant, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = APIClient()
    assert token_login(client, "sales_assistant", "wrong").status_code == 400
    assert token_login(client, "sales_assistant", "wrong").status_code == 429
    assert token_login(client, "sales_assistant", PASSWORD).status_code == 429


def test_an_administrator_unlocks(sales_assistant, settings):
    from axes.utils import reset

    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(client, "sales_assistant", "wrong")
    assert token_login(client, "sales_assistant", PASSWORD).status_code == 429
    reset(username="sales_assistant")
    assert token_login(client, "sales_assistant", PASSWORD).status_code == 200


def test_the_lockout_message_is_translated(settings):
    with translation.override("zh-hans"):
        chinese = lockout_message()
    with translation.override("en"):
        english = lockout_message()
    assert english.startswith("This account is locked after 5 failed logins.")
    assert chinese != english and "5" in chinese


# --- DRF throttles ---------------------------------------------------------------------------
def test_a_throttled_api_answers_429_with_a_json_error(sales_assistant, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "3/minute"}
    client = APIClient()
    client.force_authenticate(sales_assistant)
    for _ in range(3):
        assert client.get("/api/v1/products/").status_code == 200
    answer = client.get("/api/v1/products/")
    assert answer.status_code == 429
    assert answer.json()["code"] == "throttled"
    assert answer.json()["detail"]
    assert int(answer["Retry-After"]) > 0


def test_anonymous_callers_are_throttled_per_address(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anon": "2/minute"}
    client = APIClient()
    # the API docs page is open to anyone (the data endpoints answer 401 before any throttle)
    assert client.get("/api/v1/docs/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 429


def test_the_token_endpoint_has_its_stricter_scope(sales_assistant, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "2/minute"}
    client = APIClient()
    assert token_login(client, "sales_assistant", PASSWORD).status_code == 200
    assert token_login(client, "sales_assistant", PASSWORD).status_code == 200
    answer = token_login(client, "sales_assistant", PASSWORD)
    assert answer.status_code == 429
    assert answer.json()["code"] == "throttled"


def test_default_rates_come_from_the_environment():
    from orderdesk import throttling

    rates = django_settings.API_THROTTLE_RATES
    assert set(rates) == {"anon", "user", "token"}
    assert throttling.TokenEndpointThrottle().get_rate() == rates["token"]


@pytest.mark.parametrize("store", ["configured", "local memory"])
def test_the_throttle_counts_a_sliding_window_in_constant_space(store, sales_assistant, settings, monkeypatch):
    """3/minute: the 4th request of a window is refused; in the next window the previous one's requests count for
    the share of it still inside the sliding minute; a caller's state is a few counters however many requests
    (issue 14: DRF's list of every request's time grew with the rate). The same on Redis (CI's cache: counters
    per window, one round trip) and on the quick start's local memory."""
    from django.core.cache import cache

    from orderdesk.throttling import UserRateThrottle

    if store == "local memory":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                       "LOCATION": "throttle-test"}}
    cache.clear()
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "3/minute"}
    now = [6_000_000.0]  # the start of a window (a multiple of 60)
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: now[0])
    client = APIClient()
    client.force_authenticate(sales_assistant)
    assert [client.get("/api/v1/products/").status_code for _ in range(4)] == [200, 200, 200, 429]
    now[0] += 70  # 10 s into the next window: 3 × 50/60 = 2.5 of the last window still count
    assert [client.get("/api/v1/products/").status_code for _ in range(2)] == [200, 429]  # 2.5 + 0, 2.5 + 1
    refused = client.get("/api/v1/products/")
    assert 0 < int(refused["Retry-After"]) <= 60
    now[0] += 40  # 50 s in: 0.5 of the last window counts; the refused requests did not count
    assert [client.get("/api/v1/products/").status_code for _ in range(3)] == [200, 200, 429]
    now[0] += 120  # two windows later: nothing counts any more
    assert client.get("/api/v1/products/").status_code == 200
