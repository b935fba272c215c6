"""The one append-only audit trail (issue 12, R6.1): every kind of change, with who, when, before/after and the
caller's address; nobody alters it through pages, API, admin or SQL (on PostgreSQL a trigger refuses)."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from feedback import services as feedback_services
from orderdesk import audit
from orderdesk.models import AuditEntry
from supervision import services as supervision_services
from tests.factories import Cast, make_order
from tests.utils import call, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def settled(sales_assistant, sales_manager):
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    order = make_order("settled", cast=cast, unit_price=Decimal("60000.00"))  # joint review: sign-offs too
    return order, cast


def test_every_kind_of_change_reaches_the_trail(settled, sales_manager, sales_assistant):
    order, cast = settled
    feedback_services.record_complaint(user=sales_assistant, order_id=order.pk, kind="complaint", description="x")
    supervision_services.report_loss(user=sales_manager, order_id=order.pk, cause="wrong spec", amount="100.00",
                                     responsible_id=sales_assistant.pk, corrective_action="checklist")
    kinds = set(AuditEntry.objects.filter(order_ref=order.pk).values_list("kind", flat=True))
    assert kinds >= {"transition", "signoff", "invoice", "payment", "shipment", "progress", "complaint", "loss"}
    transitions = list(AuditEntry.objects.filter(order_ref=order.pk, kind="transition").order_by("at", "id")
                       .values_list("name", "before", "after"))
    assert transitions == [
        ("submit", "received", "received"), ("approve", "received", "reviewed"),
        ("schedule", "reviewed", "scheduled"), ("start_production", "scheduled", "producing"),
        ("ship", "producing", "shipped"), ("accept", "shipped", "accepted"), ("settle", "accepted", "settled"),
    ]
    payment = AuditEntry.objects.get(order_ref=order.pk, kind="payment")
    assert payment.user == cast.finance_specialist and payment.object_type == "finance.Payment"
    assert Decimal(payment.after) == order.total_amount


def test_the_api_carries_kind_and_address_and_filters_by_kind(api_client_for, auditor, sales_assistant,
                                                               sales_manager):
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    order = make_order("received", cast=cast)
    client = api_client_for(sales_assistant)
    client.patch(f"/api/v1/orders/{order.pk}/", {"contact_phone": "555-0142"}, format="json",
                 REMOTE_ADDR="203.0.113.9")
    rows = results(call(api_client_for(auditor), "get", "/audit/", {"kind": "change"}, expect=200))
    assert [(r["field"], r["new_value"], r["address"]) for r in rows] == [("contact_phone", "555-0142",
                                                                         "203.0.113.9")]
    assert all(r["kind"] == "change" for r in rows)
    every = results(call(api_client_for(auditor), "get", "/audit/", {"order": order.pk}, expect=200))
    assert {r["kind"] for r in every} == {"change"}  # created without a transition yet


def test_record_takes_the_address_outside_a_request_too(sales_assistant):
    with audit.address("192.0.2.1"):
        entry = audit.record(kind="promise", user=sales_assistant, order=None, name="revise", before="2026-01-01",
                             after=datetime.date(2026, 2, 1), note="supplier late")
    assert (entry.address, entry.after, entry.before) == ("192.0.2.1", "2026-02-01", "2026-01-01")
    assert audit.record(kind="promise").address is None


def test_the_orm_refuses_to_change_or_delete(sales_assistant):
    entry = audit.record(kind="change", user=sales_assistant, name="x", before="a", after="b")
    entry.after = "forged"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(after="forged")
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).after == "b"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete_in_sql(sales_assistant):
    entry = audit.record(kind="change", user=sales_assistant, name="x", before="a", after="b")
    for sql in ("UPDATE orderdesk_auditentry SET after = 'forged' WHERE id = %s",
                "DELETE FROM orderdesk_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, after="b").exists()


def test_no_page_or_api_call_alters_it(api_client_for, client, auditor, superuser, sales_manager, sales_assistant):
    entry = audit.record(kind="change", user=sales_assistant, name="x", before="a", after="b")
    for user in (auditor, sales_manager, superuser):
        api = api_client_for(user)
        for method in ("post", "put", "patch", "delete"):
            response = getattr(api, method)("/api/v1/audit/", {"after": "forged"}, format="json")
            assert response.status_code in (403, 405), (user, method, response.status_code)
    client.force_login(superuser)
    base = f"/admin/orderdesk/auditentry/{entry.pk}"
    assert client.get("/admin/orderdesk/auditentry/").status_code == 200
    assert client.get("/admin/orderdesk/auditentry/add/").status_code == 403
    assert client.post(f"{base}/change/", {"after": "forged"}).status_code == 403
    assert client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    changelist = client.get("/admin/orderdesk/auditentry/").content.decode()
    assert "delete_selected" not in changelist
    assert client.post("/supervision/audit/", {"after": "forged"}).status_code in (403, 405)
    assert AuditEntry.objects.get(pk=entry.pk).after == "b"


def test_the_auditors_page_filters_by_kind_and_exports_the_address(client, auditor, settled):
    order, _cast = settled
    client.force_login(auditor)
    page = client.get("/supervision/audit/", {"kind": "payment"})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-kind="payment"') == 1 and 'data-kind="transition"' not in html
    csv = b"".join(client.get("/supervision/audit/", {"kind": "invoice", "format": "csv"}).streaming_content)
    lines = csv.decode().strip().splitlines()
    assert lines[0].endswith(",address") and len(lines) == 2 and "invoice" in lines[1]
    assert client.get("/supervision/audit/", {"kind": "nonsense"}).status_code == 400
    today = timezone.localdate()
    assert client.get("/supervision/audit/", {"order": order.number, "start": today, "end": today}).status_code == 200


def test_the_trail_answers_in_a_fixed_number_of_queries(api_client_for, auditor, settled,
                                                         django_assert_max_num_queries):
    client = api_client_for(auditor)
    with django_assert_max_num_queries(8):
        call(client, "get", "/audit/", expect=200)
    make_order("settled")
    with django_assert_max_num_queries(8):
        call(client, "get", "/audit/", {"kind": "transition"}, expect=200)
