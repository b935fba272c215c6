"""Bad input never yields a 500 and never changes data (DESIGN §6 "Errors").

Every refusal is JSON with `detail` and a stable `code`; validation errors name
their fields under `errors`; counts of orders, lines and number-sequence rows are
the same before and after.
"""

from __future__ import annotations

import copy
import datetime

import pytest

from orders.models import Order, OrderChange, OrderLine, OrderNumberSequence, State
from tests import factories
from tests.factories import days, make_order, today
from tests.utils import API, order_row, state_logs

pytestmark = pytest.mark.django_db


@pytest.fixture
def assistant(db):
    return factories.user_with_role("sales_assistant")


@pytest.fixture
def client(assistant, api_client_for):
    return api_client_for(assistant)


@pytest.fixture
def payload(db):
    customer = factories.CustomerFactory()
    product = factories.ProductFactory()
    return {
        "customer": customer.pk,
        "channel": "phone",
        "contact_name": "Mr. Li",
        "contact_phone": "+86 10 8888 0000",
        "delivery_address": "1 Long Street, Beijing",
        "requested_delivery_date": days(30).isoformat(),
        "special_terms": "",
        "lines": [{"product": product.pk, "specification": "blue, M8", "quantity": "5", "unit_price": "12.50"}],
    }


def counts():
    return Order.objects.count(), OrderLine.objects.count(), list(OrderNumberSequence.objects.values_list("last"))


def assert_error(response, status=400, field=None):
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert isinstance(body, dict), body
    assert body.get("detail") and isinstance(body["detail"], str), body
    assert body.get("code") and isinstance(body["code"], str), body
    if field is not None:
        assert field in body.get("errors", {}), body
    return body


def test_the_valid_payload_is_accepted(client, payload):
    """The baseline of every case below: the same payload, unbroken, creates the order."""
    before = counts()
    response = client.post(f"{API}/orders/", payload, format="json")
    assert response.status_code == 201, response.content
    assert Order.objects.count() == before[0] + 1


def _set(path, value):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return data

    return mutate


def _drop(key):
    def mutate(data):
        del data[key]
        return data

    return mutate


BAD_CREATES = [
    ("quantity-abc", _set(("lines", 0, "quantity"), "abc"), "lines"),
    ("quantity-zero", _set(("lines", 0, "quantity"), "0"), "lines"),
    ("quantity-negative", _set(("lines", 0, "quantity"), "-3"), "lines"),
    ("quantity-huge", _set(("lines", 0, "quantity"), "1e30"), "lines"),
    ("quantity-null", _set(("lines", 0, "quantity"), None), "lines"),
    ("unit-price-negative", _set(("lines", 0, "unit_price"), "-0.01"), "lines"),
    ("unit-price-abc", _set(("lines", 0, "unit_price"), "cheap"), "lines"),
    ("specification-blank", _set(("lines", 0, "specification"), "  "), "lines"),
    ("product-unknown", _set(("lines", 0, "product"), 99999999), "lines"),
    ("product-abc", _set(("lines", 0, "product"), "abc"), "lines"),
    ("line-missing-product", lambda d: (d["lines"][0].pop("product"), d)[1], "lines"),
    ("line-not-an-object", _set(("lines",), ["x"]), "lines"),
    ("lines-not-a-list", _set(("lines",), "two boxes"), "lines"),
    ("lines-an-object", _set(("lines",), {"product": 1}), "lines"),
    ("lines-empty", _set(("lines",), []), "lines"),
    ("customer-x", _set(("customer",), "x"), "customer"),
    ("customer-unknown", _set(("customer",), 99999999), "customer"),
    ("customer-null", _set(("customer",), None), "customer"),
    ("date-tomorrow-word", _set(("requested_delivery_date",), "tomorrow"), "requested_delivery_date"),
    (
        "date-past",
        _set(("requested_delivery_date",), (today() - datetime.timedelta(days=1)).isoformat()),
        "requested_delivery_date",
    ),
    ("date-impossible", _set(("requested_delivery_date",), "2031-02-30"), "requested_delivery_date"),
    ("channel-unknown", _set(("channel",), "pigeon"), "channel"),
    ("contact-name-blank", _set(("contact_name",), ""), "contact_name"),
    ("contact-name-too-long", _set(("contact_name",), "x" * 500), "contact_name"),
    *[
        (f"missing-{key}", _drop(key), key)
        for key in (
            "customer",
            "channel",
            "contact_name",
            "contact_phone",
            "delivery_address",
            "requested_delivery_date",
            "lines",
        )
    ],
]


@pytest.mark.parametrize(("mutate", "field"), [pytest.param(m, f, id=i) for i, m, f in BAD_CREATES])
def test_bad_order_creation_is_refused_without_writing(client, payload, mutate, field):
    before = counts()
    response = client.post(f"{API}/orders/", mutate(copy.deepcopy(payload)), format="json")
    assert_error(response, 400, field)
    assert counts() == before


@pytest.mark.parametrize("raw", ['{"customer": ', "not json at all", "[1, 2", '"just a string"', "[]", "null", "42"])
def test_malformed_or_non_object_json_body_is_refused(client, raw):
    before = counts()
    response = client.post(f"{API}/orders/", data=raw, content_type="application/json")
    assert_error(response, 400)
    assert counts() == before


def test_form_encoded_garbage_is_refused(client):
    before = counts()
    response = client.post(f"{API}/orders/", data={"customer": "x", "lines": "y"})
    assert_error(response, 400)
    assert counts() == before


# --- PATCH -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        {"requested_delivery_date": "soon"},
        {"requested_delivery_date": (today() - datetime.timedelta(days=3)).isoformat()},
        {"customer": "nobody"},
        {"lines": [{"product": 1}]},
        {"lines": []},
        {"channel": "telepathy"},
    ],
    ids=str,
)
def test_bad_patch_is_refused_and_changes_nothing(client, assistant, change):
    order = make_order("received", assistant=assistant)
    before = order_row(order.pk), list(order.lines.values()), OrderChange.objects.count()
    response = client.patch(f"{API}/orders/{order.pk}/", change, format="json")
    assert_error(response, 400)
    assert (order_row(order.pk), list(order.lines.values()), OrderChange.objects.count()) == before


def test_patch_is_recorded_as_field_history(client, assistant):
    order = make_order("received", assistant=assistant)
    response = client.patch(f"{API}/orders/{order.pk}/", {"contact_name": "Mrs. Zhao"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["contact_name"] == "Mrs. Zhao"
    change = OrderChange.objects.get(order=order)
    assert (change.field, change.new_value, change.user_id) == ("contact_name", "Mrs. Zhao", assistant.pk)


@pytest.mark.parametrize("state", ["reviewed", "scheduled", "producing", "settled", "cancelled"])
def test_patch_after_approval_is_a_conflict(client, assistant, state):
    order = make_order(state, assistant=assistant)
    before = order_row(order.pk)
    response = client.patch(f"{API}/orders/{order.pk}/", {"contact_name": "Late change"}, format="json")
    assert_error(response, 409)
    assert order_row(order.pk) == before


def test_patch_the_state_is_ignored_or_refused(client, assistant):
    order = make_order("received", assistant=assistant)
    response = client.patch(f"{API}/orders/{order.pk}/", {"state": "settled"}, format="json")
    assert response.status_code in (200, 400)
    assert Order.objects.get(pk=order.pk).state == State.RECEIVED


# --- transitions with bad data ------------------------------------------------------------------------
def _post_transition(client, order, name, data, **kwargs):
    return client.post(f"{API}/orders/{order.pk}/transitions/{name}/", data, **kwargs)


@pytest.mark.parametrize(
    ("state", "actor", "name", "data", "field"),
    [
        (
            "received",
            "sales_manager",
            "approve",
            {"promised_delivery_date": "nope", "comment": "ok"},
            "promised_delivery_date",
        ),
        ("received", "sales_manager", "approve", {"promised_delivery_date": "2031-13-01"}, "promised_delivery_date"),
        (
            "shipped",
            "owner",
            "accept",
            {"signed_by": "A", "signed_on": days(1).isoformat(), "receipt_reference": "R1"},
            "signed_on",
        ),
        (
            "shipped",
            "owner",
            "accept",
            {"signed_by": "A", "signed_on": "yesterday", "receipt_reference": "R1"},
            "signed_on",
        ),
        ("received", "sales_manager", "cancel", {"comment": "x" * 5000}, "comment"),
        ("received", "sales_manager", "cancel", {"comment": ["a", "list"]}, "comment"),
        ("received", "sales_manager", "cancel", {"comment": {"an": "object"}}, "comment"),
    ],
    ids=[
        "approve-date-nope",
        "approve-date-month-13",
        "accept-future",
        "accept-yesterday-word",
        "cancel-comment-too-long",
        "cancel-comment-list",
        "cancel-comment-object",
    ],
)
def test_transition_with_bad_data_is_refused(api_client_for, state, actor, name, data, field):
    cast = factories.Cast()
    order = make_order(state, cast=cast, submitted=(state == "received"))
    user = cast.owner if actor == "owner" else getattr(cast, actor)
    before, logs = order_row(order.pk), state_logs(order.pk).count()
    response = _post_transition(api_client_for(user), order, name, data, format="json")
    assert_error(response, 400, field)
    assert order_row(order.pk) == before
    assert state_logs(order.pk).count() == logs


@pytest.mark.parametrize("raw", ['{"comment": ', "[]", '"cancel"'])
def test_transition_with_malformed_body_is_refused(api_client_for, raw):
    cast = factories.Cast()
    order = make_order("received", cast=cast)
    before = order_row(order.pk)
    response = _post_transition(
        api_client_for(cast.sales_manager), order, "cancel", raw, content_type="application/json"
    )
    assert_error(response, 400)
    assert order_row(order.pk) == before


def test_receipt_scan_must_be_a_pdf_or_image(api_client_for, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    cast = factories.Cast()
    order = make_order("shipped", cast=cast)
    client = api_client_for(cast.owner)
    fake = SimpleUploadedFile("receipt.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = _post_transition(
        client,
        order,
        "accept",
        {"signed_by": "A", "signed_on": today().isoformat(), "receipt_scan": fake},
        format="multipart",
    )
    assert_error(response, 400, "receipt_scan")
    assert Order.objects.get(pk=order.pk).state == State.SHIPPED

    real = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = _post_transition(
        client,
        order,
        "accept",
        {"signed_by": "A", "signed_on": today().isoformat(), "receipt_scan": real},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert order.state == State.ACCEPTED and order.receipt_scan.name.endswith(".pdf")
    assert order.receipt_scan.path.startswith(str(settings.MEDIA_ROOT))
    assert not str(settings.MEDIA_ROOT).startswith(str(settings.BASE_DIR)), "tests must not write into the project"


# --- scope and unknown names: 404 ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("get", "", None),
        ("patch", "", {"contact_name": "Hijack"}),
        ("get", "transitions/", None),
        ("post", "transitions/submit/", {}),
        ("post", "transitions/cancel/", {"comment": "mine now"}),
        ("get", "history/", None),
        ("get", "signoffs/", None),
        ("get", "clarifications/", None),
        ("post", "clarifications/", {"question": "?"}),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_another_assistants_order_is_not_found(api_client_for, method, suffix, data):
    owner = factories.user_with_role("sales_assistant")
    other = factories.user_with_role("sales_assistant", "sales_assistant2")
    order = make_order("received", assistant=owner)
    before = order_row(order.pk)
    client = api_client_for(other)
    url = f"{API}/orders/{order.pk}/{suffix}"
    response = client.get(url) if method == "get" else getattr(client, method)(url, data, format="json")
    body = assert_error(response, 404)
    assert body["code"] == "not_found"
    assert order_row(order.pk) == before


@pytest.mark.parametrize("name", ["fly", "return_order", "SUBMIT", "approve ", "delete"])
def test_unknown_transition_name_is_not_found(client, assistant, name):
    order = make_order("received", assistant=assistant)
    before, logs = order_row(order.pk), state_logs(order.pk).count()
    response = client.post(f"{API}/orders/{order.pk}/transitions/{name}/", {}, format="json")
    assert_error(response, 404)
    assert order_row(order.pk) == before and state_logs(order.pk).count() == logs


@pytest.mark.parametrize("order_id", ["999999999", "abc", "0", "-1"])
def test_unknown_order_is_not_found(client, order_id):
    for url in (f"{API}/orders/{order_id}/", f"{API}/orders/{order_id}/history/"):
        assert client.get(url).status_code == 404
    response = client.post(f"{API}/orders/{order_id}/transitions/submit/", {}, format="json")
    assert response.status_code == 404


def test_unknown_api_path_is_json_404(client):
    assert_error(client.get(f"{API}/no-such-thing/"), 404)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/production/plans/", {"order": "abc", "workshop": "x", "milestones": "soon"}),
        ("/production/progress/", {"order": 1, "percent_complete": "lots"}),
        ("/production/issues/", {"order": 1, "kind": "fire", "description": ""}),
        ("/logistics/shipments/", {"order": None, "carrier": "", "tracking_number": ""}),
        ("/finance/invoices/", {"order": 1, "amount": "-5", "due_date": "never"}),
        ("/finance/payments/", {"invoice": "x", "amount": "abc", "received_on": "", "reference": ""}),
        ("/customers/", {"name": "new"}),
    ],
)
def test_other_endpoints_refuse_garbage_without_500(api_client_for, path, data):
    user = factories.superuser()
    response = api_client_for(user).post(f"{API}{path}", data, format="json")
    assert response.status_code in (400, 404, 405), response.content
    body = response.json()
    assert body.get("detail") and body.get("code"), body
