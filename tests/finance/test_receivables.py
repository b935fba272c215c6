"""Receivables (issue 11, DESIGN §6b): open invoices with `days_overdue` and ageing `bucket` on a frozen clock,
totals per bucket, per customer and per assistant; the assistant's own receivables and follow-ups; the
workspace and its CSV exports; production and logistics never see a receivable; bounded queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from finance import selectors, services
from finance.models import FollowUp, Invoice
from tests import factories
from tests.factories import Cast, days, make_order, today
from tests.utils import call, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return Cast()


def invoice(cast, order, amount, due):
    return services.create_invoice(
        user=cast.finance_specialist, order_id=order.pk, amount=Decimal(amount), due_date=due
    )


def test_ageing_buckets_on_a_frozen_clock(cast, api_client_for):
    start = timezone.localtime().replace(hour=12)
    with time_machine.travel(start, tick=False):
        order = make_order("accepted", cast=cast)
        base = timezone.localdate()
        for amount, due in (("100", 0), ("200", 10), ("300", 40), ("150", 70), ("50", 100)):
            invoice(cast, order, amount, base + datetime.timedelta(days=due))
    # 105 days later: due 0 → 105 (90+), 10 → 95 (90+), 40 → 65 (61-90), 70 → 35 (31-60), 100 → 5 (1-30)
    with time_machine.travel(start + datetime.timedelta(days=105), tick=False):
        body = call(api_client_for(cast.finance_manager), "get", "/finance/receivables/", expect=200)
        got = sorted((r["amount"], r["days_overdue"], r["bucket"]) for r in body["results"])
        assert got == sorted(
            [
                ("100.00", 105, "90+"),
                ("200.00", 95, "90+"),
                ("300.00", 65, "61-90"),
                ("150.00", 35, "31-60"),
                ("50.00", 5, "1-30"),
            ]
        )
        assert body["totals"] == {
            "current": "0.00",
            "1-30": "50.00",
            "31-60": "150.00",
            "61-90": "300.00",
            "90+": "300.00",
            "total": "800.00",
        }
        only = call(api_client_for(cast.finance_manager), "get", "/finance/receivables/", {"bucket": "90+"})
        assert {r["amount"] for r in only["results"]} == {"100.00", "200.00"} and only["totals"]["total"] == "300.00"
    # on the day: everything is current, nothing overdue
    with time_machine.travel(start, tick=False):
        body = call(api_client_for(cast.finance_manager), "get", "/finance/receivables/", expect=200)
        assert {r["bucket"] for r in body["results"]} == {"current"} and body["totals"]["current"] == "800.00"
        assert {r["days_overdue"] for r in body["results"]} == {0}
    # the edges: 30 days overdue is 1-30, 31 is 31-60, 90 is 61-90, 91 is 90+
    with time_machine.travel(start + datetime.timedelta(days=30), tick=False):
        assert {r.amount: r.bucket for r in selectors.receivables(cast.finance_manager)}[Decimal("100.00")] == "1-30"
    with time_machine.travel(start + datetime.timedelta(days=31), tick=False):
        assert {r.amount: r.bucket for r in selectors.receivables(cast.finance_manager)}[Decimal("100.00")] == "31-60"
    with time_machine.travel(start + datetime.timedelta(days=90), tick=False):
        assert {r.amount: r.bucket for r in selectors.receivables(cast.finance_manager)}[Decimal("100.00")] == "61-90"
    with time_machine.travel(start + datetime.timedelta(days=91), tick=False):
        assert {r.amount: r.bucket for r in selectors.receivables(cast.finance_manager)}[Decimal("100.00")] == "90+"


def test_paid_and_credited_invoices_leave_the_receivables(cast):
    order = make_order("accepted", cast=cast)
    paid = invoice(cast, order, "400", days(5))
    services.record_payment(
        user=cast.finance_specialist, invoice_id=paid.pk, amount=Decimal("400"), received_on=today(), reference="B"
    )
    part = invoice(cast, order, "600", days(5))
    services.record_payment(
        user=cast.finance_specialist, invoice_id=part.pk, amount=Decimal("100"), received_on=today(), reference="B"
    )
    services.create_credit_note(user=cast.finance_specialist, invoice_id=part.pk, amount=Decimal("200"), reason="r")
    rows = list(selectors.receivables(cast.finance_manager))
    assert [(r.pk, r.open_amount) for r in rows] == [(part.pk, Decimal("300.00"))]


def test_per_customer_and_per_assistant_and_the_assistants_own(cast, api_client_for):
    other = factories.user_with_role("sales_assistant", "sales_assistant2")
    mine = make_order("accepted", cast=cast)
    theirs = make_order("accepted", cast=Cast(owner=other))
    invoice(cast, mine, "100", days(1))
    invoice(cast, theirs, "250", days(1))
    rows = selectors.receivables(cast.finance_manager)
    by_assistant = {r["code"]: r["total"] for r in selectors.ageing_by(rows, "assistant")}
    assert by_assistant == {"sales_assistant": Decimal("100.00"), "sales_assistant2": Decimal("250.00")}
    by_customer = {r["id"]: r["total"] for r in selectors.ageing_by(rows, "customer")}
    assert by_customer == {mine.customer_id: Decimal("100.00"), theirs.customer_id: Decimal("250.00")}
    body = call(api_client_for(cast.sales_assistant), "get", "/finance/receivables/", expect=200)
    assert [r["order"] for r in body["results"]] == [mine.pk] and body["totals"]["total"] == "100.00"
    filtered = call(
        api_client_for(cast.finance_manager),
        "get",
        "/finance/receivables/",
        {"assistant": other.pk, "customer": theirs.customer_id},
        expect=200,
    )
    assert [r["order"] for r in filtered["results"]] == [theirs.pk]
    for bad in ({"bucket": "7-8"}, {"customer": "abc"}, {"assistant": "-1"}):
        call(api_client_for(cast.finance_manager), "get", "/finance/receivables/", bad, expect=400)


@pytest.mark.parametrize(
    "role", ["production_supervisor", "production_worker", "logistics_supervisor", "logistics_specialist"]
)
def test_production_and_logistics_never_see_a_receivable(cast, api_client_for, client, role):
    order = make_order("shipped", cast=cast)
    inv = invoice(cast, order, "100", days(1))
    user = getattr(cast, role)
    api = api_client_for(user)
    call(api, "get", "/finance/receivables/", expect=404)
    assert results(call(api, "get", "/finance/invoices/", {"order": order.pk}, expect=200)) == []
    assert results(call(api, "get", "/finance/follow-ups/", expect=200)) == []
    call(api, "post", "/finance/follow-ups/", {"invoice": inv.pk, "channel": "call", "note": "n"}, expect=404)
    client.force_login(user)
    assert client.get("/finance/").status_code == 403
    assert client.get("/finance/export/receivables.csv").status_code == 403
    assert client.get(f"/finance/invoices/{inv.pk}.pdf").status_code == 404
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert f"INV-{inv.pk}" not in page and "payment-terms" not in page


def test_the_assistant_logs_follow_ups_of_their_receivables(cast, api_client_for, client):
    order = make_order("accepted", cast=cast)
    inv = invoice(cast, order, "100", days(1))
    assistant = api_client_for(cast.sales_assistant)
    body = call(
        assistant,
        "post",
        "/finance/follow-ups/",
        {"invoice": inv.pk, "channel": "call", "note": "will pay Friday", "promised_on": str(days(3))},
        expect=201,
    )
    assert body["order"] == order.pk
    for bad in (
        {"invoice": inv.pk, "channel": "call", "note": ""},
        {"invoice": inv.pk, "channel": "call", "note": "n", "promised_on": str(days(-1))},
        {"invoice": inv.pk, "channel": "pigeon", "note": "n"},
    ):
        call(assistant, "post", "/finance/follow-ups/", bad, expect=400)
    other = api_client_for(factories.user_with_role("sales_assistant", "sales_assistant2"))
    call(other, "post", "/finance/follow-ups/", {"invoice": inv.pk, "channel": "call", "note": "x"}, expect=404)
    assert FollowUp.objects.count() == 1
    assert [f["note"] for f in results(call(assistant, "get", "/finance/follow-ups/", {"order": order.pk}))] == [
        "will pay Friday"
    ]
    client.force_login(cast.sales_assistant)
    page = client.get("/finance/receivables/").content.decode()
    assert "will pay Friday" in page and order.number in page
    # the order page's form
    response = client.post(
        f"/orders/{order.pk}/follow-ups/", {"invoice": inv.pk, "channel": "email", "note": "sent a reminder"}
    )
    assert response.status_code == 302 and FollowUp.objects.count() == 2
    response = client.post(f"/orders/{order.pk}/follow-ups/", {"invoice": inv.pk, "channel": "email", "note": ""})
    assert response.status_code == 400 and FollowUp.objects.count() == 2


def test_workspace_and_its_exports(cast, client):
    order = make_order("accepted", cast=cast)
    invoice(cast, order, "100", days(1))
    to_issue = make_order("reviewed", cast=cast)
    client.force_login(cast.finance_specialist)
    page = client.get("/finance/").content.decode()
    for part in (
        'id="ageing-chart"',
        'data-bucket="current"',
        'id="by-customer"',
        'id="by-assistant"',
        'id="to-issue"',
        'id="to-settle"',
        'id="to-record"',
        to_issue.number,
    ):
        assert part in page, part
    assert "<script" not in page.split('id="ageing"')[1].split("</section>")[0]
    for what in ("receivables", "overdue", "by-customer", "by-assistant", "to-issue", "to-settle", "payments"):
        response = client.get(f"/finance/export/{what}.csv")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), what
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert body.count("\n") >= 1
    assert client.get("/finance/export/nope.csv").status_code == 404
    client.force_login(cast.sales_assistant)
    assert client.get("/finance/").status_code == 200  # the assistant's own receivables


def test_receivables_queries_are_bounded(cast, api_client_for, django_assert_max_num_queries):
    orders = [make_order("accepted", cast=cast) for _ in range(3)]
    for order in orders:
        invoice(cast, order, "10", days(1))
    api = api_client_for(cast.finance_manager)

    def measure():
        with django_assert_max_num_queries(12) as ctx:
            call(api, "get", "/finance/receivables/", expect=200)
        return len(ctx.captured_queries)

    few = measure()
    for order in orders:
        for _ in range(5):
            invoice(cast, order, "1", days(2))
    assert measure() <= few
    assert Invoice.objects.count() == 18
