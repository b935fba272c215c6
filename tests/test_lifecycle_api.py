"""The whole lifecycle through the public API alone (DESIGN §6), as other systems drive it.

Token auth, reference lookups, an order of two lines from intake to settlement,
its history oldest first, and the notifications each department receives. These
tests commit for real (`transaction=True`), so notifications are sent the way
production sends them: by the Celery task queued after commit (run inline here).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from notifications.models import Notification
from orders.models import Order, Signoff
from tests import factories
from tests.factories import PASSWORD, days, today
from tests.utils import call, results

ROLE_USERS = [
    "sales_assistant",
    "sales_manager",
    "production_supervisor",
    "production_worker",
    "logistics_supervisor",
    "logistics_specialist",
    "finance_manager",
    "finance_specialist",
    "auditor",
]


def token_client(username: str, password: str = PASSWORD) -> APIClient:
    anonymous = APIClient()
    body = call(anonymous, "post", "/auth/token/", {"username": username, "password": password}, expect=200)
    assert body["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    return client


@pytest.fixture
def world(transactional_db):
    users = {role: factories.user_with_role(role) for role in ROLE_USERS}
    customer = factories.CustomerFactory(name="Shanghai Precision Parts", credit_limit=Decimal("5000000.00"))
    products = [factories.ProductFactory(lead_time_days=10), factories.ProductFactory(lead_time_days=20)]
    workshop = factories.WorkshopFactory(name="Assembly hall")
    clients = {role: token_client(role) for role in ROLE_USERS}
    return {"users": users, "customer": customer, "products": products, "workshop": workshop, "clients": clients}


def create_order_via_api(client, world, *, unit_prices=("120.50", "80.00"), quantities=("10", "5"), special_terms="",
                         assistant=None):
    customers = results(call(client, "get", "/customers/", expect=200))
    customer = next(c for c in customers if c["name"] == "Shanghai Precision Parts")
    assert "credit_limit" in customer and "open_exposure" in customer  # sales sees credit data
    products = results(call(client, "get", "/products/", expect=200))
    ids = {p["id"] for p in products}
    assert {p.pk for p in world["products"]} <= ids
    lead = max(p["lead_time_days"] for p in products if p["id"] in {x.pk for x in world["products"]})
    payload = {
        "customer": customer["id"],
        "channel": "email",
        "contact_name": "Ms. Wang",
        "contact_phone": "+86 21 1234 5678",
        "delivery_address": "88 Harbour Road, Shanghai",
        "requested_delivery_date": days(lead + 10).isoformat(),
        "special_terms": special_terms,
        **({"assistant": assistant.pk} if assistant else {}),
        "lines": [
            {"product": product.pk, "specification": f"spec {i}", "quantity": qty, "unit_price": price}
            for i, (product, qty, price) in enumerate(zip(world["products"], quantities, unit_prices, strict=True))
        ],
    }
    return call(client, "post", "/orders/", payload, expect=201)


def transition(client, order_id, name, expect=200, **data):
    return call(client, "post", f"/orders/{order_id}/transitions/{name}/", data, expect=expect)


def notification_kinds(client, order_id) -> list[str]:
    body = call(client, "get", "/notifications/", expect=200)
    items = results(body)
    return [n["kind"] for n in items if n["order"] == order_id]


@pytest.mark.django_db(transaction=True)
def test_token_auth_is_required_and_checks_the_password(world):
    assert APIClient().get("/api/v1/orders/").status_code in (401, 403)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "sales_assistant", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"]
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get("/api/v1/orders/").status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
def test_the_whole_lifecycle_through_the_api(world):
    c = world["clients"]
    u = world["users"]

    # lookups (DESIGN §6)
    workers = results(call(c["production_supervisor"], "get", "/users/", {"role": "production_worker"}, expect=200))
    assert [w["username"] for w in workers] == ["production_worker"]
    assert set(workers[0]) >= {"id", "username", "full_name", "roles"} and workers[0]["roles"] == ["production_worker"]
    workshops = results(call(c["production_supervisor"], "get", "/workshops/", expect=200))
    assert world["workshop"].pk in [w["id"] for w in workshops]

    # intake (R4.1)
    order = create_order_via_api(c["sales_assistant"], world)
    order_id = order["id"]
    assert order["state"] == "received" and order["number"]
    assert Decimal(order["total_amount"]) == Decimal("1605.00")  # 10 × 120.50 + 5 × 80.00
    assert len(order["lines"]) == 2
    assert order["assistant"] == u["sales_assistant"].pk
    assert order["tracking_url"]

    # the caller's transitions
    listed = call(c["sales_assistant"], "get", f"/orders/{order_id}/transitions/", expect=200)
    assert {t["name"]: t["allowed"] for t in listed}["submit"] is True
    assert {t["name"]: t["allowed"] for t in listed}["approve"] is False

    # review (R4.2)
    transition(c["sales_assistant"], order_id, "submit", comment="checked with the customer")
    promised = days(40).isoformat()
    body = transition(c["sales_manager"], order_id, "approve", comment="good customer", promised_delivery_date=promised)
    assert body["state"] == "reviewed" and body["promised_delivery_date"] == promised

    # scheduling (R4.3)
    plan = call(
        c["production_supervisor"],
        "post",
        "/production/plans/",
        {
            "order": order_id,
            "workshop": world["workshop"].pk,
            "milestones": [
                {"name": "Materials in", "due_date": days(5).isoformat(), "responsible": workers[0]["id"]},
                {
                    "name": "Assembly done",
                    "due_date": days(30).isoformat(),
                    "responsible": u["production_supervisor"].pk,
                },
            ],
        },
        expect=201,
    )
    assert len(plan["milestones"]) == 2
    transition(c["production_supervisor"], order_id, "schedule", comment="planned")
    plan = call(
        c["production_supervisor"],
        "patch",
        f"/production/plans/{plan['id']}/",
        {"materials_ready": True, "equipment_ready": True},
        expect=200,
    )
    assert plan["materials_ready"] and plan["equipment_ready"]
    transition(c["production_supervisor"], order_id, "start_production", comment="go")

    # execution (R4.4)
    call(
        c["production_worker"],
        "post",
        "/production/progress/",
        {"order": order_id, "percent_complete": 40, "note": "frames welded"},
        expect=201,
    )
    transition(c["logistics_specialist"], order_id, "ship", expect=400)  # not complete yet
    call(
        c["production_worker"],
        "post",
        "/production/progress/",
        {"order": order_id, "percent_complete": 100, "note": "done"},
        expect=201,
    )
    shipment = call(
        c["logistics_specialist"],
        "post",
        "/logistics/shipments/",
        {
            "order": order_id,
            "carrier": "SF Express",
            "tracking_number": "SF123456789",
            "expected_arrival": days(3).isoformat(),
        },
        expect=201,
    )
    call(
        c["logistics_specialist"],
        "post",
        f"/logistics/shipments/{shipment['id']}/events/",
        {"status": "picked_up", "location": "Factory gate", "note": "loaded"},
        expect=201,
    )
    transition(c["logistics_supervisor"], order_id, "ship", comment="on its way")
    call(
        c["logistics_specialist"],
        "post",
        f"/logistics/shipments/{shipment['id']}/events/",
        {"status": "delivered", "location": "Harbour Road"},
        expect=201,
    )

    # delivery and settlement (R4.5)
    transition(
        c["sales_assistant"],
        order_id,
        "accept",
        comment="inspected, fine",
        signed_by="Ms. Wang",
        signed_on=today().isoformat(),
        receipt_reference="SIGNED-42",
    )
    invoice = call(
        c["finance_specialist"],
        "post",
        "/finance/invoices/",
        {"order": order_id, "amount": "1605.00", "due_date": days(30).isoformat()},
        expect=201,
    )
    transition(c["finance_manager"], order_id, "settle", expect=400)  # not paid yet
    call(
        c["finance_specialist"],
        "post",
        "/finance/payments/",
        {
            "invoice": invoice["id"],
            "amount": "1605.00",
            "received_on": today().isoformat(),
            "reference": "BANK-1",
        },
        expect=201,
    )
    body = transition(c["finance_manager"], order_id, "settle", comment="paid in full")
    assert body["state"] == "settled"

    detail = call(c["sales_assistant"], "get", f"/orders/{order_id}/", expect=200)
    assert detail["state"] == "settled"
    assert detail["receipt_signed_by"] == "Ms. Wang" and detail["receipt_reference"] == "SIGNED-42"
    assert Order.objects.get(pk=order_id).state == "settled"

    # history: every transition, oldest first, with who and why
    history = call(c["sales_assistant"], "get", f"/orders/{order_id}/history/", expect=200)
    steps = [e for e in history if e["kind"] == "transition"]
    assert [e["transition"] for e in steps] == [
        "submit",
        "approve",
        "schedule",
        "start_production",
        "ship",
        "accept",
        "settle",
    ]
    assert [(e["source_state"], e["state"]) for e in steps] == [
        ("received", "received"),
        ("received", "reviewed"),
        ("reviewed", "scheduled"),
        ("scheduled", "producing"),
        ("producing", "shipped"),
        ("shipped", "accepted"),
        ("accepted", "settled"),
    ]
    assert [e["by"] for e in steps] == [
        "sales_assistant",
        "sales_manager",
        "production_supervisor",
        "production_supervisor",
        "logistics_supervisor",
        "sales_assistant",
        "finance_manager",
    ]
    assert steps[1]["comment"] == "good customer"
    stamps = [e["at"] for e in history]
    assert stamps == sorted(stamps)
    # the workshop assignment is a recorded field change
    assert any(e["kind"] == "change" and e["field"] == "workshop" for e in history)

    # notifications went to the right people (after commit)
    assert notification_kinds(c["sales_manager"], order_id) == ["review_requested"]
    assert set(notification_kinds(c["sales_assistant"], order_id)) == {
        "order_approved",
        "order_scheduled",
        "production_started",
        "order_shipped",
        "order_settled",
        # the department events the assistant passes on to the customer (issue 8)
        "progress_reported",
        "shipment_updated",
        "payment_received",
    }
    assert notification_kinds(c["production_supervisor"], order_id) == ["order_approved"]
    assert notification_kinds(c["logistics_supervisor"], order_id) == ["ready_to_ship", "order_scheduled"]
    assert set(notification_kinds(c["finance_specialist"], order_id)) == {"order_shipped", "order_accepted"}
    assert notification_kinds(c["finance_manager"], order_id) == ["order_accepted"]
    assert notification_kinds(c["auditor"], order_id) == []
    # the worker is the responsible person of the plan's milestones (issue 10): told when assigned
    assert notification_kinds(c["production_worker"], order_id) == ["milestone_assigned"]
    # newest first, with the contract's keys
    items = results(call(c["sales_assistant"], "get", "/notifications/", expect=200))
    assert [n["kind"] for n in items][0] == "order_settled"
    assert {"kind", "order", "message", "read"} <= set(items[0]) and items[0]["read"] is False
    assert order["number"] in items[0]["message"]
    call(c["sales_assistant"], "post", "/notifications/read/", {}, expect=200)
    assert all(n["read"] for n in results(call(c["sales_assistant"], "get", "/notifications/", expect=200)))
    assert Notification.objects.filter(user=u["sales_manager"], read=False).exists()  # only the caller's


@pytest.mark.django_db(transaction=True)
def test_joint_review_signoffs_and_edit_voiding_them(world, settings):
    c = world["clients"]
    settings.JOINT_REVIEW_THRESHOLD = Decimal("500000.00")
    order = create_order_via_api(c["sales_assistant"], world, unit_prices=("50000.00", "1.00"))
    order_id = order["id"]
    assert Decimal(order["total_amount"]) >= settings.JOINT_REVIEW_THRESHOLD
    assert order["requires_joint_review"] is True

    # before submission production does not see it; nobody can sign off yet
    call(c["production_supervisor"], "get", f"/orders/{order_id}/", expect=404)
    transition(c["sales_assistant"], order_id, "submit")
    assert notification_kinds(c["finance_manager"], order_id) == ["signoff_requested"]
    assert notification_kinds(c["production_supervisor"], order_id) == ["signoff_requested"]

    body = transition(c["sales_manager"], order_id, "approve", expect=400, comment="ok")
    assert [u["code"] for u in body["unmet"]] == ["joint_review_incomplete"]

    # the production supervisor now sees the order awaiting their sign-off, without prices
    seen = call(c["production_supervisor"], "get", f"/orders/{order_id}/", expect=200)
    assert "total_amount" not in seen and "contact_phone" not in seen
    call(c["production_worker"], "get", f"/orders/{order_id}/", expect=404)
    # only finance_manager and production_supervisor sign off
    call(c["finance_specialist"], "post", f"/orders/{order_id}/signoffs/", {"decision": "approve"}, expect=403)
    call(c["sales_manager"], "post", f"/orders/{order_id}/signoffs/", {"decision": "approve"}, expect=403)
    call(c["auditor"], "post", f"/orders/{order_id}/signoffs/", {"decision": "approve"}, expect=403)
    call(c["finance_manager"], "post", f"/orders/{order_id}/signoffs/", {"decision": "maybe"}, expect=400)

    call(
        c["finance_manager"],
        "post",
        f"/orders/{order_id}/signoffs/",
        {"decision": "approve", "comment": "terms fine"},
        expect=201,
    )
    body = transition(c["sales_manager"], order_id, "approve", expect=400, comment="ok")
    assert [u["code"] for u in body["unmet"]] == ["joint_review_incomplete"]
    call(
        c["production_supervisor"],
        "post",
        f"/orders/{order_id}/signoffs/",
        {"decision": "approve", "comment": "capacity ok"},
        expect=201,
    )
    assert Signoff.objects.filter(order_id=order_id, review_round=1).count() == 2

    # an edit after the sign-offs voids them (and withdraws the submission)
    call(c["sales_assistant"], "patch", f"/orders/{order_id}/", {"delivery_address": "1 New Dock, Ningbo"}, expect=200)
    body = transition(c["sales_manager"], order_id, "approve", expect=400, comment="ok")
    assert "not_submitted" in [u["code"] for u in body["unmet"]]
    transition(c["sales_assistant"], order_id, "submit")
    body = transition(c["sales_manager"], order_id, "approve", expect=400, comment="ok")
    assert [u["code"] for u in body["unmet"]] == ["joint_review_incomplete"]

    call(c["finance_manager"], "post", f"/orders/{order_id}/signoffs/", {"decision": "approve"}, expect=201)
    call(c["production_supervisor"], "post", f"/orders/{order_id}/signoffs/", {"decision": "approve"}, expect=201)
    body = transition(c["sales_manager"], order_id, "approve", comment="joint review done")
    assert body["state"] == "reviewed"
    history = call(c["sales_assistant"], "get", f"/orders/{order_id}/history/", expect=200)
    assert any(e["kind"] == "change" and e["field"] == "delivery_address" for e in history)
    # a sign-off after approval is refused
    call(c["finance_manager"], "post", f"/orders/{order_id}/signoffs/", {"decision": "approve"}, expect=409)


@pytest.mark.django_db(transaction=True)
def test_special_terms_need_the_joint_review_too(world):
    c = world["clients"]
    order = create_order_via_api(c["sales_assistant"], world, special_terms="Deliver in two batches")
    assert order["requires_joint_review"] is True
    transition(c["sales_assistant"], order["id"], "submit")
    body = transition(c["sales_manager"], order["id"], "approve", expect=400, comment="ok")
    assert [u["code"] for u in body["unmet"]] == ["joint_review_incomplete"]


@pytest.mark.django_db(transaction=True)
def test_credit_limit_and_override_through_the_api(world):
    c = world["clients"]
    customer = world["customer"]
    customer.credit_limit = Decimal("1000.00")
    customer.save()
    order = create_order_via_api(c["sales_assistant"], world)  # 1605.00
    transition(c["sales_assistant"], order["id"], "submit")

    body = transition(c["sales_manager"], order["id"], "approve", expect=400, comment="ok")
    assert [u["code"] for u in body["unmet"]] == ["credit_limit_exceeded"]
    body = transition(c["sales_manager"], order["id"], "approve", expect=400, override_credit=True)
    assert [u["code"] for u in body["unmet"]] == ["credit_limit_exceeded"]
    assert Order.objects.get(pk=order["id"]).state == "received"

    body = transition(
        c["sales_manager"], order["id"], "approve", override_credit=True, comment="strategic customer, CFO agreed"
    )
    assert body["state"] == "reviewed"
    assert body["credit_override_reason"] == "strategic customer, CFO agreed"
    # the approved order now counts against the customer's exposure
    customers = results(call(c["finance_manager"], "get", "/customers/", expect=200))
    exposure = next(x["open_exposure"] for x in customers if x["id"] == customer.pk)
    assert Decimal(exposure) == Decimal("1605.00")


@pytest.mark.django_db(transaction=True)
def test_self_approval_is_refused_through_the_api(world):
    c = world["clients"]
    u = world["users"]
    # the manager records an order for a key customer, owned by the assistant
    order = create_order_via_api(c["sales_manager"], world, assistant=u["sales_assistant"])
    assert order["assistant"] == u["sales_assistant"].pk
    transition(c["sales_assistant"], order["id"], "submit")
    body = transition(c["sales_manager"], order["id"], "approve", expect=400, comment="mine")
    assert [x["code"] for x in body["unmet"]] == ["self_approval"]

    factories.user_with_role("sales_manager", "sales_manager2")
    body = transition(token_client("sales_manager2"), order["id"], "approve", comment="four eyes")
    assert body["state"] == "reviewed"
    assert body["approved_by"] == Order.objects.get(pk=order["id"]).approved_by_id != u["sales_manager"].pk


@pytest.mark.django_db(transaction=True)
def test_return_and_cancel_through_the_api(world):
    c = world["clients"]
    order = create_order_via_api(c["sales_assistant"], world)
    transition(c["sales_assistant"], order["id"], "submit")
    body = transition(c["sales_manager"], order["id"], "return", expect=400)
    assert [x["code"] for x in body["unmet"]] == ["comment_required"]
    transition(c["sales_manager"], order["id"], "return", comment="specification of line 2 unclear")
    assert notification_kinds(c["sales_assistant"], order["id"]) == ["order_returned"]
    body = transition(c["sales_manager"], order["id"], "cancel", comment="customer withdrew")
    assert body["state"] == "cancelled"
    transition(c["sales_manager"], order["id"], "cancel", expect=409, comment="again")
    call(c["sales_assistant"], "patch", f"/orders/{order['id']}/", {"contact_name": "X"}, expect=409)
    assert datetime.date.fromisoformat(body["requested_delivery_date"]) > today()
