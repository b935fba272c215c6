"""One test walks every surface for every role: no hidden value appears anywhere (R5.2, DESIGN §5).

Distinctive values are planted in every field of every class (price, credit, contact, internal); an
order is walked through the real services to `settled`, so every record exists (clarification,
communication, escalation, sign-offs, review comments, credit override, plan, shipment, receipt,
invoice, payment, sampled check). Then every role fetches every surface: API list, detail,
history, sign-offs, clarifications, audit, customers, products, finance, checks, the OpenAPI schema;
the pages (list, detail, dashboard, review and supervision pages, notifications); CSV and XLSX
exports (the XLSX unzipped and its XML searched); the admin's changelist, change and history page
of every registered model; the staff notifications and outbox e-mails. No planted value of a class
hidden from the role may appear in the bytes; a role that sees a class must see its values
somewhere, so the test cannot pass by showing nothing.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from orderdesk.roles import FIELD_CLASSES, RECORD, ROLES, FieldClass, hidden_classes, hidden_fields
from orders import services
from orders.models import Order, State
from tests import factories
from tests.conftest import api_client_for_user

pytestmark = pytest.mark.django_db

PRICE, CREDIT, CONTACT, INTERNAL = FieldClass.PRICE, FieldClass.CREDIT, FieldClass.CONTACT, FieldClass.INTERNAL

UNIT_PRICE = Decimal("7391.55")  # quantity 1: also the line total, the order total, the invoice, the payment
STANDARD_PRICE = Decimal("4817.23")
LOSS = Decimal("5529.81")
CREDIT_LIMIT = Decimal("3846.17")  # below the total: the approval must override the credit limit

#: planted value → its class; each string is searched for in the bytes of every surface
PLANTED: dict[str, str] = {
    "7391.55": PRICE, "7,391.55": PRICE, "4817.23": PRICE, "4,817.23": PRICE, "5529.81": PRICE,
    "5,529.81": PRICE,
    "3846.17": CREDIT, "3,846.17": CREDIT, "CREDIT-OVERRIDE-5521": CREDIT,
    "CONTACT-NAME-3317": CONTACT, "CONTACT-PHONE-8842": CONTACT, "CONTACT-ADDR-2290": CONTACT,
    "CONTACT-CUSTNAME-1187": CONTACT, "CONTACT-CUSTPHONE-6630": CONTACT, "contact-mail-6619": CONTACT,
    "CONTACT-CUSTADDR-4471": CONTACT, "CONTACT-SIGNER-7720": CONTACT, "CONTACT-EDITPHONE-5093": CONTACT,
    "INTERNAL-SUBMIT-1101": INTERNAL, "INTERNAL-RETURN-1102": INTERNAL, "INTERNAL-SIGNOFF-1105": INTERNAL,
    "INTERNAL-ESCALATION-1106": INTERNAL, "INTERNAL-ESCRES-1107": INTERNAL, "INTERNAL-CLARIFY-1108": INTERNAL,
    "INTERNAL-CLARRES-1109": INTERNAL, "INTERNAL-COMM-1110": INTERNAL, "INTERNAL-COMMWHO-1112": INTERNAL,
    "INTERNAL-CHECK-1111": INTERNAL, "INTERNAL-CANCEL-1113": INTERNAL,
}

#: searched for as filter / search input: a hidden field may not be searched on
SEARCHES = {"CONTACT-PHONE-8842": CONTACT, "CONTACT-NAME-3317": CONTACT, "CONTACT-ADDR-2290": CONTACT,
            "contact-mail-6619": CONTACT, "INTERNAL-COMM-1110": INTERNAL, "CREDIT-OVERRIDE-5521": CREDIT}


@pytest.fixture
def world(all_role_users, settings):
    """An order walked to `settled` through the services, a value planted in every hidden field."""
    settings.JOINT_REVIEW_THRESHOLD = Decimal("1000.00")  # the order needs the joint review's sign-offs
    users = all_role_users
    for user in users.values():
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    cast = factories.Cast(**{r: users[r] for r in ROLES}, owner=users["sales_assistant"])
    customer = factories.CustomerFactory(
        contact_name="CONTACT-CUSTNAME-1187", contact_phone="CONTACT-CUSTPHONE-6630",
        email="contact-mail-6619@customer.example.com", address="CONTACT-CUSTADDR-4471", credit_limit=CREDIT_LIMIT,
    )
    product = factories.ProductFactory(standard_price=STANDARD_PRICE)
    owner, manager = users["sales_assistant"], users["sales_manager"]
    payload = factories.order_payload(
        customer=customer,
        lines=[{"product": product, "specification": "spec", "quantity": Decimal("1"), "unit_price": UNIT_PRICE}],
    )
    payload.update(contact_name="CONTACT-NAME-3317", contact_phone="CONTACT-PHONE-0000",
                   delivery_address="CONTACT-ADDR-2290")
    order = services.create_order(user=owner, **payload)
    services.update_order(user=owner, order_id=order.pk, data={"contact_phone": "CONTACT-PHONE-8842"})
    services.update_order(user=owner, order_id=order.pk, data={"contact_phone": "CONTACT-EDITPHONE-5093"})
    services.update_order(user=owner, order_id=order.pk, data={"contact_phone": "CONTACT-PHONE-8842"})
    clarification = services.open_clarification(user=owner, order_id=order.pk, question="INTERNAL-CLARIFY-1108")
    services.resolve_clarification(user=owner, clarification_id=clarification.pk, resolution="INTERNAL-CLARRES-1109")
    services.log_communication(user=owner, order_id=order.pk, channel="call", with_whom="INTERNAL-COMMWHO-1112",
                               summary="INTERNAL-COMM-1110")
    escalation = services.raise_escalation(user=owner, order_id=order.pk, reason="INTERNAL-ESCALATION-1106")
    services.resolve_escalation(user=manager, escalation_id=escalation.pk, resolution="INTERNAL-ESCRES-1107")
    factories.run(order, "submit", owner, comment="INTERNAL-SUBMIT-1101")
    factories.run(order, "return", manager, comment="INTERNAL-RETURN-1102")
    factories.run(order, "submit", owner, comment="INTERNAL-SUBMIT-1101 again")
    services.record_signoff(user=users["finance_manager"], order_id=order.pk, decision="approve",
                            comment="INTERNAL-SIGNOFF-1105")
    services.record_signoff(user=users["production_supervisor"], order_id=order.pk, decision="approve",
                            comment="INTERNAL-SIGNOFF-1105 production")
    factories.run(order, "approve", manager, comment="CREDIT-OVERRIDE-5521", override_credit="true")
    factories.plan_order(order, cast)
    factories.run(order, "schedule", users["production_supervisor"])
    factories.make_ready(order, cast)
    factories.run(order, "start_production", users["production_supervisor"])
    factories.complete_production(order, cast)
    factories.record_shipment(order, cast)
    factories.run(order, "ship", users["logistics_specialist"])
    factories.run(order, "accept", owner, **factories.receipt_data(signed_by="CONTACT-SIGNER-7720"))
    factories.invoice_and_pay(Order.objects.get(pk=order.pk), cast)
    factories.run(order, "settle", users["finance_specialist"])

    # a second order, cancelled after review (its cancel comment is internal)
    other = factories.make_order(State.REVIEWED, cast=cast, customer=customer,
                                 lines=[{"product": product, "specification": "s", "quantity": Decimal("1"),
                                         "unit_price": Decimal("10.00")}])
    factories.run(other, "cancel", manager, comment="INTERNAL-CANCEL-1113")

    # a third order waiting for the joint review's sign-offs (the sign-off queue and review page)
    waiting = services.create_order(user=owner, **{**payload, "contact_phone": "CONTACT-PHONE-8842"})
    factories.run(waiting, "submit", owner, comment="INTERNAL-SUBMIT-1101 waiting")
    services.record_signoff(user=users["finance_manager"], order_id=waiting.pk, decision="approve",
                            comment="INTERNAL-SIGNOFF-1105 waiting")

    from supervision import services as supervision

    today = timezone.localdate()
    check = supervision.create_periodic_check(user=manager, assistant_id=owner.pk,
                                              period_start=today - datetime.timedelta(days=1), period_end=today,
                                              sample_size=5, seed=7)
    item = check.items.get(order=order)
    supervision.record_check_outcome(user=manager, item_id=item.pk, outcome="error",
                                     error_description="INTERNAL-CHECK-1111", loss_amount=LOSS)
    order = Order.objects.get(pk=order.pk)
    assert order.state == State.SETTLED and order.total_amount == UNIT_PRICE
    assert order.credit_override_reason == "CREDIT-OVERRIDE-5521"
    assert order.receipt_signed_by == "CONTACT-SIGNER-7720"
    return {"users": users, "order": order, "other": other, "waiting": waiting, "check": check,
            "customer": customer, "product": product}


# --- fetching ---------------------------------------------------------------------------------------
def _body(response) -> str:
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    if raw[:2] == b"PK":  # an XLSX workbook: search its XML
        with zipfile.ZipFile(io.BytesIO(raw)) as book:
            raw = b"".join(book.read(name) for name in book.namelist())
    text = raw.decode("utf-8", errors="replace")
    if response.get("Content-Type", "").startswith("application/json"):
        # JSON may escape characters: search the decoded values too
        try:
            text += json.dumps(json.loads(raw), ensure_ascii=False)
        except ValueError:
            pass
    return text


def _page_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _url(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def api_surfaces(world, user) -> dict[str, str]:
    order, customer, product = world["order"], world["customer"], world["product"]
    client = api_client_for_user(user)
    paths = [
        "/api/v1/orders/", f"/api/v1/orders/{order.pk}/", f"/api/v1/orders/{order.pk}/history/",
        f"/api/v1/orders/{world['other'].pk}/history/", f"/api/v1/orders/{world['waiting'].pk}/",
        f"/api/v1/orders/{world['waiting'].pk}/history/", f"/api/v1/orders/{world['waiting'].pk}/signoffs/",
        f"/api/v1/orders/{order.pk}/signoffs/", f"/api/v1/orders/{order.pk}/clarifications/",
        f"/api/v1/orders/{order.pk}/transitions/", "/api/v1/audit/", "/api/v1/customers/",
        f"/api/v1/customers/{customer.pk}/", "/api/v1/products/", f"/api/v1/products/{product.pk}/",
        "/api/v1/finance/invoices/", "/api/v1/finance/payments/", "/api/v1/supervision/checks/",
        f"/api/v1/supervision/checks/{world['check'].pk}/", "/api/v1/notifications/", "/api/v1/kpis/",
        "/api/v1/production/plans/", "/api/v1/production/progress/", "/api/v1/logistics/shipments/",
        "/api/v1/feedback/complaints/", "/api/v1/feedback/surveys/",
    ]
    return {path: _body(client.get(path, HTTP_ACCEPT_LANGUAGE="en")) for path in paths}


def page_surfaces(world, user) -> dict[str, str]:
    order = world["order"]
    client = _page_client(user)
    paths = [
        "/", "/orders/", f"/orders/{order.pk}/", f"/orders/{world['other'].pk}/", "/orders/?export=csv",
        "/orders/?export=xlsx", "/notifications/",
        f"/orders/{world['waiting'].pk}/", _url("supervision:review_detail", world["waiting"].pk),
        _url("supervision:review_queue"), _url("supervision:review_detail", order.pk),
        _url("supervision:signoff_queue"), _url("supervision:team"), _url("supervision:kpis"),
        _url("supervision:kpi_export"), _url("supervision:audit"), _url("supervision:audit") + "?format=csv",
        _url("supervision:complaints"), _url("supervision:checks"),
        _url("supervision:check_detail", world["check"].pk),
        # the logistics workspace and its exports (issue 10)
        *[_url("logistics:workspace") + f"?list={name}" for name in ("ready_to_ship", "partly_shipped",
                                                                     "in_transit", "delivered")],
        *[_url("logistics:export", name) for name in ("ready_to_ship", "partly_shipped", "in_transit",
                                                      "delivered")],
    ]
    return {path: _body(client.get(path)) for path in paths if path}


def admin_surfaces(world, user) -> dict[str, str]:
    client = _page_client(user)
    bodies = {}
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        bodies[changelist] = _body(client.get(changelist))
        for obj in model_admin.model._default_manager.all()[:20]:
            for view in ("change", "history"):
                url = reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[obj.pk])
                bodies[url] = _body(client.get(url))
    return bodies


def notification_surfaces(world, user) -> dict[str, str]:
    from notifications.models import EmailOutbox, Notification

    bodies = {f"notification:{n.pk}": n.message for n in Notification.objects.filter(user=user)}
    bodies |= {
        f"email:{m.pk}": f"{m.subject}\n{m.body}"
        for m in EmailOutbox.objects.filter(user=user) | EmailOutbox.objects.filter(recipient=user.email)
    }
    return bodies


def _leaks(bodies: dict[str, str], hidden: frozenset[str]) -> list[str]:
    return [
        f"{value!r} ({cls}) in {where}"
        for where, body in bodies.items()
        for value, cls in PLANTED.items()
        if cls in hidden and value in body
    ]


def _seen(bodies: dict[str, str]) -> set[str]:
    return {cls for body in bodies.values() for value, cls in PLANTED.items() if value in body}


ROLE_NAMES = [*ROLES, "superuser"]


def _check(world, collect, *, expect_seen: frozenset[str] = FieldClass.ALL):
    """No hidden value on the surfaces for any role; each role sees the classes it may (of ``expect_seen``)."""
    leaks, missing = [], []
    for role in ROLE_NAMES:
        user = world["users"][role]
        hidden = hidden_classes(user)
        bodies = collect(world, user)
        leaks += [f"{role}: {leak}" for leak in _leaks(bodies, hidden)]
        shown = _seen(bodies)
        missing += [f"{role}: sees no {cls} value" for cls in (expect_seen - hidden) if cls not in shown]
    assert not leaks, "\n".join(leaks)
    assert not missing, "\n".join(missing)


# --- the surfaces ------------------------------------------------------------------------------------
def test_api_shows_no_hidden_value(world):
    _check(world, api_surfaces)


def test_pages_and_exports_show_no_hidden_value(world):
    _check(world, page_surfaces)


def test_admin_shows_no_hidden_value(world):
    _check(world, admin_surfaces)


def test_staff_notifications_and_emails_show_no_hidden_value(world):
    # staff messages carry few classed values (so no class is expected of every role) ...
    _check(world, notification_surfaces, expect_seen=frozenset())
    from notifications.models import Notification

    # ... but the search is not over nothing: production was told, and the managers' escalation
    # message carries its (internal) reason, which the search finds
    assert Notification.objects.filter(user=world["users"]["production_supervisor"]).exists()
    manager = notification_surfaces(world, world["users"]["sales_manager"])
    assert any("INTERNAL-ESCALATION-1106" in body for body in manager.values())


def test_schema_marks_no_role_hidden_field_required(world):
    """A field hidden from some role is never required in the response components (DESIGN §5)."""
    body = api_client_for_user(world["users"]["production_worker"]).get("/api/v1/schema/?format=json")
    schema = json.loads(body.content)
    components = schema["components"]["schemas"]
    classed = {name for table in FIELD_CLASSES.values() for name in table if name != RECORD}
    offenders = [
        f"{component}.{name}"
        for component in ("Order", "OrderDetail", "OrderLine", "Customer", "Product", "Signoff", "Invoice",
                          "Payment")
        if component in components
        for name in components[component].get("required", [])
        if name in classed
    ]
    assert not offenders, offenders
    assert "Order" in components and "total_amount" in components["Order"]["properties"]


def test_hidden_fields_cannot_be_searched_or_sorted_on(world):
    """Searching or sorting on a hidden field tells nothing: the answer is the same as for noise."""
    order = world["order"]
    problems = []
    for role in ROLE_NAMES:
        user = world["users"][role]
        hidden = hidden_classes(user)
        api, pages, admin_client = api_client_for_user(user), _page_client(user), _page_client(user)
        for value, cls in SEARCHES.items():
            if cls not in hidden:
                continue
            api_hits = api.get("/api/v1/orders/", {"search": value}).json().get("count")
            page_hits = str(order.number) in pages.get("/orders/", {"q": value}).content.decode()
            admin_hits = order.number in admin_client.get(
                reverse("admin:orders_order_changelist"), {"q": value}).content.decode()
            if api_hits or page_hits or admin_hits:
                problems.append(f"{role}: search by {cls} value {value} finds the order")
        if PRICE in hidden:
            response = api.get("/api/v1/orders/", {"ordering": "total_amount"})
            if response.status_code == 200 and "total_amount" in response.content.decode():
                problems.append(f"{role}: ordering by total_amount shows amounts")
            response = admin_client.get(reverse("admin:orders_order_changelist"), {"o": "total_amount"})
            if "7391.55" in response.content.decode() or "7,391.55" in response.content.decode():
                problems.append(f"{role}: admin ordering by total shows amounts")
            response = admin_client.get(reverse("admin:orders_order_changelist"), {"total_amount__gte": "7000"})
            if response.status_code == 200 and order.number in response.content.decode():
                problems.append(f"{role}: admin filter on total_amount finds the order")
    assert not problems, "\n".join(problems)


def test_the_table_covers_every_class_and_a_role_sees_what_it_may():
    classes = {cls for table in FIELD_CLASSES.values() for cls in table.values()}
    assert classes == set(FieldClass.ALL)
    assert set(PLANTED.values()) == set(FieldClass.ALL)


def test_hidden_fields_follow_the_roles(all_role_users):
    users = all_role_users
    assert hidden_fields(users["sales_assistant"], Order) == frozenset()
    assert hidden_fields(users["auditor"], "orders.Order") == frozenset()
    logistics = hidden_fields(users["logistics_specialist"], Order)
    assert "delivery_address" not in logistics and "receipt_signed_by" not in logistics
    assert {"total_amount", "credit_override_reason", "transition.approve"} <= logistics
    production = hidden_fields(users["production_worker"], Order)
    assert {"contact_phone", "receipt_signed_by", "receipt_scan", "history.lines", "transition.submit"} <= production
    assert "lines" not in production  # the order's lines show, without their prices
    assert "receipt_reference" not in production and "special_terms" not in production
    assert RECORD in hidden_fields(users["production_supervisor"], "orders.Escalation")
    assert "question" in hidden_fields(users["production_supervisor"], "orders.Clarification")
    assert RECORD in hidden_fields(users["logistics_supervisor"], "finance.Invoice")
    assert RECORD not in hidden_fields(users["finance_specialist"], "finance.Invoice")


def test_history_values_follow_the_table(all_role_users):
    """The one helper every trail surface (API history, timeline, admin, audit API/page/CSV) reads."""
    from orderdesk.roles import history_values_for, transition_comment_for

    users = all_role_users
    logistics, production, auditor = users["logistics_specialist"], users["production_worker"], users["auditor"]
    # review comments are internal; other transitions' comments are not classed
    for name in ("submit", "return", "approve", "cancel"):
        assert transition_comment_for(logistics, name, "why") == ""
        assert transition_comment_for(auditor, name, "why") == "why"
    assert transition_comment_for(logistics, "ship", "by truck") == "by truck"
    assert transition_comment_for(production, "schedule", "late steel") == "late steel"
    # field changes: contact for logistics, not for production; prices for neither
    row = ("change", "contact_phone", "1", "2", "")
    assert history_values_for(logistics, *row) == ("1", "2", "")
    assert history_values_for(production, *row) == ("", "", "")
    assert history_values_for(logistics, "change", "lines", "a @ 5", "a @ 6", "") == ("", "", "")
    assert history_values_for(auditor, "change", "lines", "a @ 5", "a @ 6", "") == ("a @ 5", "a @ 6", "")
    assert history_values_for(production, "change", "special_terms", "x", "y", "") == ("x", "y", "")
    assert history_values_for(production, "transition", "approve", "received", "reviewed", "c") == (
        "received", "reviewed", "")


def test_api_orders_by_amount_only_for_roles_that_see_prices(all_role_users):
    cheap = factories.make_order(lines=None, unit_price=Decimal("1.00"))
    dear = factories.make_order(lines=None, unit_price=Decimal("900.00"))
    manager = api_client_for_user(all_role_users["sales_manager"])
    response = manager.get("/api/v1/orders/", {"ordering": "-total_amount"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [dear.pk, cheap.pk]
    response = manager.get("/api/v1/orders/", {"ordering": "total_amount"})
    assert [row["id"] for row in response.json()["results"]] == [cheap.pk, dear.pk]
    for role in ("production_supervisor", "logistics_specialist"):
        response = api_client_for_user(all_role_users[role]).get("/api/v1/orders/", {"ordering": "total_amount"})
        assert response.status_code == 400, role
        assert response.json()["code"] == "invalid"
        assert list(response.json()["errors"]) == ["ordering"]
