"""The review desk (R4.2): queue, credit and its override, joint review and its reset, self-approval, scope."""

from decimal import Decimal

import pytest

from finance import services as finance
from orders import services as order_services
from orders.models import Order, Signoff
from supervision.selectors import review as review_reads
from tests import factories
from tests.factories import Cast, days, make_order, run, today
from tests.utils import order_row

pytestmark = pytest.mark.django_db


def review(client, order, name, **data):
    return client.post(f"/supervision/review/{order.pk}/{name}/", data)


# --- credit ------------------------------------------------------------------------------
@pytest.fixture
def credit_world(sales_assistant, sales_manager):
    """Limit 5,000. An approved order of 3,000 with an invoice of 3,000 of which 1,000 is paid: exposure 2,000.
    A cancelled order of 9,000 and a still-received order don't count."""
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    customer = factories.CustomerFactory(credit_limit=Decimal("5000.00"))
    open_order = make_order("reviewed", cast=cast, customer=customer, unit_price=Decimal("300.00"))
    invoice = finance.create_invoice(user=cast.finance_specialist, order_id=open_order.pk, amount=Decimal("3000.00"),
                                     due_date=days(5))
    # it fell due since (issue 11: a due date is never typed in the past)
    type(invoice).objects.filter(pk=invoice.pk).update(due_date=days(-5))
    finance.record_payment(user=cast.finance_specialist, invoice_id=invoice.pk, amount=Decimal("1000.00"),
                           received_on=today(), reference="B1")
    make_order("cancelled", cast=cast, customer=customer, unit_price=Decimal("900.00"))
    make_order("received", cast=cast, customer=customer, unit_price=Decimal("100.00"))
    return customer, cast


def test_credit_position_and_payment_record(credit_world):
    customer, cast = credit_world
    fits = make_order("received", submitted=True, cast=cast, customer=customer, unit_price=Decimal("300.00"))
    position = review_reads.credit_position(fits)
    assert position["exposure"] == Decimal("2000.00")
    assert position["effect"] == Decimal("5000.00") and not position["over_limit"]  # exactly at the limit is fine
    over = make_order("received", submitted=True, cast=cast, customer=customer, unit_price=Decimal("300.10"))
    position = review_reads.credit_position(over)
    assert position["effect"] == Decimal("5001.00") and position["over_limit"]
    assert position["headroom"] == Decimal("-1.00")
    record = review_reads.payment_record(customer)
    assert record == {"invoices": 1, "paid_on_time": 0, "paid_late": 0, "open": 1, "outstanding": Decimal("2000.00"),
                      "overdue": Decimal("2000.00"), "overdue_count": 1}


def test_over_limit_needs_a_reasoned_override(client, credit_world, sales_manager):
    customer, cast = credit_world
    order = make_order("received", submitted=True, cast=cast, customer=customer, unit_price=Decimal("400.00"))
    client.force_login(sales_manager)
    page = client.get(f"/supervision/review/{order.pk}/")
    assert 'id="credit-over"' in page.content.decode()
    before = order_row(order.pk)
    refused = review(client, order, "approve", promised_delivery_date=days(45).isoformat())
    assert refused.status_code == 400
    assert "credit limit" in refused.content.decode()
    # ticking the override without a reason is refused too
    refused = review(client, order, "approve", promised_delivery_date=days(45).isoformat(), override_credit="on")
    assert refused.status_code == 400
    assert order_row(order.pk) == before  # nothing written
    done = review(client, order, "approve", promised_delivery_date=days(50).isoformat(), override_credit="on",
                  comment="key account, CFO agreed")
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.state == "reviewed"
    assert order.credit_override_reason == "key account, CFO agreed"
    assert order.promised_delivery_date == days(50)


# --- joint review ---------------------------------------------------------------------------
def test_joint_review_gates_approval_and_an_edit_resets_it(client, sales_assistant, sales_manager, finance_manager,
                                                           production_supervisor):
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    order = make_order("received", submitted=True, cast=cast, special_terms="30% advance, rest in 90 days")
    client.force_login(sales_manager)
    refused = review(client, order, "approve", promised_delivery_date=days(45).isoformat())
    assert refused.status_code == 400 and "Joint review required" in refused.content.decode()
    rows, _ = review_reads.review_queue(user=sales_manager)
    row = next(r for r in rows if r["order"].pk == order.pk)
    assert [str(x) for x in row["waiting_for"]] == ["Finance", "Production"] and not row["clean"]

    # each department signs from its own queue and the review page
    for user in (finance_manager, production_supervisor):
        client.force_login(user)
        queue = client.get("/supervision/signoffs/")
        assert [o.pk for o in queue.context["pending"]] == [order.pk]
        answer = client.post(f"/supervision/review/{order.pk}/signoff/", {"decision": "approve", "comment": "ok"})
        assert answer.status_code == 302
        assert client.get("/supervision/signoffs/").context["pending"] == []
    assert Signoff.objects.filter(order=order, review_round=1, decision="approve").count() == 2

    # the assistant edits the order after the sign-offs: they are void, the order must be reviewed again
    order_services.update_order(user=sales_assistant, order_id=order.pk, data={"delivery_address": "New site 9"})
    order.refresh_from_db()
    assert order.submitted_at is None and order.review_round == 2
    run(order, "submit", sales_assistant)
    client.force_login(sales_manager)
    refused = review(client, order, "approve", promised_delivery_date=days(45).isoformat())
    assert refused.status_code == 400 and "Joint review required" in refused.content.decode()
    client.force_login(finance_manager)
    assert [o.pk for o in client.get("/supervision/signoffs/").context["pending"]] == [order.pk]

    # an objection blocks as well
    client.post(f"/supervision/review/{order.pk}/signoff/", {"decision": "object", "comment": "terms too long"})
    client.force_login(production_supervisor)
    client.post(f"/supervision/review/{order.pk}/signoff/", {"decision": "approve", "comment": "capacity ok"})
    client.force_login(sales_manager)
    rows, _ = review_reads.review_queue(user=sales_manager)
    row = next(r for r in rows if r["order"].pk == order.pk)
    assert [str(x) for x in row["objections"]] == ["Finance"]
    assert review(client, order, "approve", promised_delivery_date=days(45).isoformat()).status_code == 400
    client.force_login(finance_manager)
    client.post(f"/supervision/review/{order.pk}/signoff/", {"decision": "approve", "comment": "agreed now"})
    client.force_login(sales_manager)
    assert review(client, order, "approve", promised_delivery_date=days(45).isoformat()).status_code == 302
    assert Order.objects.get(pk=order.pk).state == "reviewed"


def test_an_objection_needs_a_comment_and_bad_decisions_are_400(client, finance_manager, sales_assistant):
    order = make_order("received", submitted=True, assistant=sales_assistant, special_terms="consignment")
    client.force_login(finance_manager)
    assert client.post(f"/supervision/review/{order.pk}/signoff/", {"decision": "object"}).status_code == 400
    assert client.post(f"/supervision/review/{order.pk}/signoff/", {"decision": "maybe"}).status_code == 400
    assert not Signoff.objects.filter(order=order).exists()


def test_signoff_on_an_order_without_joint_review_is_refused(client, finance_manager, sales_assistant):
    order = make_order("received", submitted=True, assistant=sales_assistant)
    client.force_login(finance_manager)
    answer = client.post(f"/supervision/review/{order.pk}/signoff/", {"decision": "approve"})
    assert answer.status_code == 409
    assert not Signoff.objects.filter(order=order).exists()


# --- self-approval ----------------------------------------------------------------------------
def test_a_manager_never_approves_an_order_they_created(client, sales_manager, sales_assistant):
    other_manager = factories.user_with_role("sales_manager", "sales_manager2")
    payload = factories.order_payload()
    order = order_services.create_order(user=sales_manager, assistant=sales_assistant, **payload)
    run(order, "submit", sales_assistant)
    client.force_login(sales_manager)
    rows, _ = review_reads.review_queue(user=sales_manager)
    row = next(r for r in rows if r["order"].pk == order.pk)
    assert row["self_created"] and not row["clean"]
    refused = review(client, order, "approve", promised_delivery_date=days(45).isoformat())
    assert refused.status_code == 400 and "creator may not approve" in refused.content.decode()
    bulk = client.post("/supervision/review/approve/", {"orders": [order.pk]}, follow=True)
    assert "not approved" in bulk.content.decode()
    assert Order.objects.get(pk=order.pk).state == "received"
    client.force_login(other_manager)
    assert review(client, order, "approve", promised_delivery_date=days(45).isoformat()).status_code == 302
    assert Order.objects.get(pk=order.pk).approved_by == other_manager


# --- queue, bulk approve, return, cancel -------------------------------------------------------------
def test_queue_is_oldest_first_and_bulk_approves_the_clean_ones(client, sales_manager, sales_assistant):
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    first = make_order("received", submitted=True, cast=cast)
    second = make_order("received", submitted=True, cast=cast)
    joint = make_order("received", submitted=True, cast=cast, special_terms="deliver in two lots")
    make_order("received", cast=cast)  # not submitted: not in the queue
    client.force_login(sales_manager)
    page = client.get("/supervision/review/")
    assert [r["order"].pk for r in page.context["rows"]] == [first.pk, second.pk, joint.pk]
    assert [r["clean"] for r in page.context["rows"]] == [True, True, False]
    html = page.content.decode()
    assert html.count('name="orders"') == 2  # only the clean ones can be ticked
    answer = client.post("/supervision/review/approve/", {"orders": [first.pk, second.pk, joint.pk]}, follow=True)
    text = answer.content.decode()
    assert f"{first.number}: approved." in text and f"{second.number}: approved." in text
    assert f"{joint.number}: not approved" in text
    states = dict(Order.objects.filter(pk__in=[first.pk, second.pk, joint.pk]).values_list("pk", "state"))
    assert states == {first.pk: "reviewed", second.pk: "reviewed", joint.pk: "received"}


@pytest.mark.parametrize("orders", [[], ["x"], list(range(1, 150))])
def test_bulk_approve_bad_input(client, sales_manager, orders):
    client.force_login(sales_manager)
    answer = client.post("/supervision/review/approve/", {"orders": orders}, follow=True)
    assert answer.status_code == 200
    assert answer.redirect_chain[-1][0] == "/supervision/review/"


def test_return_and_cancel_need_a_reason(client, sales_manager, sales_assistant):
    order = make_order("received", submitted=True, assistant=sales_assistant)
    client.force_login(sales_manager)
    before = order_row(order.pk)
    assert review(client, order, "return", comment="  ").status_code == 400
    assert review(client, order, "cancel").status_code == 400
    assert order_row(order.pk) == before
    assert review(client, order, "return", comment="quantity unclear").status_code == 302
    order.refresh_from_db()
    assert order.submitted_at is None and order.review_round == 2 and order.state == "received"
    assert review(client, order, "cancel", comment="customer withdrew").status_code == 302
    assert Order.objects.get(pk=order.pk).state == "cancelled"


def test_unknown_action_and_bad_dates(client, sales_manager, sales_assistant):
    order = make_order("received", submitted=True, assistant=sales_assistant)
    client.force_login(sales_manager)
    assert review(client, order, "settle", comment="x").status_code == 404
    assert review(client, order, "approve", promised_delivery_date="2026-02-30").status_code == 400
    assert review(client, order, "approve", promised_delivery_date=days(-3).isoformat()).status_code == 400
    assert Order.objects.get(pk=order.pk).state == "received"
    assert client.get("/supervision/review/999999/").status_code == 404


# --- scope -----------------------------------------------------------------------------------------
def test_production_sees_the_review_page_without_prices_or_credit(client, production_supervisor, sales_assistant):
    order = make_order("received", submitted=True, assistant=sales_assistant, special_terms="special packing",
                       unit_price=Decimal("123.45"))
    client.force_login(production_supervisor)
    page = client.get(f"/supervision/review/{order.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1234.50" not in html and "123.45" not in html
    assert 'id="credit"' not in html and 'id="payment-record"' not in html
    assert 'id="signoff-form"' in html and 'id="approve-form"' not in html
    queue = client.get("/supervision/signoffs/").content.decode()
    assert order.number in queue and "1234.50" not in queue
    # an order that needs no joint review and is not yet reviewed is outside production's scope: 404
    plain = make_order("received", submitted=True, assistant=sales_assistant)
    assert client.get(f"/supervision/review/{plain.pk}/").status_code == 404
    assert client.post(f"/supervision/review/{plain.pk}/signoff/", {"decision": "approve"}).status_code == 404
    # and the manager's pages are not theirs
    assert client.get("/supervision/review/").status_code == 403
    assert client.get("/supervision/team/").status_code == 403


@pytest.mark.parametrize("role", ["sales_assistant", "logistics_specialist", "finance_specialist",
                                  "production_worker"])
def test_other_roles_may_not_use_the_review_desk(client, role, sales_assistant):
    order = make_order("received", submitted=True, assistant=sales_assistant)
    client.force_login(factories.user_with_role(role))
    assert client.get(f"/supervision/review/{order.pk}/").status_code == 403
    assert client.get("/supervision/review/").status_code == 403
    assert client.post(f"/supervision/review/{order.pk}/approve/", {}).status_code == 403
    assert Order.objects.get(pk=order.pk).state == "received"


def test_the_auditor_reads_but_cannot_act(client, auditor, sales_assistant):
    order = make_order("received", submitted=True, assistant=sales_assistant)
    client.force_login(auditor)
    assert client.get("/supervision/review/").status_code == 200
    page = client.get(f"/supervision/review/{order.pk}/")
    assert page.status_code == 200 and 'id="approve-form"' not in page.content.decode()
    answer = client.post(f"/supervision/review/{order.pk}/approve/",
                         {"promised_delivery_date": days(45).isoformat()})
    assert answer.status_code == 403
    assert client.post("/supervision/review/approve/", {"orders": [order.pk]}).status_code == 403
    assert Order.objects.get(pk=order.pk).state == "received"


def test_anonymous_is_sent_to_login(client):
    answer = client.get("/supervision/review/")
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_approve_form_is_prefilled_with_the_suggested_date_as_iso(client, sales_manager, sales_assistant,
                                                                      settings, language):
    """`<input type="date">` shows only ISO values: a localized value would leave the field empty."""
    settings.LANGUAGE_CODE = language
    order = make_order("received", submitted=True, assistant=sales_assistant)
    suggested = review_reads.feasibility(Order.objects.get(pk=order.pk))["suggested_date"]
    client.force_login(sales_manager)
    client.cookies["django_language"] = language
    body = client.get(f"/supervision/review/{order.pk}/").content.decode()
    assert f'type="date" name="promised_delivery_date" value="{suggested.isoformat()}"' in body
