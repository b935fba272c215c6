"""The order page's desk (R4.2, R5.1): the assistant's check, communications, clarifications, escalations,
editing while received, and the merged timeline. Bad input: a clear error, never a 500, nothing written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import Notification
from orders.models import Clarification, Communication, Escalation, Order, OrderChange, State
from tests import factories

pytestmark = pytest.mark.django_db


def client_for(client, user):
    client.force_login(user)
    return client


def detail(order):
    return reverse("orders:detail", args=[order.pk])


# --- the assistant's check ---------------------------------------------------------------------
def test_checklist_shows_each_submit_condition_and_an_open_clarification_blocks(client, sales_assistant):
    order = factories.make_order(requested_delivery_date=factories.days(3))  # before the lead time
    client_for(client, sales_assistant)
    html = client.get(detail(order)).content.decode()
    assert 'id="checklist"' in html
    assert 'data-code="delivery_date_unreasonable" data-ok="0"' in html
    assert 'data-code="open_clarification" data-ok="1"' in html
    assert 'data-code="elements_missing" data-ok="1"' in html
    response = client.post(reverse("orders:clarification_add", args=[order.pk]), {"question": "Which colour?"})
    assert response.status_code == 302
    html = client.get(detail(order)).content.decode()
    assert 'data-code="open_clarification" data-ok="0"' in html
    clar = Clarification.objects.get(order=order)
    # submit is refused while it is open (redirect-after-post: the order page shows why, once)
    response = client.post(reverse("orders:transition", args=[order.pk, "submit"]))
    assert response.status_code == 303 and response["Location"] == detail(order)
    assert 'id="transition-failure"' in client.get(detail(order)).content.decode()
    response = client.post(reverse("orders:clarification_resolve", args=[order.pk, clar.pk]), {"resolution": "Blue"})
    assert response.status_code == 302
    clar.refresh_from_db()
    assert clar.resolution == "Blue" and clar.resolved_at is not None


def test_checklist_hidden_once_submitted(client, sales_assistant):
    order = factories.make_order(submitted=True)
    client_for(client, sales_assistant)
    assert 'id="checklist"' not in client.get(detail(order)).content.decode()


def test_clarification_bad_input_and_scope(client, sales_assistant, sales_assistant2):
    order = factories.make_order()
    client_for(client, sales_assistant)
    response = client.post(reverse("orders:clarification_add", args=[order.pk]), {"question": "  "})
    assert response.status_code == 400
    assert Clarification.objects.count() == 0
    clar = Clarification.objects.create(order=order, question="q", raised_by=sales_assistant)
    other = factories.make_order(assistant=sales_assistant2)
    # a clarification of another order through this order's URL: 404
    response = client.post(reverse("orders:clarification_resolve", args=[other.pk, clar.pk]), {"resolution": "x"})
    assert response.status_code == 404
    response = client.post(reverse("orders:clarification_resolve", args=[order.pk, clar.pk]), {"resolution": ""})
    assert response.status_code == 400
    client.force_login(sales_assistant2)
    response = client.post(reverse("orders:clarification_resolve", args=[order.pk, clar.pk]), {"resolution": "x"})
    assert response.status_code == 404
    response = client.post(reverse("orders:clarification_add", args=[order.pk]), {"question": "x"})
    assert response.status_code == 404
    clar.refresh_from_db()
    assert clar.resolved_at is None and Clarification.objects.count() == 1


# --- communications ----------------------------------------------------------------------------
def test_communication_is_logged_and_shows_in_the_timeline(client, sales_assistant):
    order = factories.make_order()
    client_for(client, sales_assistant)
    response = client.post(reverse("orders:communication_add", args=[order.pk]), {
        "channel": "call", "at": "2026-01-05T10:30", "with_whom": "Mr. Wang", "summary": "Agreed on blue paint",
    })
    assert response.status_code == 302
    comm = Communication.objects.get()
    assert (comm.channel, comm.with_whom, comm.recorded_by) == ("call", "Mr. Wang", sales_assistant)
    html = client.get(detail(order)).content.decode()
    assert "Agreed on blue paint" in html and "communication-entry" in html


@pytest.mark.parametrize("data", [
    {},
    {"channel": "fax", "at": "2026-01-05T10:30", "with_whom": "a", "summary": "b"},
    {"channel": "call", "at": "not a date", "with_whom": "a", "summary": "b"},
    {"channel": "call", "at": "2026-01-05T10:30", "with_whom": "", "summary": "b"},
    {"channel": "call", "at": "2999-01-05T10:30", "with_whom": "a", "summary": "b"},
])
def test_communication_bad_input_writes_nothing(client, sales_assistant, data):
    order = factories.make_order()
    client_for(client, sales_assistant)
    response = client.post(reverse("orders:communication_add", args=[order.pk]), data)
    assert response.status_code == 400
    assert Communication.objects.count() == 0


def test_communication_scope_and_roles(client, sales_assistant2, auditor, production_supervisor):
    order = factories.make_order()
    data = {"channel": "call", "at": "2026-01-05T10:30", "with_whom": "a", "summary": "b"}
    client_for(client, sales_assistant2)
    assert client.post(reverse("orders:communication_add", args=[order.pk]), data).status_code == 404
    assert client.post(reverse("orders:communication_add", args=[999999]), data).status_code == 404
    client.force_login(auditor)
    assert client.post(reverse("orders:communication_add", args=[order.pk]), data).status_code == 403
    assert 'id="communication-form"' not in client.get(detail(order)).content.decode()
    client.force_login(production_supervisor)
    assert client.post(reverse("orders:communication_add", args=[order.pk]), data).status_code == 404
    assert Communication.objects.count() == 0


# --- escalations (R5.1) --------------------------------------------------------------------------
def test_escalation_notifies_managers_and_the_manager_resolves_it(client, sales_assistant, sales_manager):
    order = factories.make_order()
    client_for(client, sales_assistant)
    response = client.post(reverse("orders:escalation_add", args=[order.pk]), {"reason": "Customer demands 50% off"})
    assert response.status_code == 302
    escalation = Escalation.objects.get()
    note = Notification.objects.get(user=sales_manager, kind=Notification.Kind.ESCALATION)
    assert note.order == order and order.number in note.message
    assert not Notification.objects.filter(user=sales_assistant, kind="escalation").exists()
    # the assistant cannot resolve it
    url = reverse("orders:escalation_resolve", args=[order.pk, escalation.pk])
    assert client.post(url, {"resolution": "fine"}).status_code == 403
    client.force_login(sales_manager)
    html = client.get(detail(order)).content.decode()
    assert "Customer demands 50% off" in html and "escalation-entry" in html and "notification-entry" in html
    assert client.post(url, {"resolution": ""}).status_code == 400
    assert client.post(url, {"resolution": "Offered 5%"}).status_code == 302
    escalation.refresh_from_db()
    assert escalation.resolved_by == sales_manager and escalation.resolution == "Offered 5%"
    # twice: a conflict, nothing changes
    assert client.post(url, {"resolution": "again"}).status_code == 409
    escalation.refresh_from_db()
    assert escalation.resolution == "Offered 5%"


def test_escalation_bad_input_and_scope(client, sales_assistant, sales_assistant2, sales_manager):
    order = factories.make_order()
    client_for(client, sales_assistant)
    assert client.post(reverse("orders:escalation_add", args=[order.pk]), {"reason": ""}).status_code == 400
    client.force_login(sales_assistant2)
    assert client.post(reverse("orders:escalation_add", args=[order.pk]), {"reason": "x"}).status_code == 404
    client.force_login(sales_manager)  # the manager resolves, the owner raises
    assert client.post(reverse("orders:escalation_add", args=[order.pk]), {"reason": "x"}).status_code == 403
    assert Escalation.objects.count() == 0 and Notification.objects.filter(kind="escalation").count() == 0


# --- editing while received ----------------------------------------------------------------------
def _edit_data(order, **overrides):
    data = {
        "customer": order.customer_id, "channel": order.channel, "contact_name": order.contact_name,
        "contact_phone": order.contact_phone, "delivery_address": order.delivery_address,
        "requested_delivery_date": order.requested_delivery_date.isoformat(), "special_terms": "",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "100",
    }
    line = order.lines.first()
    data.update({"lines-0-product": line.product_id, "lines-0-specification": line.specification,
                 "lines-0-quantity": str(line.quantity), "lines-0-unit_price": str(line.unit_price)})
    data.update(overrides)
    return data


def test_edit_page_changes_the_order_and_history_shows_who(client, sales_assistant):
    order = factories.make_order()
    client_for(client, sales_assistant)
    response = client.get(reverse("orders:edit", args=[order.pk]))
    assert response.status_code == 200 and order.contact_name in response.content.decode()
    response = client.post(reverse("orders:edit", args=[order.pk]), _edit_data(order, contact_name="Han Meimei",
                                                                               **{"lines-0-quantity": "7"}))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.contact_name == "Han Meimei"
    fields = set(OrderChange.objects.filter(order=order, user=sales_assistant).values_list("field", flat=True))
    assert {"contact_name", "lines"} <= fields
    html = client.get(detail(order)).content.decode()
    assert "Han Meimei" in html and 'class="change"' in html


@pytest.mark.parametrize("overrides", [
    {"contact_name": ""},
    {"requested_delivery_date": "yesterday"},
    {"customer": "999999"},
    {"customer": "abc"},
    {"lines-0-quantity": "-1"},
    {"lines-0-unit_price": "abc"},
    {"lines-0-product": "999999"},
    {"lines-TOTAL_FORMS": "x"},
])
def test_edit_bad_input_writes_nothing(client, sales_assistant, overrides):
    order = factories.make_order()
    before = (order.contact_name, order.total_amount)
    client_for(client, sales_assistant)
    response = client.post(reverse("orders:edit", args=[order.pk]), _edit_data(order, **overrides))
    assert response.status_code == 400
    order.refresh_from_db()
    assert (order.contact_name, order.total_amount) == before
    assert OrderChange.objects.count() == 0


def test_edit_scope_roles_and_state(client, sales_assistant, sales_assistant2, auditor, sales_manager):
    order = factories.make_order()
    client_for(client, sales_assistant2)
    assert client.get(reverse("orders:edit", args=[order.pk])).status_code == 404
    assert client.post(reverse("orders:edit", args=[order.pk]), _edit_data(order)).status_code == 404
    client.force_login(auditor)
    assert client.post(reverse("orders:edit", args=[order.pk]), _edit_data(order)).status_code == 403
    reviewed = factories.make_order(State.REVIEWED)
    client.force_login(sales_assistant)
    response = client.post(reverse("orders:edit", args=[reviewed.pk]), _edit_data(reviewed, contact_name="Z"))
    assert response.status_code == 302
    reviewed.refresh_from_db()
    assert reviewed.contact_name != "Z"
    assert 'id="edit-order"' not in client.get(detail(reviewed)).content.decode()
    assert OrderChange.objects.count() == 0


# --- the timeline keeps field hiding -------------------------------------------------------------
def test_timeline_merges_progress_shipment_and_hides_sales_notes(client, production_supervisor, sales_assistant):
    order = factories.make_order(State.SHIPPED)
    from orders import services

    services.log_communication(user=sales_assistant, order_id=order.pk, channel="call", with_whom="Mr. Wang",
                               summary="Secret discount talk")
    client_for(client, production_supervisor)
    html = client.get(detail(order)).content.decode()
    assert "progress-entry" in html and "shipment-entry" in html
    assert "Secret discount talk" not in html
    client.force_login(sales_assistant)
    html = client.get(detail(order)).content.decode()
    assert "Secret discount talk" in html and "progress-entry" in html
    assert Order.objects.filter(pk=order.pk).exists()


# --- accept's signed receipt upload: type-checked and size-limited -----------------------------------
@pytest.mark.parametrize("name,content", [
    ("receipt.pdf", b"MZ\x90\x00 this is an executable"),
    ("receipt.exe", b"%PDF-1.4 fake"),
    ("receipt.png", b"<html>not an image</html>"),
])
def test_accept_refuses_a_scan_that_is_no_pdf_or_image(client, sales_assistant, name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = factories.make_order(State.SHIPPED)
    client_for(client, sales_assistant)
    response = client.post(reverse("orders:transition", args=[order.pk, "accept"]), {
        "signed_by": "Mr. Wang", "signed_on": factories.today().isoformat(), "receipt_scan": SimpleUploadedFile(name, content),
    })
    assert response.status_code == 303
    assert 'id="transition-failure"' in client.get(detail(order)).content.decode()
    order.refresh_from_db()
    assert order.state == State.SHIPPED and not order.receipt_scan


def test_accept_with_a_pdf_scan(client, sales_assistant, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = factories.make_order(State.SHIPPED)
    client_for(client, sales_assistant)
    response = client.post(reverse("orders:transition", args=[order.pk, "accept"]), {
        "signed_by": "Mr. Wang", "signed_on": factories.today().isoformat(),
        "receipt_scan": SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 minimal"),
    })
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == State.ACCEPTED and order.receipt_scan.name.endswith(".pdf")


def test_accept_refuses_a_scan_over_10_mb(client, sales_assistant, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from orders import forms

    monkeypatch.setattr(forms, "RECEIPT_MAX_BYTES", 1024)
    order = factories.make_order(State.SHIPPED)
    client_for(client, sales_assistant)
    response = client.post(reverse("orders:transition", args=[order.pk, "accept"]), {
        "signed_by": "Mr. Wang", "signed_on": factories.today().isoformat(),
        "receipt_scan": SimpleUploadedFile("receipt.pdf", b"%PDF" + b"0" * 2048),
    })
    assert response.status_code == 303
    order.refresh_from_db()
    assert order.state == State.SHIPPED
