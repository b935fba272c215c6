"""Team dashboard and KPI page: content, CSV export, scope, and a fixed number of queries."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Alert
from supervision import synthetic
from tests import factories
from tests.factories import days, make_order, today

pytestmark = pytest.mark.django_db


def test_team_dashboard_shows_states_overdue_at_risk_workload_and_turnaround(client, sales_manager, sales_assistant,
                                                                             sales_assistant2):
    from tests.factories import Cast
    from tests.supervision.conftest import shift

    waiting = make_order("received", submitted=True, assistant=sales_assistant)
    late = make_order("producing", assistant=sales_assistant)
    shift(late, promised_delivery_date=days(-1))
    risky = make_order("scheduled", cast=Cast(owner=sales_assistant2))
    Alert.objects.create(order=risky, kind=Alert.Kind.AT_RISK)
    Alert.objects.create(order=late, kind=Alert.Kind.AT_RISK, resolved_at=late.created_at)  # resolved: not shown
    client.force_login(sales_manager)
    page = client.get("/supervision/team/")
    assert page.status_code == 200
    ctx = page.context
    counts = {c["state"]: c["count"] for c in ctx["state_counts"]}
    assert counts["received"] == 1 and counts["producing"] == 1 and counts["scheduled"] == 1
    assert [o.pk for o in ctx["overdue"]] == [late.pk]
    assert [a.order_id for a in ctx["at_risk"]] == [risky.pk]
    load = {w["assistant__username"]: w for w in ctx["workload"]}
    assert load["sales_assistant"]["open"] == 2 and load["sales_assistant"]["in_review"] == 1
    assert load["sales_assistant"]["overdue"] == 1
    assert load["sales_assistant"]["oldest_id"] == waiting.pk
    assert load["sales_assistant2"]["open"] == 1
    assert ctx["turnaround_count"] == 2 and ctx["turnaround_hours"] is not None
    assert ctx["waiting_review"] == 1
    assert sum(week["created"] for week in ctx["chart"]) == 3
    html = page.content.decode()
    assert "<svg" in html and "http://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize("role", ["sales_assistant", "finance_manager", "production_supervisor"])
def test_team_dashboard_is_for_managers_and_audit(client, role):
    client.force_login(factories.user_with_role(role))
    assert client.get("/supervision/team/").status_code == 403


def test_auditor_sees_the_team_dashboard(client, auditor):
    client.force_login(auditor)
    assert client.get("/supervision/team/").status_code == 200


def test_kpi_page_with_definitions_and_csv(client, sales_manager, sales_assistant):
    make_order("reviewed", assistant=sales_assistant)
    client.force_login(sales_manager)
    page = client.get("/supervision/kpis/", {"start": today().isoformat(), "end": today().isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="kpi-definitions"' in html and "A correction is a change to what the assistant recorded" in html
    assert page.context["kpi"]["accuracy_rate"] == 1.0
    export = client.get("/supervision/kpis/export.csv", {"start": today().isoformat(), "end": today().isoformat()})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    team = rows[0]
    assert team["scope"] == "team" and team["accuracy_rate"] == "1.0" and team["orders_submitted"] == "1"
    assert any(r["scope"] == "sales_assistant" for r in rows)


def test_kpi_page_bad_input_is_a_400_not_a_500(client, sales_manager):
    client.force_login(sales_manager)
    assert client.get("/supervision/kpis/", {"start": "2026-02-31"}).status_code == 400
    assert client.get("/supervision/kpis/export.csv", {"end": "nope"}).status_code == 400


def test_an_assistant_sees_only_own_kpi_page_and_csv(client, sales_assistant, sales_assistant2):
    client.force_login(sales_assistant)
    page = client.get("/supervision/kpis/")
    assert page.status_code == 200 and "assistant" not in page.context["form"].fields
    assert [r["username"] for r in page.context["rows"]] == ["sales_assistant"]
    assert client.get("/supervision/kpis/", {"assistant": sales_assistant2.pk}).status_code == 403
    rows = list(csv.DictReader(io.StringIO(client.get("/supervision/kpis/export.csv").content.decode("utf-8-sig"))))
    assert [r["scope"] for r in rows] == ["sales_assistant"]


# --- a fixed number of queries whatever the number of orders ---------------------------------------
def _count(fn) -> int:
    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


def test_dashboard_queue_and_kpis_answer_in_a_fixed_number_of_queries(client, sales_manager,
                                                                      django_assert_max_num_queries):
    from django.contrib.contenttypes.models import ContentType

    from orders.models import Order

    ContentType.objects.get_for_model(Order)  # the content type cache is warm in a running server
    client.force_login(sales_manager)
    pages = ["/supervision/team/", "/supervision/review/", "/supervision/kpis/?series=week", "/api/v1/kpis/"]

    make_order("received", submitted=True)  # the queue is never empty: every branch runs in both rounds
    make_order("reviewed")
    synthetic.generate(orders=10, assistants=3, customers=3, seed=1)
    small = {url: _count(lambda url=url: client.get(url)) for url in pages}
    synthetic.generate(orders=200, assistants=3, customers=3, seed=2)
    for url in pages:
        with django_assert_max_num_queries(small[url]):
            assert client.get(url).status_code == 200
    assert Order.objects.count() == 212
    assert max(small.values()) <= 25, small
