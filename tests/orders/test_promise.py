"""The promise (R5.3, DESIGN §6b): one service revises the promised delivery date — the order's assistant or a
sales manager, from `reviewed` until `shipped` — and records who, old, new and why in the history and the
audit trail, tells the customer by e-mail in the customer's language and shows it on the tracking page.
Through the service, the API and the order page; bad input changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import EmailOutbox
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders import services
from orders.models import OrderChange, PromiseChange, State
from supervision.selectors.audit import audit_trail
from tests import factories
from tests.factories import Cast, days, make_order
from tests.utils import call, order_row

pytestmark = pytest.mark.django_db

REASON = "Castings arrive a week late; agreed with the customer by phone."


@pytest.fixture
def cast(db):
    return Cast()


def revise(order, user, date=None, reason=REASON):
    return services.revise_promise(user=user, order_id=order.pk, promised_delivery_date=date or days(60), reason=reason)


def nothing_written(order, before):
    assert order_row(order.pk) == before
    assert not PromiseChange.objects.filter(order=order).exists()
    assert not OrderChange.objects.filter(order=order, field="promised_delivery_date").exists()
    assert not EmailOutbox.objects.filter(order=order, kind="customer_promise_revised").exists()


@pytest.mark.parametrize("state", [State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED])
@pytest.mark.parametrize("who", ["owner", "sales_manager"])
def test_the_assistant_or_a_manager_revises_the_promise(cast, state, who):
    order = make_order(state, cast=cast)
    old = order.promised_delivery_date
    user = getattr(cast, who)
    promise = revise(order, user, days(70))
    order.refresh_from_db()
    assert order.promised_delivery_date == days(70)
    assert (promise.old_date, promise.new_date, promise.reason, promise.changed_by) == (old, days(70), REASON, user)
    change = OrderChange.objects.get(order=order, field="promised_delivery_date")
    assert (change.old_value, change.new_value, change.user) == (str(old), str(days(70)), user)
    assert promise.change == change


@pytest.mark.parametrize("state", [State.RECEIVED, State.ACCEPTED, State.SETTLED, State.CANCELLED])
def test_other_states_are_409(cast, state):
    order = make_order(state, cast=cast)
    before = order_row(order.pk)
    with pytest.raises(Conflict) as exc:
        revise(order, cast.owner)
    assert exc.value.code == "invalid_state"
    nothing_written(order, before)


@pytest.mark.parametrize(
    "role",
    [
        "production_supervisor",
        "production_worker",
        "logistics_supervisor",
        "logistics_specialist",
        "finance_manager",
        "finance_specialist",
        "auditor",
    ],
)
def test_other_roles_are_403(cast, role):
    order = make_order(State.PRODUCING, cast=cast)
    before = order_row(order.pk)
    with pytest.raises(Forbidden):
        revise(order, getattr(cast, role))
    nothing_written(order, before)


def test_another_assistants_order_is_404(cast):
    order = make_order(State.PRODUCING, cast=cast)
    before = order_row(order.pk)
    with pytest.raises(NotFound):
        revise(order, factories.user_with_role("sales_assistant", "assistant_other"))
    with pytest.raises(NotFound):
        services.revise_promise(user=cast.owner, order_id=999999, promised_delivery_date=days(9), reason="x")
    nothing_written(order, before)


@pytest.mark.parametrize(
    ("date", "reason", "field"),
    [
        (days(-1), REASON, "promised_delivery_date"),
        ("same", REASON, "promised_delivery_date"),
        (None, REASON, "promised_delivery_date"),
        (days(40), "   ", "reason"),
        (days(40), "x" * 2001, "reason"),
        (days(40), "bad\x00reason", "reason"),
    ],
)
def test_bad_values_are_400_and_nothing_changes(cast, date, reason, field):
    order = make_order(State.SCHEDULED, cast=cast)
    before = order_row(order.pk)
    if date == "same":
        date = order.promised_delivery_date
    with pytest.raises(InvalidInput) as exc:
        services.revise_promise(user=cast.owner, order_id=order.pk, promised_delivery_date=date, reason=reason)
    assert field in exc.value.errors
    nothing_written(order, before)


def test_history_and_audit_carry_who_old_new_and_why(cast, api_client_for):
    order = make_order(State.PRODUCING, cast=cast)
    old = order.promised_delivery_date
    revise(order, cast.sales_manager, days(65))
    history = call(api_client_for(cast.owner), "get", f"/orders/{order.pk}/history/", expect=200)
    entry = next(e for e in history if e.get("field") == "promised_delivery_date")
    assert (entry["old_value"], entry["new_value"], entry["by"], entry["comment"]) == (
        str(old),
        str(days(65)),
        cast.sales_manager.username,
        REASON,
    )
    row = next(r for r in audit_trail(order_id=order.pk, kind="promise") if r[4] == "promised_delivery_date")
    assert (row[5], row[6], row[7], row[2]) == (str(old), str(days(65)), REASON, cast.sales_manager.pk)
    # logistics reads the history too (the reason is not internal: the customer reads it)
    history = call(api_client_for(cast.logistics_specialist), "get", f"/orders/{order.pk}/history/", expect=200)
    assert any(e.get("comment") == REASON for e in history)


@pytest.mark.parametrize(
    ("language", "subject", "says"),
    [("en", "A new delivery date for order", "has changed from"), ("zh-hans", "新的交货日期", "变更为")],
)
def test_the_customer_is_told_in_their_language(cast, language, subject, says):
    customer = factories.CustomerFactory(language=language)
    order = make_order(State.SCHEDULED, cast=cast, customer=customer)
    old = order.promised_delivery_date
    promise = revise(order, cast.owner, days(75))
    mail = EmailOutbox.objects.get(order=order, kind="customer_promise_revised")
    assert mail.recipient == customer.email and mail.language == language
    assert subject in mail.subject
    assert says in mail.body and REASON in mail.body
    assert old.isoformat() in mail.body and days(75).isoformat() in mail.body
    assert order.tracking_url in mail.body
    # one e-mail per revision: a second revision writes a second one
    revise(order, cast.owner, days(80), reason="second")
    assert EmailOutbox.objects.filter(order=order, kind="customer_promise_revised").count() == 2
    assert promise.pk


def test_the_tracking_page_shows_the_promise_and_its_changes(cast, client):
    order = make_order(State.PRODUCING, cast=cast, customer=factories.CustomerFactory(language="en"))
    first = order.promised_delivery_date
    revise(order, cast.owner, days(66), reason="Supplier delay")
    revise(order, cast.sales_manager, days(68), reason="Transport booked two days later")
    html = client.get(reverse("track", args=[order.tracking_token])).content.decode()
    assert f'id="promised-date">{days(68).isoformat()}' in html
    for text in ("Supplier delay", "Transport booked two days later", first.isoformat(), days(66).isoformat()):
        assert text in html
    assert cast.sales_manager.username not in html  # who changed it is internal to the company


def test_promise_api(cast, api_client_for):
    order = make_order(State.SCHEDULED, cast=cast)
    client = api_client_for(cast.owner)
    body = call(
        client,
        "post",
        f"/orders/{order.pk}/promise/",
        {"promised_delivery_date": days(50).isoformat(), "reason": REASON},
        expect=201,
    )
    assert (body["new_date"], body["reason"], body["changed_by"]) == (days(50).isoformat(), REASON, cast.owner.pk)
    listed = call(client, "get", f"/orders/{order.pk}/promise/", expect=200)
    assert [p["new_date"] for p in listed] == [days(50).isoformat()]
    assert call(client, "get", f"/orders/{order.pk}/", expect=200)["promised_delivery_date"] == days(50).isoformat()
    before = order_row(order.pk)
    for bad in (
        {"promised_delivery_date": days(-3).isoformat(), "reason": REASON},
        {"promised_delivery_date": "tomorrow", "reason": REASON},
        {"promised_delivery_date": days(52).isoformat(), "reason": ""},
        {"reason": REASON},
    ):
        call(client, "post", f"/orders/{order.pk}/promise/", bad, expect=400)
    call(
        api_client_for(cast.production_supervisor),
        "post",
        f"/orders/{order.pk}/promise/",
        {"promised_delivery_date": days(52).isoformat(), "reason": REASON},
        expect=403,
    )
    call(
        api_client_for(cast.auditor),
        "post",
        f"/orders/{order.pk}/promise/",
        {"promised_delivery_date": days(52).isoformat(), "reason": REASON},
        expect=403,
    )
    call(
        api_client_for(factories.user_with_role("sales_assistant", "assistant_c")),
        "post",
        f"/orders/{order.pk}/promise/",
        {"promised_delivery_date": days(52).isoformat(), "reason": REASON},
        expect=404,
    )
    # 403 and 409 come before the values are read
    call(api_client_for(cast.logistics_specialist), "post", f"/orders/{order.pk}/promise/", {}, expect=403)
    settled = make_order(State.SETTLED, cast=cast)
    call(
        client,
        "post",
        f"/orders/{settled.pk}/promise/",
        {"promised_delivery_date": days(52).isoformat(), "reason": REASON},
        expect=409,
    )
    assert order_row(order.pk) == before
    assert PromiseChange.objects.filter(order=order).count() == 1


def test_promise_on_the_order_page(cast, client):
    order = make_order(State.PRODUCING, cast=cast)
    target = reverse("orders:promise", args=[order.pk])
    client.force_login(cast.owner)
    html = client.get(order.get_absolute_url()).content.decode()
    assert 'id="promise-form"' in html
    response = client.post(target, {"promised_delivery_date": days(-1).isoformat(), "reason": REASON})
    assert response.status_code == 400 and not PromiseChange.objects.exists()
    response = client.post(target, {"promised_delivery_date": days(44).isoformat(), "reason": REASON})
    assert response.status_code == 302
    html = client.get(order.get_absolute_url()).content.decode()
    assert REASON in html and days(44).isoformat() in html
    # logistics sees the promise and its reason, but no form; posting is 403
    client.force_login(cast.logistics_specialist)
    html = client.get(order.get_absolute_url()).content.decode()
    assert REASON in html and 'id="promise-form"' not in html
    assert client.post(target, {"promised_delivery_date": days(45).isoformat(), "reason": "x"}).status_code == 403
    assert PromiseChange.objects.count() == 1
