"""Every notification kind is sent by the event it names, to the right people, honouring each
user's preferences, and read in the reader's language (issue 8): the API follows
``Accept-Language``, pages the reader's active language, e-mails the recipient's stored language.
No hidden field value (DESIGN §5) reaches a production or logistics reader."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone, translation

from feedback import services as feedback
from logistics import services as logistics
from notifications import messages, services
from notifications.models import EmailOutbox, LanguagePreference, Notification
from orderdesk.roles import FieldClass
from orders import checks, services as order_services
from production import services as production
from tests import factories
from tests.conftest import api_client_for_user
from tests.factories import Cast, make_order
from tests.utils import API, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cast = Cast()
    for role in ("sales_manager", "production_supervisor", "logistics_supervisor", "finance_specialist",
                 "finance_manager", "production_worker", "logistics_specialist"):
        getattr(cast, role)
    return cast


def told(order, kind) -> set[str]:
    return set(Notification.objects.filter(order=order, kind=kind).values_list("user__username", flat=True))


def mailed(order, kind) -> set[str]:
    return set(EmailOutbox.objects.filter(order=order, kind=kind).values_list("user__username", flat=True))


def note(order, kind, user, **filters) -> Notification:
    return Notification.objects.get(order=order, kind=kind, user=user, **filters)


# --- each kind by its event, to the right people -------------------------------------------------------
def test_a_finance_objection_tells_the_managers_and_the_assistant_with_its_comment(cast):
    order = make_order("received", cast=cast, submitted=True, special_terms="pay in 90 days")
    order_services.record_signoff(user=cast.finance_manager, order_id=order.pk, decision="object",
                                  comment="credit too thin")
    assert told(order, "signoff_recorded") == {"sales_assistant", "sales_manager"}
    text = note(order, "signoff_recorded", cast.owner).text_in("en")
    assert "objected" in text and "credit too thin" in text


def test_the_joint_review_completes_when_both_departments_approve(cast):
    order = make_order("received", cast=cast, submitted=True, special_terms="pay in 90 days")
    order_services.record_signoff(user=cast.finance_manager, order_id=order.pk, decision="approve", comment="ok")
    assert told(order, "signoff_recorded") == set()  # one approval is not a completed review
    order_services.record_signoff(user=cast.production_supervisor, order_id=order.pk, decision="approve", comment="ok")
    assert told(order, "signoff_recorded") == {"sales_assistant", "sales_manager"}
    assert note(order, "signoff_recorded", cast.sales_manager).message_id == "joint_review_complete"


def test_progress_tells_the_assistant_and_completion_tells_logistics_once(cast):
    order = make_order("producing", cast=cast)
    production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=40)
    assert told(order, "progress_reported") == {"sales_assistant"}
    assert told(order, "ready_to_ship") == set()
    production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=100)
    production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=100)
    assert told(order, "ready_to_ship") == {"logistics_supervisor"}
    assert Notification.objects.filter(order=order, kind="ready_to_ship").count() == 1
    assert mailed(order, "ready_to_ship") == {"logistics_supervisor"}  # it needs someone to act
    assert Notification.objects.filter(order=order, kind="progress_reported", user=cast.owner).count() == 3


def test_shipment_events_and_payments_tell_the_assistant(cast):
    order = make_order("shipped", cast=cast)
    shipment = order.shipments.get()
    logistics.add_event(user=cast.logistics_specialist, shipment_id=shipment.pk, status="in_transit", location="Wuhan")
    assert told(order, "shipment_updated") == {"sales_assistant"}
    with translation.override("en"):
        assert note(order, "shipment_updated", cast.owner, message_id="shipment_event").text.endswith("In transit.")
    with translation.override("zh-hans"):
        assert "运输中" in note(order, "shipment_updated", cast.owner, message_id="shipment_event").text  # the status is a code, translated
    factories.invoice_and_pay(order, cast)
    assert told(order, "payment_received") == {"sales_assistant"}


def test_clarifications_opened_and_resolved_tell_the_assistant(cast):
    order = make_order("received", cast=cast)
    clarification = order_services.open_clarification(user=cast.sales_manager, order_id=order.pk,
                                                      question="Which colour?")
    order_services.resolve_clarification(user=cast.sales_manager, clarification_id=clarification.pk,
                                         resolution="Blue")
    rows = Notification.objects.filter(order=order, kind="clarification_opened", user=cast.owner)
    assert sorted(rows.values_list("message_id", flat=True)) == ["clarification_opened", "clarification_resolved"]
    # the actor is never told of their own act
    order_services.open_clarification(user=cast.owner, order_id=order.pk, question="Mine")
    assert rows.count() == 2


def test_a_return_carries_its_reason_to_the_assistant(cast):
    order = make_order("received", cast=cast, submitted=True)
    factories.run(order, "return", cast.sales_manager, comment="the price list is outdated")
    assert told(order, "order_returned") == {"sales_assistant"}
    assert "the price list is outdated" in note(order, "order_returned", cast.owner).text_in("en")


def test_an_escalation_honours_the_managers_preferences(cast):
    order = make_order("received", cast=cast)
    manager2 = factories.user_with_role("sales_manager", "sales_manager2")
    services.save_preferences(user=manager2, enabled=set())  # everything off
    order_services.raise_escalation(user=cast.owner, order_id=order.pk, reason="customer is angry")
    assert told(order, "escalation") == {"sales_manager"}
    assert mailed(order, "escalation") == {"sales_manager"}


def test_a_complaint_is_mailed_to_the_managers_and_a_suggestion_is_not(cast):
    order = make_order("accepted", cast=cast)
    feedback.record_complaint(user=cast.owner, order_id=order.pk, kind="suggestion", description="more colours")
    assert told(order, "complaint") == set()
    feedback.record_complaint(user=cast.owner, order_id=order.pk, kind="complaint", description="arrived broken")
    assert told(order, "complaint") == {"sales_manager"}
    assert mailed(order, "complaint") == {"sales_manager"}


def test_a_milestone_tells_its_responsible_person_when_due_and_when_overdue_once_each(cast, settings):
    settings.MILESTONE_DUE_DAYS = 2
    order = make_order("scheduled", cast=cast)
    milestone = order.production_plan.milestones.get(name="materials")
    far = order.production_plan.milestones.get(name="assembly")
    now = timezone.now()
    before = milestone.due_date - datetime.timedelta(days=5)
    assert checks.run_check("milestone_due", now=now.replace(year=before.year, month=before.month, day=before.day))[
        "fired"] == 0
    due_soon = datetime.datetime.combine(milestone.due_date - datetime.timedelta(days=1), datetime.time(12),
                                         tzinfo=timezone.get_current_timezone())
    assert checks.run_check("milestone_due", now=due_soon)["fired"] >= 1
    assert checks.run_check("milestone_due", now=due_soon)["fired"] == 0  # once
    rows = Notification.objects.filter(order=order, kind="milestone_due")
    assert set(rows.values_list("user__username", flat=True)) >= {milestone.responsible.username}
    assert rows.filter(user=milestone.responsible, message_id="milestone_due").count() == 1
    if far.due_date > milestone.due_date + datetime.timedelta(days=3):
        assert not rows.filter(user=far.responsible).exists()  # not due yet
    late = due_soon + datetime.timedelta(days=2)
    checks.run_check("milestone_due", now=late)
    checks.run_check("milestone_due", now=late)
    assert rows.filter(user=milestone.responsible, message_id="milestone_overdue").count() == 1


def test_a_low_survey_score_has_its_own_kind(cast):
    order = make_order("accepted", cast=cast)
    feedback.answer_survey(token=feedback.survey_token(order), score=4)
    assert told(order, "low_survey_score") == set()
    other = make_order("accepted", cast=cast)
    feedback.answer_survey(token=feedback.survey_token(other), score=1, comment="bad")
    order = other
    assert told(order, "low_survey_score") == {"sales_manager"}
    assert told(order, "complaint") == set()


# --- preferences: in the app and by e-mail ----------------------------------------------------------------
def test_a_kind_turned_off_in_the_app_and_by_email_sends_neither(cast):
    order = make_order("producing", cast=cast)
    services.save_preferences(user=cast.owner, enabled={("progress_reported", "email")})  # e-mail only
    production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=30)
    assert told(order, "progress_reported") == set()
    assert mailed(order, "progress_reported") == {"sales_assistant"}
    services.save_preferences(user=cast.owner, enabled=set())
    production.report_progress(user=cast.production_worker, order_id=order.pk, percent_complete=60)
    assert told(order, "progress_reported") == set()
    assert EmailOutbox.objects.filter(order=order, kind="progress_reported").count() == 1


def test_every_kind_on_the_preferences_page_has_a_message_and_a_sender():
    """Each kind offered is a message id (or uses one) and is named by a sender in notifications.events,
    orders.lifecycle, orders.checks or a department's checks (production.checks, finance.checks)."""
    import inspect

    from finance import checks as finance_checks
    from notifications import events
    from orders import lifecycle
    from production import checks as production_checks

    sources = "".join(inspect.getsource(m) for m in (events, lifecycle, checks, production_checks, finance_checks))
    for kind in Notification.Kind:
        assert kind.name in sources or f'"{kind.value}"' in sources, kind


# --- the reader's language ---------------------------------------------------------------------------------
@pytest.fixture
def two_readers(cast):
    """The same event (a quality issue) read by an English and a Chinese sales manager."""
    english = cast.sales_manager
    chinese = factories.user_with_role("sales_manager", "sales_manager_zh")
    services.set_language(user=english, language="en")
    services.set_language(user=chinese, language="zh-hans")
    order = make_order("producing", cast=cast)
    production.open_issue(user=cast.production_supervisor, order_id=order.pk, kind="quality",
                          description="scratches")
    return order, english, chinese


def test_the_api_follows_accept_language(two_readers):
    order, english, chinese = two_readers
    for user, language, word, other in ((english, "en", "Quality", "质量"), (chinese, "zh-hans", "质量", "Quality")):
        body = api_client_for_user(user).get(f"{API}/notifications/", HTTP_ACCEPT_LANGUAGE=language).json()
        (row,) = [r for r in results(body) if r["kind"] == "issue_opened"]
        assert set(row) >= {"kind", "order", "message", "read"}
        assert word in row["message"] and other not in row["message"], row["message"]
        assert "scratches" in row["message"] and order.number in row["message"]
    # the same reader in the other language: the text follows the request, not the writer
    body = api_client_for_user(english).get(f"{API}/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "质量" in results(body)[0]["message"]


def test_pages_follow_the_readers_active_language(client, two_readers):
    order, english, chinese = two_readers
    for user, language, word, other in ((english, "en", "Quality", "质量"), (chinese, "zh-hans", "质量", "Quality")):
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for path in ("/notifications/", "/", f"/orders/{order.pk}/"):
            body = client.get(path).content.decode()
            assert word in body, (path, language)
        assert f"{other} issue" not in client.get("/notifications/").content.decode()
        assert "出现Quality" not in client.get("/notifications/").content.decode()


def test_emails_follow_the_recipients_stored_language(two_readers):
    order, english, chinese = two_readers
    english_mail = EmailOutbox.objects.get(order=order, kind="issue_opened", user=english)
    chinese_mail = EmailOutbox.objects.get(order=order, kind="issue_opened", user=chinese)
    assert english_mail.language == "en" and "Quality" in english_mail.body and "质量" not in english_mail.body
    assert chinese_mail.language == "zh-hans" and "质量" in chinese_mail.body
    assert "Quality" not in chinese_mail.body


def test_the_language_switch_stores_the_users_language(client, cast):
    client.force_login(cast.sales_assistant)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert LanguagePreference.objects.get(user=cast.sales_assistant).language == "en"
    assert services.user_language(cast.sales_assistant) == "en"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})  # unknown: ignored, never a 500
    assert services.user_language(cast.sales_assistant) == "en"
    assert services.user_language(cast.sales_manager) == settings.LANGUAGE_CODE


def test_old_rows_without_a_message_id_show_their_stored_text(cast):
    old = Notification.objects.create(user=cast.sales_assistant, kind="order_approved", message="旧消息")
    assert old.text == "旧消息"
    assert messages.render("no_such_id", {}, fallback="x") == "x"


# --- no hidden value reaches production or logistics --------------------------------------------------------
def test_no_hidden_value_reaches_production_or_logistics_readers(cast):
    order = make_order("received", cast=cast, submitted=True, special_terms="SECRET-TERMS", unit_price="4321.98")
    order_services.record_signoff(user=cast.finance_manager, order_id=order.pk, decision="object",
                                  comment="SECRET-CREDIT-REASON")
    order_services.record_signoff(user=cast.finance_manager, order_id=order.pk, decision="approve", comment="ok")
    order_services.record_signoff(user=cast.production_supervisor, order_id=order.pk, decision="approve", comment="ok")
    order = factories.run(order, "approve", cast.sales_manager, comment="SECRET-APPROVE-COMMENT")
    for name in ("schedule", "start_production"):
        order = factories.run(factories.prepare(order, name, cast), name, cast.production_supervisor)
    order = factories.prepare(order, "ship", cast)  # progress to 100 % (ready to ship) and a shipment
    factories.invoice_and_pay(order, cast)
    # a restricted parameter sent straight to a production reader shows a dash
    services.notify(kind="payment_received", order=order, users=[cast.production_supervisor, cast.owner],
                    dedupe="probe", params={"amount": services.restricted("4321.98", FieldClass.PRICE)})
    secrets = ("4321.98", "43219.8", "SECRET-CREDIT-REASON", "SECRET-APPROVE-COMMENT", order.contact_phone)
    readers = [cast.production_supervisor, cast.production_worker, cast.logistics_supervisor,
               cast.logistics_specialist]
    rows = Notification.objects.filter(user__in=readers)
    assert rows.exists()
    for row in rows:
        blob = " ".join([row.message, str(row.params), row.text_in("en"), row.text_in("zh-hans")])
        assert not any(s in blob for s in secrets), (row.kind, blob)
    for mail in EmailOutbox.objects.filter(user__in=readers):
        assert not any(s in mail.subject + mail.body for s in secrets), (mail.kind, mail.body)
    # ...while the assistant, who sees prices, reads the amount
    assert "4321.98" in Notification.objects.get(dedupe_key__startswith="probe", user=cast.owner).text_in("en")
    assert Notification.objects.filter(user=cast.logistics_supervisor, kind="ready_to_ship").exists()


def test_staff_emails_are_the_templates_full_rendering_call_after_call(cast):
    """The staff e-mail is filled into a skeleton rendered once per language and kind and kept on the loaded
    template (issue 14); every e-mail, in either language, is what a full rendering of the template gives, and a
    template the engine loads afresh (another object) starts with no skeletons."""
    from django.template.loader import get_template
    from django.urls import reverse

    LanguagePreference.objects.create(user=cast.finance_manager, language="en")
    LanguagePreference.objects.create(user=cast.sales_manager, language="zh-hans")
    template = get_template("notifications/email/staff.txt")
    template.template.__dict__.pop("_orderdesk_skeletons", None)
    orders = [make_order("received", cast=cast) for _ in range(3)]
    for order in orders:  # the first call renders and checks the skeleton, the later ones fill it in
        services.notify(kind="review_requested", order=order, users=[cast.sales_manager, cast.finance_manager],
                        dedupe=f"skeleton:{order.pk}")
    mails = EmailOutbox.objects.filter(order__in=orders, kind="review_requested").select_related("user", "order")
    assert {(m.order_id, m.language) for m in mails} == {(o.pk, lang) for o in orders for lang in ("en", "zh-hans")}
    kept = services._StaffMails("x").skeletons
    assert {key[0] for key in kept if kept[key]} == {"en", "zh-hans"}, kept
    for mail in mails:
        with translation.override(mail.language):
            full = template.render({
                "user": mail.user, "order": mail.order, "kind_label": str(services.Kind("review_requested").label),
                "message": messages.render("review_requested", {"number": mail.order.number, "actor": ""}),
                "order_url": services.site_url(mail.order.get_absolute_url()),
                "preferences_url": services.site_url(reverse("notifications:preferences")),
            })
        assert (mail.subject, mail.body) == services._subject_and_body(full)
    # another load of the template (the file changed, a reloading engine): its own, empty store
    assert services._StaffMails("x").skeletons is kept
    template.template.__dict__.pop("_orderdesk_skeletons")
    assert services._StaffMails("x").skeletons == {}
