"""The Django admin of orders, held to the roles (DESIGN §3–§5): scope, hidden fields, transition buttons,
the auditor's read-only view, the history section, no add/delete of orders, and the read-only record admins.

Every request goes through Django's test client as a staff user of one role; orders are built through the
real services (:func:`tests.factories.make_order`). Nothing is mocked.
"""

from __future__ import annotations

import html as html_lib
import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_fsm_log.models import StateLog

from finance.models import Invoice
from orders import imports as order_imports, services
from orders.models import Communication, Escalation, ImportJob, Order, State
from tests import factories
from tests.factories import make_order

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/order/"
UNIT_PRICE = Decimal("123.45")
QUANTITY = Decimal("7")
TOTAL = "864.15"  # 7 × 123.45: distinctive, so its absence from a page means something


# --- helpers ------------------------------------------------------------------------------
def admin_client(user) -> Client:
    """A test client logged in as `user`, made staff so that the admin lets them in."""
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def change_url(order) -> str:
    return f"{ORDERS}{order.pk}/change/"


def transition_url(order, name: str) -> str:
    return f"{ORDERS}{order.pk}/transitions/{name}/"


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    """The admin's message list of a rendered page."""
    block = re.search(r'<ul class="messagelist">(.*?)</ul>', text(response), re.S)
    if not block:
        return []
    return [html_lib.unescape(m).strip() for m in re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)]


def error_messages(response) -> list[str]:
    block = re.search(r'<ul class="messagelist">(.*?)</ul>', text(response), re.S)
    if not block:
        return []
    return [html_lib.unescape(m).strip() for m in re.findall(r'<li class="error">(.*?)</li>', block.group(1), re.S)]


def history_section(html: str) -> str:
    match = re.search(r'<div class="module od-history" id="order-history">(.*?)</div>', html, re.S)
    assert match, "the order page has no history section"
    return match.group(1)


def order_logs(order, name: str | None = None):
    qs = StateLog.objects.filter(content_type=ContentType.objects.get_for_model(Order), object_id=order.pk)
    return qs.filter(transition=name) if name else qs


def priced_order(state=State.RECEIVED, **kwargs) -> Order:
    return make_order(state, quantity=QUANTITY, unit_price=UNIT_PRICE, **kwargs)


@pytest.fixture
def cast(sales_assistant, sales_manager, production_supervisor, production_worker, logistics_specialist,
         finance_manager, finance_specialist):
    return factories.Cast(
        owner=sales_assistant,
        sales_assistant=sales_assistant,
        sales_manager=sales_manager,
        production_supervisor=production_supervisor,
        production_worker=production_worker,
        logistics_specialist=logistics_specialist,
        finance_manager=finance_manager,
        finance_specialist=finance_specialist,
    )


# --- (1) scope ------------------------------------------------------------------------------
def test_assistant_changelist_lists_only_their_own_orders(cast, sales_assistant, sales_assistant2, sales_manager):
    mine = [make_order(cast=cast), make_order(State.REVIEWED, cast=cast)]
    theirs = make_order(cast=factories.Cast(owner=sales_assistant2), assistant=sales_assistant2)

    html = text(admin_client(sales_assistant).get(ORDERS))
    listed = set(re.findall(r"SO-\d{4}-\d{6}", html))
    assert listed == {o.number for o in mine}
    assert theirs.number not in html

    # the other assistant sees theirs only; the manager sees all of them
    assert set(re.findall(r"SO-\d{4}-\d{6}", text(admin_client(sales_assistant2).get(ORDERS)))) == {theirs.number}
    manager_html = text(admin_client(sales_manager).get(ORDERS))
    assert {o.number for o in [*mine, theirs]} <= set(re.findall(r"SO-\d{4}-\d{6}", manager_html))


def test_another_assistants_order_page_is_not_reachable(cast, sales_assistant, sales_assistant2):
    theirs = make_order(cast=factories.Cast(owner=sales_assistant2), assistant=sales_assistant2, submitted=True)
    mine = make_order(cast=cast)
    client = admin_client(sales_assistant)

    response = client.get(change_url(theirs))
    assert response.status_code in (302, 404)
    assert theirs.number not in text(response)
    followed = client.get(change_url(theirs), follow=True)
    assert theirs.number not in text(followed)
    assert theirs.contact_phone not in text(followed)
    # its transition URL is not found either, and nothing happens
    assert client.post(transition_url(theirs, "submit"), {"submit-comment": ""}).status_code == 404
    assert order_logs(theirs).count() == 1  # the owner's own submit only

    own = client.get(change_url(mine))
    assert own.status_code == 200
    assert mine.number in text(own)


def test_production_sees_no_received_orders_and_no_prices(cast, production_supervisor, sales_manager):
    received = priced_order(cast=cast, submitted=True)
    producing = priced_order(State.PRODUCING, cast=cast)
    client = admin_client(production_supervisor)

    listing = client.get(ORDERS)
    assert listing.status_code == 200
    html = text(listing)
    assert producing.number in html
    assert received.number not in html
    assert "column-total_amount" not in html
    assert TOTAL not in html
    assert client.get(ORDERS, {"total_amount__gte": "0"}).status_code == 400  # no filtering by a hidden price

    page = client.get(change_url(producing))
    assert page.status_code == 200
    html = text(page)
    assert producing.number in html
    for secret in (TOTAL, str(UNIT_PRICE), "Unit price", "Total amount", producing.contact_phone,
                   producing.delivery_address):
        assert secret not in html, secret
    # searching by the hidden contact phone finds nothing
    assert producing.number not in text(client.get(ORDERS, {"q": producing.contact_phone}))

    hidden = client.get(change_url(received), follow=True)
    assert received.number not in text(hidden)

    # the same page shows all of it to the sales manager: the values above are really on it
    html = text(admin_client(sales_manager).get(change_url(producing)))
    for shown in (TOTAL, str(UNIT_PRICE), producing.contact_phone):
        assert shown in html, shown
    assert "column-total_amount" in text(admin_client(sales_manager).get(ORDERS))


def test_logistics_sees_contact_but_no_prices(cast, logistics_specialist, logistics_supervisor):
    shipped = priced_order(State.SHIPPED, cast=cast)
    for user in (logistics_specialist, logistics_supervisor):
        client = admin_client(user)
        listing = text(client.get(ORDERS))
        assert shipped.number in listing
        assert "column-total_amount" not in listing and TOTAL not in listing
        page = client.get(change_url(shipped))
        assert page.status_code == 200
        html = text(page)
        assert shipped.contact_phone in html  # logistics sees delivery contact (DESIGN §5)
        for secret in (TOTAL, str(UNIT_PRICE), "Unit price", "Total amount"):
            assert secret not in html, secret


@pytest.mark.parametrize("url", ["/admin/finance/invoice/", "/admin/finance/payment/"])
def test_finance_admin_forbidden_to_production_and_logistics(cast, all_role_users, url):
    order = make_order(State.ACCEPTED, cast=cast)
    invoice = factories.invoice_and_pay(order, cast, pay=False)
    for role in ("production_supervisor", "production_worker", "logistics_supervisor", "logistics_specialist"):
        client = admin_client(all_role_users[role])
        assert client.get(url).status_code == 403, role
    assert admin_client(all_role_users["production_supervisor"]).get(
        f"/admin/finance/invoice/{invoice.pk}/change/").status_code == 403
    for role in ("finance_manager", "finance_specialist"):
        assert admin_client(all_role_users[role]).get(url).status_code == 200, role
    page = admin_client(all_role_users["finance_manager"]).get("/admin/finance/invoice/")
    assert order.number in text(page)
    assert Invoice.objects.filter(order=order).count() == 1


# --- (2) transition buttons ---------------------------------------------------------------------
def test_manager_sees_approve_button_and_the_assistant_does_not(cast, sales_manager, sales_assistant):
    order = make_order(cast=cast, submitted=True)
    html = text(admin_client(sales_manager).get(change_url(order)))
    assert f'action="{transition_url(order, "approve")}"' in html
    assert 'name="approve-comment"' in html
    assert transition_url(order, "return") in html

    assistant_html = text(admin_client(sales_assistant).get(change_url(order)))
    assert order.number in assistant_html
    assert transition_url(order, "approve") not in assistant_html
    assert transition_url(order, "return") not in assistant_html


def test_posting_approve_runs_the_transition(cast, sales_manager):
    order = make_order(cast=cast, submitted=True)
    client = admin_client(sales_manager)
    response = client.post(transition_url(order, "approve"), {"approve-comment": "looks fine, approved"})
    assert response.status_code == 302
    assert response.url == change_url(order)

    order.refresh_from_db()
    assert order.state == State.REVIEWED
    assert order.approved_by == sales_manager
    log = order_logs(order, "approve").get()
    assert log.by == sales_manager
    assert log.description == "looks fine, approved"
    assert (log.source_state, log.state) == (State.RECEIVED, State.REVIEWED)

    page = client.get(change_url(order))
    assert any("done" in m and order.number in m for m in messages_of(page))
    assert "looks fine, approved" in history_section(text(page))
    # a reviewed order offers no approve button any more
    assert transition_url(order, "approve") not in text(page)


def test_assistant_posting_approve_is_refused(cast, sales_assistant):
    order = make_order(cast=cast, submitted=True)
    response = admin_client(sales_assistant).post(transition_url(order, "approve"), {"approve-comment": "mine"},
                                                  follow=True)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.state == State.RECEIVED
    assert order.approved_by is None
    assert not order_logs(order, "approve").exists()
    errors = error_messages(response)
    assert any("may not" in m and "Approve" in m for m in errors), errors
    assert not any("done" in m for m in messages_of(response))


def test_wrong_state_post_gives_an_error_and_changes_nothing(cast, sales_manager):
    order = make_order(State.REVIEWED, cast=cast)
    before = order_logs(order).count()
    response = admin_client(sales_manager).post(transition_url(order, "approve"), {"approve-comment": "again"},
                                                follow=True)
    order.refresh_from_db()
    assert order.state == State.REVIEWED
    assert order_logs(order).count() == before
    errors = error_messages(response)
    assert any("not allowed while the order is" in m for m in errors), errors


def test_unmet_conditions_list_each_message(cast, sales_manager):
    customer = factories.CustomerFactory(credit_limit=Decimal("1.00"))
    order = make_order(cast=cast, customer=customer)  # not submitted, and beyond the credit limit
    response = admin_client(sales_manager).post(transition_url(order, "approve"), {"approve-comment": ""},
                                                follow=True)
    order.refresh_from_db()
    assert order.state == State.RECEIVED
    assert not order_logs(order, "approve").exists()
    errors = error_messages(response)
    assert any("has not submitted the order" in m for m in errors), errors
    assert any("exceeds the credit limit" in m for m in errors), errors

    # once submitted and overridden with a reason, the same button approves
    factories.run(order, "submit", cast.owner)
    admin_client(sales_manager).post(
        transition_url(order, "approve"), {"approve-comment": "prepaid 30 %", "approve-override_credit": "on"}
    )
    order.refresh_from_db()
    assert order.state == State.REVIEWED
    assert order.credit_override_reason == "prepaid 30 %"


def test_get_on_a_transition_url_changes_nothing(cast, sales_manager):
    order = make_order(cast=cast, submitted=True)
    before = order_logs(order).count()
    response = admin_client(sales_manager).get(transition_url(order, "approve"), {"approve-comment": "via GET"})
    assert response.status_code == 405
    order.refresh_from_db()
    assert order.state == State.RECEIVED
    assert order_logs(order).count() == before


def test_unknown_transition_name_changes_nothing(cast, sales_manager):
    order = make_order(cast=cast, submitted=True)
    response = admin_client(sales_manager).post(transition_url(order, "teleport"), {}, follow=True)
    order.refresh_from_db()
    assert order.state == State.RECEIVED
    assert error_messages(response)


# --- (3) the auditor ------------------------------------------------------------------------------
def test_auditor_views_the_order_but_changes_nothing(cast, auditor, sales_manager):
    order = make_order(cast=cast, submitted=True)
    client = admin_client(auditor)

    page = client.get(change_url(order))
    assert page.status_code == 200
    html = text(page)
    assert order.number in html
    assert "/transitions/" not in html
    assert 'name="_save"' not in html
    assert 'name="contact_phone"' not in html  # no editable field
    # the manager's page of the same order does have buttons and a save button
    manager_html = text(admin_client(sales_manager).get(change_url(order)))
    assert "/transitions/" in manager_html and 'name="_save"' in manager_html

    response = client.post(transition_url(order, "approve"), {"approve-comment": "audit"}, follow=True)
    order.refresh_from_db()
    assert order.state == State.RECEIVED
    assert not order_logs(order, "approve").exists()
    assert any("may not" in m for m in error_messages(response))

    phone = order.contact_phone
    assert client.post(change_url(order), {"contact_phone": "000", "_save": "Save"}).status_code == 403
    order.refresh_from_db()
    assert order.contact_phone == phone
    assert not order.changes.exists()


# --- (4) history ---------------------------------------------------------------------------------
def test_history_section_shows_transitions_and_field_changes(cast, sales_assistant, sales_manager,
                                                             production_supervisor):
    order = make_order(cast=cast)
    old_phone = order.contact_phone
    services.update_order(user=sales_assistant, order_id=order.pk, data={"contact_phone": "021-99998888"})
    factories.run(order, "submit", sales_assistant, comment="ready for review")
    factories.run(order, "approve", sales_manager, comment="approved by manager")

    history = history_section(text(admin_client(sales_manager).get(change_url(order))))
    assert history.count('class="od-transition-row"') == order_logs(order).count() == 2
    assert "ready for review" in history and "approved by manager" in history
    assert "Submit for review" in history and "Approve" in history
    assert "Received → Reviewed" in history or "received → reviewed" in history.lower()
    assert history.count('class="od-change-row"') == order.changes.count() >= 1
    assert "contact phone" in history.lower()
    assert old_phone in history and "021-99998888" in history

    # production sees the reviewed order's history, with the contact values masked and the review
    # comments (internal, DESIGN §5) left out, as on the order page
    prod_history = history_section(text(admin_client(production_supervisor).get(change_url(order))))
    assert prod_history.count('class="od-transition-row"') == 2
    assert "approved by manager" not in prod_history and "ready for review" not in prod_history
    assert "021-99998888" not in prod_history and old_phone not in prod_history
    assert "(hidden)" in prod_history


def test_history_section_is_empty_for_a_new_order(cast, sales_manager):
    order = make_order(cast=cast)
    history = history_section(text(admin_client(sales_manager).get(change_url(order))))
    assert 'class="od-transition-row"' not in history
    assert "No transitions yet." in history
    assert "No field changes." in history


# --- (5) no add, no delete --------------------------------------------------------------------
def test_nobody_deletes_an_order(cast, superuser, sales_manager, sales_assistant, auditor):
    order = make_order(cast=cast)
    for user in (superuser, sales_manager, sales_assistant, auditor):
        client = admin_client(user)
        assert client.get(f"{ORDERS}{order.pk}/delete/").status_code == 403, user.username
        assert client.post(f"{ORDERS}{order.pk}/delete/", {"post": "yes"}).status_code == 403, user.username
        # nor through the changelist's bulk delete action
        client.post(ORDERS, {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"})
        assert Order.objects.filter(pk=order.pk).exists(), user.username
    # the superuser does reach the order itself
    assert admin_client(superuser).get(change_url(order)).status_code == 200


def test_nobody_adds_an_order_in_the_admin(cast, superuser, sales_manager, sales_assistant):
    count = Order.objects.count()
    for user in (superuser, sales_manager, sales_assistant):
        client = admin_client(user)
        assert client.get(f"{ORDERS}add/").status_code == 403, user.username
        assert client.post(f"{ORDERS}add/", {"contact_name": "x"}).status_code == 403, user.username
    assert Order.objects.count() == count
    # the superuser may add master data: the 403 above is about orders, not about the admin
    assert admin_client(superuser).get("/admin/orders/customer/add/").status_code == 200


# --- (6) the read-only record admins --------------------------------------------------------------
@pytest.fixture
def records(cast, sales_assistant, sales_manager):
    order = make_order(cast=cast)
    communication = services.log_communication(
        user=sales_assistant, order_id=order.pk, channel="call", with_whom="Mr. Buyer", summary="agreed on colour"
    )
    escalation = services.raise_escalation(user=sales_assistant, order_id=order.pk, reason="customer unreachable")
    upload = SimpleUploadedFile("orders.csv", b"order_ref,customer\n", content_type="text/csv")
    job = order_imports.create_import_job(user=sales_manager, upload=upload)
    return {"order": order, "communication": communication, "escalation": escalation, "job": job}


READ_ONLY_ADMINS = [
    ("communication", Communication, "communication", "agreed on colour"),
    ("escalation", Escalation, "escalation", "customer unreachable"),
    ("importjob", ImportJob, "job", "orders.csv"),
]


@pytest.mark.parametrize(("model_name", "model", "key", "secret"), READ_ONLY_ADMINS)
def test_record_admins_visible_to_sales_manager_forbidden_to_production(
    records, sales_manager, production_supervisor, model_name, model, key, secret
):
    obj = records[key]
    base = f"/admin/orders/{model_name}/"
    manager = admin_client(sales_manager)
    listing = manager.get(base)
    assert listing.status_code == 200
    assert f"{base}{obj.pk}/change/" in text(listing)
    assert manager.get(f"{base}{obj.pk}/change/").status_code == 200

    production = admin_client(production_supervisor)
    assert production.get(base).status_code == 403
    detail = production.get(f"{base}{obj.pk}/change/")
    assert detail.status_code == 403
    assert secret not in text(detail)
    assert secret in text(manager.get(f"{base}{obj.pk}/change/"))


@pytest.mark.parametrize(("model_name", "model", "key", "secret"), READ_ONLY_ADMINS)
def test_record_admins_are_read_only_even_for_the_sales_manager(records, sales_manager, superuser, model_name,
                                                                model, key, secret):
    obj = records[key]
    base = f"/admin/orders/{model_name}/"
    count = model.objects.count()
    for user in (sales_manager, superuser):
        client = admin_client(user)
        assert client.get(f"{base}add/").status_code == 403
        assert client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
        page = text(client.get(f"{base}{obj.pk}/change/"))
        assert 'name="_save"' not in page
        assert client.post(f"{base}{obj.pk}/change/", {}).status_code == 403
    assert model.objects.count() == count
