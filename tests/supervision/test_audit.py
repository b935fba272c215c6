"""`GET /api/v1/audit/` (DESIGN §6, R6.1): every recorded change, filterable by order, user and date."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from orders import services as order_services
from tests.factories import Cast, make_order
from tests.utils import call, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(sales_assistant, sales_manager):
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    first = make_order("received", cast=cast, submitted=True)
    order_services.update_order(user=sales_assistant, order_id=first.pk, data={"contact_phone": "555-0100"})
    second = make_order("reviewed", cast=cast)
    return first, second


def test_the_auditor_reads_every_transition_and_change_newest_first(api_client_for, auditor, trail,
                                                                     sales_assistant, sales_manager):
    first, second = trail
    body = call(api_client_for(auditor), "get", "/audit/", expect=200)
    rows = results(body)
    # first: submit, then an edit (the phone, and the withdrawn submission); second: submit, approve
    assert body["count"] == len(rows) == 5
    ats = [row["at"] for row in rows]
    assert ats == sorted(ats, reverse=True)
    change = next(r for r in rows if r.get("field") == "contact_phone")
    assert change == {**change, "kind": "change", "order": first.pk, "order_number": first.number,
                      "new_value": "555-0100", "username": sales_assistant.username}
    approve = next(r for r in rows if r.get("transition") == "approve")
    assert approve["order"] == second.pk and approve["username"] == sales_manager.username
    assert (approve["source_state"], approve["state"]) == ("received", "reviewed")


def test_filters_by_order_user_and_date(api_client_for, sales_manager, trail, sales_assistant):
    first, second = trail
    client = api_client_for(sales_manager)
    by_order = results(call(client, "get", "/audit/", {"order": first.pk}, expect=200))
    assert {r["order"] for r in by_order} == {first.pk} and len(by_order) == 3
    by_user = results(call(client, "get", "/audit/", {"user": sales_manager.pk}, expect=200))
    assert [r.get("transition") for r in by_user] == ["approve"]
    today = timezone.localdate()
    assert len(results(call(client, "get", "/audit/", {"start": today, "end": today}, expect=200))) == 5
    # an edit ten days ago (the trail cannot be back-dated: it is written then)
    with time_machine.travel(timezone.now() - datetime.timedelta(days=10)):
        older = make_order("received", cast=Cast(owner=sales_assistant, sales_manager=sales_manager))
        order_services.update_order(user=sales_assistant, order_id=older.pk, data={"contact_phone": "555-0199"})
    assert len(results(call(client, "get", "/audit/", {"start": today}, expect=200))) == 5
    past = today - datetime.timedelta(days=10)
    assert [r["new_value"] for r in results(call(client, "get", "/audit/", {"start": past, "end": past}, expect=200))
            ] == ["555-0199"]


@pytest.mark.parametrize("params", [{"order": "x"}, {"user": -1}, {"start": "yesterday"},
                                    {"start": "2026-02-02", "end": "2026-01-01"}])
def test_bad_filters_are_400(api_client_for, auditor, params):
    body = call(api_client_for(auditor), "get", "/audit/", params, expect=400)
    assert body["code"] == "invalid"


@pytest.mark.parametrize("fixture", ["sales_assistant", "production_supervisor", "logistics_specialist",
                                     "finance_manager"])
def test_only_the_auditor_and_the_manager_read_the_trail(request, api_client_for, fixture, trail):
    call(api_client_for(request.getfixturevalue(fixture)), "get", "/audit/", expect=403)


def test_the_trail_pages_in_a_fixed_number_of_queries(api_client_for, auditor, trail,
                                                      django_assert_max_num_queries):
    client = api_client_for(auditor)
    with django_assert_max_num_queries(8):
        call(client, "get", "/audit/", expect=200)
    make_order("scheduled")
    with django_assert_max_num_queries(8):
        call(client, "get", "/audit/", expect=200)


# --- the page ---------------------------------------------------------------------------------------
def test_the_audit_page_lists_filters_and_exports(client, auditor, trail, sales_assistant):
    first, second = trail
    client.force_login(auditor)
    page = client.get("/supervision/audit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert first.number in html and second.number in html and "555-0100" in html
    # people read labels, not codes: the transition, the states and the field by their names
    assert "Approve</td>" in html and "<td>Received</td><td>Reviewed</td>" in html and "contact phone" in html
    only_first = client.get("/supervision/audit/", {"order": first.number}).content.decode()
    assert first.number in only_first and second.number not in only_first
    by_user = client.get("/supervision/audit/", {"user": sales_assistant.pk}).content.decode()
    assert "approve" not in by_user.split("<tbody>")[1]
    csv = b"".join(client.get("/supervision/audit/", {"format": "csv"}).streaming_content).decode()
    lines = csv.strip().splitlines()
    assert lines[0].startswith("at,kind,order,user") and len(lines) == 1 + 5
    assert any(first.number in line and "contact_phone" in line for line in lines)


def test_the_audit_page_refuses_bad_filters_and_other_roles(client, auditor, sales_assistant, trail):
    client.force_login(auditor)
    assert client.get("/supervision/audit/", {"start": "2026-02-02", "end": "2026-01-01"}).status_code == 400
    assert client.get("/supervision/audit/", {"user": "abc"}).status_code == 400
    client.force_login(sales_assistant)
    assert client.get("/supervision/audit/").status_code == 403
