"""The live app for the schema tests: every role's user, reference data, tokens from /auth/token/."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from orderdesk.roles import ROLES
from tests import factories
from tests.factories import PASSWORD


def login(base_url: str, username: str) -> str:
    """A token for `username`, the way any client gets one: POST /api/v1/auth/token/."""
    response = httpx.post(f"{base_url}/api/v1/auth/token/", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def live_world(live_server):
    """Users named after their roles (as seed_demo makes them), a customer, two products, a workshop."""
    users = {role: factories.user_with_role(role) for role in ROLES}
    customer = factories.CustomerFactory(name="Shanghai Precision Parts", credit_limit=Decimal("5000000.00"))
    products = [factories.ProductFactory(lead_time_days=10), factories.ProductFactory(lead_time_days=20)]
    workshop = factories.WorkshopFactory(name="Assembly hall")
    return {
        "url": live_server.url,
        "users": users,
        "customer": customer,
        "products": products,
        "workshop": workshop,
    }


@pytest.fixture
def live_schema(live_world):
    """The schema as the live app serves it (to a signed-in caller)."""
    token = login(live_world["url"], "sales_manager")
    response = httpx.get(
        f"{live_world['url']}/api/v1/schema/?format=json",
        headers={"Authorization": f"Token {token}", "Accept-Language": "zh-hans"},
    )
    assert response.status_code == 200
    return response.json()
