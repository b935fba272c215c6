"""Customers' voice (issue 12, R5.3, R6.2): revocable and expiring tracking links, the tracking page's contact,
complaint form and receipt confirmation, complaints through all their states, follow-ups and the survey."""

import datetime
import re
import uuid

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from feedback import services as feedback_services
from feedback.models import Complaint, FollowUp, ReceiptConfirmation, Survey
from feedback.services import survey_token
from notifications.models import EmailOutbox, Notification
from orderdesk.models import AuditEntry, StaffProfile
from orders import checks
from orders.models import Order
from supervision.selectors.kpis import kpis
from tests.factories import Cast, make_order
from tests.utils import call, results

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """The throttle's counters in a cache of this test's own (parallel workers share the Redis database)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"customers-voice-{uuid.uuid4()}"}}
    yield
    cache.clear()


@pytest.fixture
def cast(sales_assistant, sales_manager):
    sales_assistant.first_name, sales_assistant.last_name, sales_assistant.email = "Li", "Na", "li.na@example.com"
    sales_assistant.save()
    StaffProfile.objects.create(user=sales_assistant, phone="+86 21 5555 0101")
    return Cast(owner=sales_assistant, sales_manager=sales_manager)


def track_url(order) -> str:
    return reverse("track", args=[Order.objects.get(pk=order.pk).tracking_token])


# --- tracking links ------------------------------------------------------------------------------------
def test_a_reissued_link_revokes_the_old_one(client, api_client_for, cast, sales_assistant):
    order = make_order("producing", cast=cast)
    old = track_url(order)
    assert client.get(old).status_code == 200
    body = call(api_client_for(sales_assistant), "post", f"/orders/{order.pk}/tracking-link/", expect=200)
    new = body["tracking_url"]
    assert new.endswith(track_url(order)) and not new.endswith(old)
    assert client.get(old).status_code == 404
    assert client.post(old.rstrip("/") + "/complaint/", {"kind": "complaint", "description": "x"}).status_code == 404
    assert client.get(track_url(order)).status_code == 200
    # re-issued again: the second link goes too
    second = track_url(order)
    call(api_client_for(sales_assistant), "post", f"/orders/{order.pk}/tracking-link/", expect=200)
    assert client.get(second).status_code == 404
    entries = AuditEntry.objects.filter(kind="tracking_link", order_ref=order.pk)
    assert entries.count() == 2 and {e.user_id for e in entries} == {sales_assistant.pk}


def test_only_the_assistant_and_the_manager_issue_links(api_client_for, cast, sales_assistant2, auditor,
                                                        production_supervisor, sales_manager):
    order = make_order("scheduled", cast=cast)
    call(api_client_for(sales_assistant2), "post", f"/orders/{order.pk}/tracking-link/", expect=404)
    call(api_client_for(auditor), "post", f"/orders/{order.pk}/tracking-link/", expect=403)
    call(api_client_for(production_supervisor), "post", f"/orders/{order.pk}/tracking-link/", expect=403)
    call(api_client_for(sales_manager), "post", f"/orders/{order.pk}/tracking-link/", expect=200)


def test_the_order_page_reissues_the_link(client, cast, sales_assistant):
    order = make_order("received", cast=cast)
    old = track_url(order)
    client.force_login(sales_assistant)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'action="/orders/{order.pk}/tracking-link/"' in page
    response = client.post(f"/orders/{order.pk}/tracking-link/")
    assert response.status_code == 302
    client.logout()
    assert client.get(old).status_code == 404


def test_a_link_expires_after_settlement(client, settings, cast):
    settings.TRACKING_LINK_DAYS = 30
    order = make_order("settled", cast=cast)
    url = track_url(order)
    assert client.get(url).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=29)):
        assert client.get(url).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        assert client.get(url).status_code == 404
        assert client.post(url + "complaint/", {"kind": "complaint", "description": "late"}).status_code == 404
    # an open order's link does not expire
    open_order = make_order("producing", cast=cast)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3000)):
        assert client.get(track_url(open_order)).status_code == 200


@pytest.mark.parametrize("token", ["nonsense", "1", "WzEsICJ4Il0:1abc:def"])
def test_forged_links_are_404(client, cast, token):
    make_order("received", cast=cast)
    assert client.get(f"/track/{token}/").status_code == 404
    assert client.post(f"/track/{token}/complaint/", {"kind": "complaint", "description": "x"}).status_code == 404


def test_the_page_names_the_contact_in_the_customers_language(client, cast):
    order = make_order("producing", cast=cast)
    customer = order.customer
    customer.language = "en"
    customer.save(update_fields=["language"])
    html = client.get(track_url(order)).content.decode()
    assert 'lang="en"' in html and "Your contact" in html
    assert "Li Na" in html and "+86 21 5555 0101" in html and "li.na@example.com" in html
    customer.language = "zh-hans"
    customer.save(update_fields=["language"])
    html = client.get(track_url(order)).content.decode()
    assert 'lang="zh-hans"' in html and "您的联系人" in html


def test_the_tracking_page_leaks_nothing_of_the_field_classes(client, cast, sales_manager):
    """DESIGN §5: the customer sees state, milestones, shipments and the promised date; no price, credit,
    contact or internal value (the assistant's own work contact is the one contact shown, on purpose)."""
    order = make_order("accepted", cast=cast, special_terms="", unit_price="123456.78")
    Order.objects.filter(pk=order.pk).update(credit_override_reason="SECRET-CREDIT-REASON",
                                             contact_phone="SECRET-PHONE-777", contact_name="SECRET-CONTACT",
                                             delivery_address="SECRET-ADDRESS")
    order.customer.credit_limit = 987654
    order.customer.save()
    from orders import services as order_services

    order_services.log_communication(user=cast.owner, order_id=order.pk, channel="call", at=timezone.now(),
                                     with_whom="buyer", summary="SECRET-INTERNAL-NOTE")
    order = Order.objects.get(pk=order.pk)
    html = client.get(track_url(order)).content.decode()
    for secret in ("SECRET-CREDIT-REASON", "SECRET-PHONE-777", "SECRET-CONTACT", "SECRET-ADDRESS",
                   "SECRET-INTERNAL-NOTE", "123456.78", "123,456.78", str(order.total_amount), "987654",
                   "approved", "Mr. Receiver", order.customer.email):
        assert secret not in html, secret


# --- the customer's complaint ----------------------------------------------------------------------------
def test_the_customer_files_a_complaint_shown_as_text(client, cast, sales_manager, sales_assistant):
    order = make_order("producing", cast=cast)
    url = track_url(order)
    response = client.post(url + "complaint/", {"kind": "complaint",
                                                "description": "<script>alert(1)</script> <b>late</b>"})
    assert response.status_code == 302 and response["Location"].endswith("?filed=1#feedback")
    complaint = Complaint.objects.get(order=order)
    assert complaint.source == "customer" and complaint.recorded_by is None
    assert complaint.owner == sales_assistant and complaint.status == "open"
    assert complaint.due_on == timezone.localdate() + datetime.timedelta(days=3)
    html = client.get(response["Location"]).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;late&lt;/b&gt;" in html and "<script>alert" not in html
    # the managers and the owner are told
    assert Notification.objects.filter(order=order, kind="complaint", user=sales_manager).exists()
    assert Notification.objects.filter(order=order, kind="complaint", user=sales_assistant).exists()
    assert AuditEntry.objects.filter(kind="complaint", order_ref=order.pk, user=None).exists()


@pytest.mark.parametrize("data", [{"kind": "praise", "description": "x"}, {"kind": "complaint", "description": " "},
                                  {"kind": "complaint", "description": "x" * 5001}, {}])
def test_bad_complaints_are_400_and_nothing_is_saved(client, cast, data):
    order = make_order("producing", cast=cast)
    response = client.post(track_url(order) + "complaint/", data)
    assert response.status_code == 400
    assert "field-error" in response.content.decode() or "errorlist" in response.content.decode()
    assert not Complaint.objects.exists()


def test_complaint_spam_is_throttled(client, settings, cast):
    settings.TRACK_COMPLAINTS_PER_HOUR = 3
    order = make_order("producing", cast=cast)
    url = track_url(order) + "complaint/"
    for i in range(3):
        assert client.post(url, {"kind": "suggestion", "description": f"idea {i}"}).status_code == 302
    response = client.post(url, {"kind": "suggestion", "description": "one more"})
    assert response.status_code == 429
    assert Complaint.objects.filter(order=order).count() == 3
    # another address on another order is not held back by this order's spam ... but the same address is
    other = make_order("producing", cast=cast)
    assert client.post(track_url(other) + "complaint/", {"kind": "suggestion", "description": "x"}).status_code == 429
    fresh = client.post(track_url(other) + "complaint/", {"kind": "suggestion", "description": "x"},
                        REMOTE_ADDR="198.51.100.7")
    assert fresh.status_code == 302


# --- complaints through all their states -------------------------------------------------------------
def test_a_complaint_walks_every_state_and_the_customer_hears_the_resolution(client, api_client_for, cast,
                                                                            sales_manager, auditor):
    order = make_order("producing", cast=cast)
    order.customer.email, order.customer.language = "buyer@example.com", "en"
    order.customer.save()
    url = track_url(order)
    client.post(url + "complaint/", {"kind": "complaint", "description": "The paint is scratched."})
    complaint = Complaint.objects.get(order=order)
    manager = api_client_for(sales_manager)
    handle = f"/feedback/complaints/{complaint.pk}/handle/"
    assert call(manager, "post", handle, {"status": "in_progress"}, expect=200)["status"] == "in_progress"
    body = call(manager, "post", handle, {"status": "resolved"}, expect=400)
    assert "resolution" in body["errors"]
    resolved = call(manager, "post", handle, {"status": "resolved", "resolution": "We repaint it for free."},
                    expect=200)
    assert resolved["status"] == "resolved" and resolved["customer_told_at"]
    told = EmailOutbox.objects.get(order=order, kind="customer_complaint_resolved")
    assert told.recipient == "buyer@example.com" and "We repaint it for free." in told.body
    assert told.language == "en" and "resolved" in told.subject
    # the customer sees the outcome on the tracking page
    html = client.get(url).content.decode()
    assert "We repaint it for free." in html and 'data-status="resolved"' in html
    assert call(manager, "post", handle, {"status": "closed"}, expect=200)["closed_at"]
    call(manager, "post", handle, {"status": "in_progress"}, expect=409)
    reopened = call(manager, "post", handle, {"status": "open"}, expect=200)
    assert reopened["status"] == "open" and reopened["resolved_at"] is None and reopened["closed_at"] is None
    # the auditor reads it (and its trail), changes nothing
    listed = results(call(api_client_for(auditor), "get", "/feedback/complaints/", {"order": order.pk}, expect=200))
    assert [c["id"] for c in listed] == [complaint.pk]
    call(api_client_for(auditor), "post", handle, {"status": "in_progress"}, expect=403)
    trail = results(call(api_client_for(auditor), "get", "/audit/", {"kind": "complaint", "order": order.pk},
                         expect=200))
    assert [r["action"] for r in reversed(trail)] == ["record", "in_progress", "resolved", "closed", "reopen"]


def test_the_complaint_filter_by_order(api_client_for, cast, sales_manager, sales_assistant):
    first, second = make_order("producing", cast=cast), make_order("producing", cast=cast)
    for order in (first, second):
        feedback_services.record_complaint(user=sales_assistant, order_id=order.pk, kind="suggestion",
                                           description="x")
    rows = results(call(api_client_for(sales_manager), "get", "/feedback/complaints/", {"order": second.pk},
                        expect=200))
    assert {r["order"] for r in rows} == {second.pk}
    call(api_client_for(sales_manager), "get", "/feedback/complaints/", {"order": "x"}, expect=400)


def test_resolving_without_a_resolution_names_the_field_on_the_page(client, cast, sales_manager, sales_assistant):
    """Issue 13: the error banner comes with the field's own message."""
    order = make_order("accepted", cast=cast)
    complaint = feedback_services.record_complaint(user=sales_assistant, order_id=order.pk, kind="complaint",
                                                   description="Broken")
    client.force_login(sales_manager)
    response = client.post(reverse("orders:complaint_handle", args=[order.pk, complaint.pk]),
                           {"status": "resolved", "resolution": ""})
    assert response.status_code == 400
    html = response.content.decode()
    form = html.split(f'action="/orders/{order.pk}/complaints/{complaint.pk}/"')[1].split("</form>")[0]
    assert "Say how it was resolved." in form and "has-error" in form


def test_overdue_complaints_are_a_scheduled_check_told_once(cast, sales_manager, sales_assistant):
    order = make_order("producing", cast=cast)
    complaint = feedback_services.record_complaint(user=sales_assistant, order_id=order.pk, kind="complaint",
                                                   description="Where is it?")
    assert checks.run_checks(names=["complaint_overdue"])["complaint_overdue"] == 0
    later = timezone.now() + datetime.timedelta(days=4)
    assert checks.run_checks(names=["complaint_overdue"], now=later)["complaint_overdue"] == 1
    assert checks.run_checks(names=["complaint_overdue"], now=later)["complaint_overdue"] == 0
    told = Notification.objects.filter(order=order, message_id="complaint_overdue")
    assert {n.user_id for n in told} == {sales_assistant.pk, sales_manager.pk}
    complaint.refresh_from_db()
    assert complaint.overdue_notified_at is not None


# --- receipt confirmed by the customer ---------------------------------------------------------------
def test_after_shipment_the_customer_confirms_receipt_which_the_assistant_sees(client, cast, sales_assistant):
    order = make_order("producing", cast=cast)
    assert 'id="receipt"' not in client.get(track_url(order)).content.decode()
    order = make_order("shipped", cast=cast)
    url = track_url(order)
    assert 'id="receipt"' in client.get(url).content.decode()
    assert client.post(url + "receipt/", {"received_by": "", "inspection": "maybe"}).status_code == 400
    response = client.post(url + "receipt/", {"received_by": "Wang Wu", "inspection": "failed",
                                              "note": "Two boxes dented"})
    assert response.status_code == 302
    confirmation = ReceiptConfirmation.objects.get(order=order)
    assert not confirmation.inspection_passed and confirmation.note == "Two boxes dented"
    assert client.post(url + "receipt/", {"received_by": "X", "inspection": "passed"}).status_code == 409
    assert Notification.objects.filter(order=order, user=sales_assistant, message_id="receipt_confirmed").exists()
    client.force_login(sales_assistant)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-inspection="failed"' in page and "Two boxes dented" in page


# --- follow-ups and the survey ----------------------------------------------------------------------------
def test_followups_are_recorded_by_the_owner_and_feed_satisfaction(api_client_for, client, cast, sales_assistant,
                                                                  sales_assistant2, auditor, sales_manager):
    order = make_order("accepted", cast=cast)
    body = call(api_client_for(sales_assistant), "post", "/feedback/followups/",
                {"order": order.pk, "score": 4, "summary": "Happy with the delivery"}, expect=201)
    assert body["score"] == 4
    call(api_client_for(sales_assistant), "post", "/feedback/followups/",
         {"order": order.pk, "score": 6, "summary": "x"}, expect=400)
    call(api_client_for(sales_assistant2), "post", "/feedback/followups/",
         {"order": order.pk, "score": 3, "summary": "x"}, expect=404)
    call(api_client_for(auditor), "post", "/feedback/followups/",
         {"order": order.pk, "score": 3, "summary": "x"}, expect=403)
    client.force_login(sales_assistant)
    assert client.post(reverse("orders:followup_add", args=[order.pk]),
                       {"score": "2", "summary": "Invoice was wrong"}).status_code == 302
    assert FollowUp.objects.filter(order=order).count() == 2
    client.post(f"/survey/{survey_token(order)}/", {"score": "5"})
    today = timezone.localdate()
    figures = kpis(start=today - datetime.timedelta(days=1), end=today)
    mine = next(r for r in figures["by_assistant"] if r["assistant"] == sales_assistant.pk)
    assert mine["followup_satisfaction"] == 3.0 and mine["survey_satisfaction"] == 5.0
    assert mine["satisfaction"] == round((4 + 2 + 5) / 3, 2) and mine["followup_count"] == 2
    api = call(api_client_for(sales_manager), "get", "/kpis/", {"assistant": sales_assistant.pk}, expect=200)
    assert api["followup_satisfaction"] == 3.0 and api["survey_satisfaction"] == 5.0
    kpi_page = client.get("/supervision/kpis/")
    assert kpi_page.status_code == 200 and 'id="kpi-feedback"' in kpi_page.content.decode()


def test_the_survey_asks_several_questions_answered_once(client, cast):
    order = make_order("accepted", cast=cast)
    url = f"/survey/{survey_token(order)}/"
    html = client.get(url).content.decode()
    for name in ("quality", "punctuality", "communication", "score"):
        assert html.count(f'name="{name}"') == 5
        for n in range(1, 6):  # every radio has its label
            assert f'for="id_{name}_{n}"' in html and f'id="id_{name}_{n}"' in html
    assert "<fieldset" in html and "<legend>" in html
    assert client.post(url, {"score": "4", "quality": "9"}).status_code == 400
    assert Survey.objects.get(order=order).answered_at is None
    done = client.post(url, {"score": "4", "quality": "5", "punctuality": "3", "communication": "4",
                             "comment": "<i>ok</i>"})
    assert done.status_code == 200
    survey = Survey.objects.get(order=order)
    assert (survey.score, survey.quality, survey.punctuality, survey.communication) == (4, 5, 3, 4)
    assert client.post(url, {"score": "1"}).status_code == 409
    assert Survey.objects.get(order=order).score == 4


def test_the_survey_speaks_with_satisfaction_anchors_in_chinese(client, cast):
    order = make_order("accepted", cast=cast)
    html = client.get(f"/survey/{survey_token(order)}/").content.decode()
    assert "非常满意" in html and "非常不满意" in html


def test_an_unanswered_survey_is_recalled_once(cast, settings):
    settings.SURVEY_REMINDER_DAYS = 5
    order = make_order("accepted", cast=cast)
    order.customer.email = "buyer@example.com"
    order.customer.save()
    assert checks.run_checks(names=["survey_reminder"])["survey_reminder"] == 0
    later = timezone.now() + datetime.timedelta(days=6)
    assert checks.run_checks(names=["survey_reminder"], now=later)["survey_reminder"] == 1
    assert checks.run_checks(names=["survey_reminder"], now=later)["survey_reminder"] == 0
    reminder = EmailOutbox.objects.get(order=order, kind="customer_survey_reminder")
    assert re.search(r"/survey/[^/\s]+/", reminder.body)
    answered = make_order("accepted", cast=cast)
    Survey.objects.filter(order=answered).update(answered_at=timezone.now(), score=5)
    assert checks.run_checks(names=["survey_reminder"], now=later)["survey_reminder"] == 0
    assert mail.outbox is not None
