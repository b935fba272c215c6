"""Customer feedback (R6.2): the questionnaire behind the invitation link, complaints and their handling."""

import datetime

import pytest
from django.utils import timezone

from feedback.models import Complaint, Survey
from feedback.services import survey_token
from notifications.models import Notification
from supervision.selectors.kpis import kpis
from tests.factories import Cast, make_order
from tests.utils import call, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted(sales_assistant, sales_manager):
    return make_order("accepted", cast=Cast(owner=sales_assistant, sales_manager=sales_manager))


def test_accepting_the_delivery_opens_one_survey(accepted):
    survey = Survey.objects.get(order=accepted)
    assert survey.sent_at is not None and survey.answered_at is None
    assert not Survey.objects.exclude(order=accepted).exists()


def test_the_customer_answers_once_through_the_signed_link(client, accepted):
    url = f"/survey/{survey_token(accepted)}/"
    page = client.get(url)
    assert page.status_code == 200
    assert accepted.number in page.content.decode()
    assert "price" not in page.content.decode().lower()

    bad = client.post(url, {"score": "9", "comment": "x"})
    assert bad.status_code == 400
    assert Survey.objects.get(order=accepted).answered_at is None

    done = client.post(url, {"score": "4", "comment": "  Fast delivery.  "})
    assert done.status_code == 200
    survey = Survey.objects.get(order=accepted)
    assert (survey.score, survey.comment) == (4, "Fast delivery.")
    assert survey.answered_at is not None

    again = client.post(url, {"score": "1"})
    assert again.status_code == 409
    assert Survey.objects.get(order=accepted).score == 4


@pytest.mark.parametrize("token", ["not-a-token", "1", survey_token.__name__])
def test_a_bad_survey_link_is_404(client, accepted, token):
    assert client.get(f"/survey/{token}/").status_code == 404
    assert client.post(f"/survey/{token}/", {"score": "5"}).status_code == 404


def test_a_link_to_an_order_without_survey_is_404(client, sales_assistant):
    order = make_order("shipped", assistant=sales_assistant)
    assert client.get(f"/survey/{survey_token(order)}/").status_code == 404


def test_the_survey_speaks_the_customers_language(client, accepted):
    customer = accepted.customer
    customer.language = "zh-hans"
    customer.save(update_fields=["language"])
    body = client.get(f"/survey/{survey_token(accepted)}/").content.decode()
    assert 'lang="zh-hans"' in body


def test_a_low_score_tells_the_managers(client, accepted, sales_manager):
    client.post(f"/survey/{survey_token(accepted)}/", {"score": "2"})
    # its own kind (issue 13): a low score is not "Complaint received"
    assert Notification.objects.filter(user=sales_manager, order=accepted, kind="low_survey_score").count() == 1
    assert not Notification.objects.filter(order=accepted, kind="complaint").exists()


def test_answers_feed_satisfaction_and_response_rate(client, accepted, sales_assistant, sales_manager):
    second = make_order("accepted", cast=Cast(owner=sales_assistant, sales_manager=sales_manager))
    client.post(f"/survey/{survey_token(accepted)}/", {"score": "5"})
    today = timezone.localdate()
    body = kpis(start=today - datetime.timedelta(days=1), end=today)
    assert body["satisfaction"] == 5.0
    assert body["survey_response_rate"] == 0.5  # one of the two invitations answered
    client.post(f"/survey/{survey_token(second)}/", {"score": "3"})
    body = kpis(start=today - datetime.timedelta(days=1), end=today)
    assert body["satisfaction"] == 4.0 and body["survey_response_rate"] == 1.0


def test_survey_answers_through_the_api_are_scoped(client, api_client_for, accepted, sales_assistant,
                                                    sales_assistant2, production_supervisor, sales_manager):
    client.post(f"/survey/{survey_token(accepted)}/", {"score": "5", "comment": "great"})
    mine = results(call(api_client_for(sales_assistant), "get", "/feedback/surveys/", expect=200))
    assert [(s["order"], s["score"]) for s in mine] == [(accepted.pk, 5)]
    assert results(call(api_client_for(sales_assistant2), "get", "/feedback/surveys/", expect=200)) == []
    assert results(call(api_client_for(production_supervisor), "get", "/feedback/surveys/", expect=200)) == []
    assert len(results(call(api_client_for(sales_manager), "get", "/feedback/surveys/", expect=200))) == 1


# --- complaints ------------------------------------------------------------------------------------
def test_complaints_are_recorded_and_handled_through_their_states(api_client_for, accepted, sales_assistant,
                                                                  sales_manager):
    body = call(api_client_for(sales_assistant), "post", "/feedback/complaints/",
                {"order": accepted.pk, "kind": "complaint", "description": "Two parts scratched."}, expect=201)
    assert body["status"] == "open"
    assert Notification.objects.filter(user=sales_manager, order=accepted, kind="complaint").exists()
    manager = api_client_for(sales_manager)
    url = f"/feedback/complaints/{body['id']}/handle/"
    call(manager, "post", url, {"status": "in_progress"}, expect=200)
    refused = call(manager, "post", url, {"status": "resolved"}, expect=400)
    assert "resolution" in refused["errors"]
    done = call(manager, "post", url, {"status": "resolved", "resolution": "Replaced both parts."}, expect=200)
    assert done["status"] == "resolved" and done["handled_by"] == sales_manager.pk
    call(manager, "post", url, {"status": "in_progress"}, expect=409)
    assert Complaint.objects.get(pk=body["id"]).status == "resolved"


def test_complaint_input_and_roles(api_client_for, accepted, sales_assistant, sales_assistant2,
                                   production_supervisor, auditor, sales_manager):
    payload = {"order": accepted.pk, "kind": "suggestion", "description": "Call before delivery."}
    before = Complaint.objects.count()
    call(api_client_for(sales_assistant2), "post", "/feedback/complaints/", payload, expect=404)
    call(api_client_for(production_supervisor), "post", "/feedback/complaints/", payload, expect=403)
    call(api_client_for(auditor), "post", "/feedback/complaints/", payload, expect=403)
    for bad in ({**payload, "kind": "rant"}, {**payload, "description": ""}, {**payload, "order": "x"},
                {"kind": "complaint"}):
        call(api_client_for(sales_assistant), "post", "/feedback/complaints/", bad, expect=400)
    call(api_client_for(sales_assistant), "post", "/feedback/complaints/", {**payload, "order": 999999},
         expect=404)
    assert Complaint.objects.count() == before
    created = call(api_client_for(sales_assistant), "post", "/feedback/complaints/", payload, expect=201)
    call(api_client_for(sales_assistant), "post", f"/feedback/complaints/{created['id']}/handle/",
         {"status": "in_progress"}, expect=403)
    assert results(call(api_client_for(production_supervisor), "get", "/feedback/complaints/", expect=200)) == []
    listed = results(call(api_client_for(sales_manager), "get", "/feedback/complaints/?status=open", expect=200))
    assert [c["id"] for c in listed] == [created["id"]]


def test_complaints_count_in_the_kpis(api_client_for, accepted, sales_assistant):
    for kind in ("complaint", "complaint", "suggestion"):
        call(api_client_for(sales_assistant), "post", "/feedback/complaints/",
             {"order": accepted.pk, "kind": kind, "description": "…"}, expect=201)
    today = timezone.localdate()
    assert kpis(start=today, end=today)["complaint_count"] == 2
