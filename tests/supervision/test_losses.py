"""Loss incidents (issue 12, R6.3): on any order, confirmed or dismissed by a sales manager; confirmed ones reach
the responsible person's KPIs (`recorded_loss`)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from orderdesk.models import AuditEntry
from supervision.models import LossIncident
from supervision.selectors.kpis import kpis
from tests.factories import Cast, make_order
from tests.utils import call, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(sales_assistant, sales_manager):
    return make_order("shipped", cast=Cast(owner=sales_assistant, sales_manager=sales_manager))


def payload(order_, person, **overrides):
    return {"order": order_.pk, "cause": "Wrong voltage typed at intake", "amount": "1200.50",
            "responsible": person.pk, "corrective_action": "Second check of specs", **overrides}


def test_a_confirmed_loss_reaches_the_persons_kpis(api_client_for, order, sales_manager, sales_assistant):
    manager = api_client_for(sales_manager)
    loss = call(manager, "post", "/supervision/losses/", payload(order, sales_assistant), expect=201)
    assert loss["status"] == "reported" and loss["amount"] == "1200.50"
    today = timezone.localdate()

    def recorded():
        figures = kpis(start=today - datetime.timedelta(days=1), end=today)
        return next(r for r in figures["by_assistant"] if r["assistant"] == sales_assistant.pk)["recorded_loss"]

    assert recorded() == "0.00"  # reported, not yet confirmed
    confirmed = call(manager, "post", f"/supervision/losses/{loss['id']}/confirm/", {}, expect=200)
    assert confirmed["status"] == "confirmed" and confirmed["decided_by"] == sales_manager.pk
    assert recorded() == "1200.50"
    api = call(manager, "get", "/kpis/", {"assistant": sales_assistant.pk}, expect=200)
    assert api["recorded_loss"] == "1200.50" and api["loss_incidents"] == 1
    call(manager, "post", f"/supervision/losses/{loss['id']}/dismiss/", {"note": "x"}, expect=409)
    assert AuditEntry.objects.filter(kind="loss", order_ref=order.pk).count() == 2


def test_a_dismissed_loss_needs_a_reason_and_does_not_count(api_client_for, order, sales_manager, sales_assistant):
    manager = api_client_for(sales_manager)
    loss = call(manager, "post", "/supervision/losses/", payload(order, sales_assistant), expect=201)
    call(manager, "post", f"/supervision/losses/{loss['id']}/dismiss/", {}, expect=400)
    call(manager, "post", f"/supervision/losses/{loss['id']}/dismiss/", {"note": "supplier's fault"}, expect=200)
    today = timezone.localdate()
    assert kpis(start=today, end=today, assistant=sales_assistant)["recorded_loss"] == "0.00"


@pytest.mark.parametrize("bad", [{"amount": "0"}, {"amount": "-5"}, {"amount": "abc"}, {"cause": ""},
                                 {"corrective_action": ""}, {"responsible": 999999}, {"order": 999999}])
def test_bad_input_is_400_or_404_and_nothing_is_saved(api_client_for, order, sales_manager, sales_assistant, bad):
    response = api_client_for(sales_manager).post("/api/v1/supervision/losses/", payload(order, sales_assistant, **bad),
                                                  format="json")
    assert response.status_code in (400, 404)
    assert not LossIncident.objects.exists()


def test_who_reports_decides_and_reads(api_client_for, order, sales_manager, sales_assistant, finance_manager,
                                       auditor, production_supervisor):
    call(api_client_for(sales_assistant), "post", "/supervision/losses/", payload(order, sales_assistant),
         expect=403)
    call(api_client_for(auditor), "post", "/supervision/losses/", payload(order, sales_assistant), expect=403)
    loss = call(api_client_for(finance_manager), "post", "/supervision/losses/", payload(order, sales_assistant),
                expect=201)
    call(api_client_for(finance_manager), "post", f"/supervision/losses/{loss['id']}/confirm/", {}, expect=403)
    assert [x["id"] for x in results(call(api_client_for(auditor), "get", "/supervision/losses/", expect=200))] \
        == [loss["id"]]
    assert results(call(api_client_for(production_supervisor), "get", "/supervision/losses/", expect=200)) == []
    assert results(call(api_client_for(sales_manager), "get", "/supervision/losses/", {"order": order.pk},
                        expect=200))[0]["cause"] == "Wrong voltage typed at intake"


def test_the_losses_page_reports_decides_and_exports(client, order, sales_manager, sales_assistant, auditor):
    client.force_login(sales_manager)
    page = client.get("/supervision/losses/")
    assert page.status_code == 200 and 'id="loss-form"' in page.content.decode()
    bad = client.post("/supervision/losses/", {"order": "NOPE", "cause": "x", "amount": "5",
                                               "responsible": sales_assistant.pk, "corrective_action": "y"})
    assert bad.status_code == 400 and not LossIncident.objects.exists()
    done = client.post("/supervision/losses/", {"order": order.number, "cause": "<b>typo</b>", "amount": "77.00",
                                                "responsible": sales_assistant.pk, "corrective_action": "review"})
    assert done.status_code == 302
    loss = LossIncident.objects.get()
    html = client.get("/supervision/losses/").content.decode()
    assert "&lt;b&gt;typo&lt;/b&gt;" in html
    assert client.post(f"/supervision/losses/{loss.pk}/decide/", {"decision": "confirmed"}).status_code == 302
    loss.refresh_from_db()
    assert loss.status == "confirmed"
    csv = b"".join(client.get("/supervision/losses/", {"format": "csv"}).streaming_content).decode()
    lines = csv.lstrip("\ufeff").strip().splitlines()
    assert lines[0].startswith("reported_at,order,cause,amount") and order.number in lines[1] and "77.00" in lines[1]
    client.force_login(auditor)
    html = client.get("/supervision/losses/").content.decode()
    assert 'id="loss-form"' not in html and "decide/" not in html
    assert client.post(f"/supervision/losses/{loss.pk}/decide/", {"decision": "dismissed", "note": "x"}).status_code \
        == 403
    client.force_login(sales_assistant)
    assert client.get("/supervision/losses/").status_code == 403
    assert Decimal(str(loss.amount)) == Decimal("77.00")
