"""Bad input never 500 (issue 9): each case through the API and the pages, a 400 that says why, nothing written.

Totals that overflow the amount column, NUL bytes (bodies and query strings), deeply nested and oversized
JSON, the audit page after an edit of an order's lines, and imports whose cells break a column's bounds or
whose sheets declare huge dimensions.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from decimal import Decimal
from urllib.parse import urlencode

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders import imports as order_imports, services
from orders.models import ImportJob, Order, OrderChange, OrderLine
from tests import factories
from tests.factories import Cast, make_order
from tests.orders.test_bad_input import assert_error, counts
from tests.utils import API

pytestmark = pytest.mark.django_db

BIG_PRICE = "999999999999.99"  # fits unit_price (14/2)


@pytest.fixture
def assistant(db):
    return factories.user_with_role("sales_assistant")


@pytest.fixture
def api(assistant, api_client_for):
    return api_client_for(assistant)


@pytest.fixture
def customer(db):
    return factories.CustomerFactory()


@pytest.fixture
def product(db):
    return factories.ProductFactory()


def api_payload(customer, product, lines=None):
    return {
        "customer": customer.pk, "channel": "phone", "contact_name": "Mr. Li", "contact_phone": "+86 10 8888 0000",
        "delivery_address": "1 Long Street, Beijing", "requested_delivery_date": factories.days(30).isoformat(),
        "special_terms": "",
        "lines": lines or [{"product": product.pk, "specification": "blue", "quantity": "5", "unit_price": "12.50"}],
    }


def page_payload(customer, lines):
    data = {
        "customer": customer.pk, "channel": "phone", "contact_name": "Li", "contact_phone": "123",
        "delivery_address": "Road 1", "requested_delivery_date": factories.days(60).isoformat(), "special_terms": "",
        "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
    }
    for i, (product, quantity, price) in enumerate(lines):
        data.update({f"lines-{i}-product": product.pk, f"lines-{i}-specification": "spec",
                     f"lines-{i}-quantity": quantity, f"lines-{i}-unit_price": price})
    return data


# --- totals within the amount column ------------------------------------------------------------------------
OVERFLOWS = {
    "line-total": [("999999999", BIG_PRICE)],            # each value fits its column, the line total does not
    "order-total": [("100", BIG_PRICE), ("100", BIG_PRICE)],  # each line fits, their sum does not
}


@pytest.mark.parametrize("case", OVERFLOWS)
def test_an_overflowing_total_is_refused_by_the_api(api, customer, product, case):
    lines = [{"product": product.pk, "specification": "x", "quantity": q, "unit_price": p} for q, p in OVERFLOWS[case]]
    before = counts()
    body = assert_error(api.post(f"{API}/orders/", api_payload(customer, product, lines), format="json"), 400, "lines")
    assert "at most" in str(body["errors"]["lines"])
    assert counts() == before


@pytest.mark.parametrize("case", OVERFLOWS)
def test_an_overflowing_total_is_refused_by_the_intake_page(client, assistant, customer, product, case):
    client.force_login(assistant)
    before = counts()
    response = client.post(reverse("orders:create"), page_payload(customer, [(product, q, p) for q, p in OVERFLOWS[case]]))
    assert response.status_code in (200, 400), response.status_code
    assert "at most" in response.content.decode()
    assert counts() == before


def test_an_overflowing_edit_is_refused_and_changes_nothing(api, assistant, product):
    order = make_order("received", assistant=assistant)
    before = list(OrderLine.objects.filter(order=order).values()), OrderChange.objects.count()
    lines = [{"product": product.pk, "specification": "x", "quantity": "999999999", "unit_price": BIG_PRICE}]
    assert_error(api.patch(f"{API}/orders/{order.pk}/", {"lines": lines}, format="json"), 400, "lines")
    assert (list(OrderLine.objects.filter(order=order).values()), OrderChange.objects.count()) == before


def test_the_service_refuses_values_beyond_the_columns(assistant, customer, product):
    from orderdesk.errors import InvalidInput

    for quantity, price in (("1000000000", "1"), ("1", "1000000000000"), ("NaN", "1"), ("1", "Infinity")):
        lines = [{"product": product, "specification": "x", "quantity": Decimal(quantity), "unit_price": Decimal(price)}]
        with pytest.raises(InvalidInput) as info:
            services.create_order(user=assistant, **{**factories.order_payload(customer=customer), "lines": lines})
        assert "lines" in info.value.errors
    assert Order.objects.count() == 0


def test_the_largest_total_that_fits_is_accepted(api, customer, product):
    lines = [{"product": product.pk, "specification": "x", "quantity": "100", "unit_price": BIG_PRICE}]
    response = api.post(f"{API}/orders/", api_payload(customer, product, lines), format="json")
    assert response.status_code == 201, response.content
    assert Order.objects.get().total_amount == Decimal("99999999999999.00")


@pytest.mark.parametrize(("path", "field", "data"), [
    ("/finance/invoices/", "amount", {"amount": "1e20", "due_date": "2031-01-01"}),
    ("/finance/invoices/", "amount", {"amount": "99999999999999999.99", "due_date": "2031-01-01"}),
    ("/finance/invoices/", "amount", {"amount": "123.456", "due_date": "2031-01-01"}),
])
def test_other_amounts_beyond_their_column_are_refused(api_client_for, path, field, data):
    order = make_order("accepted")
    response = api_client_for(factories.superuser()).post(f"{API}{path}", {"order": order.pk, **data}, format="json")
    assert_error(response, 400, field)


# --- NUL bytes --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", ["q=%00", "q=a%00b&export=csv", "q=%00&export=xlsx", "state=%00"])
def test_nul_in_the_order_list_query_is_a_400(client, assistant, params):
    make_order("received", assistant=assistant)
    client.force_login(assistant)
    response = client.get(f"/orders/?{params}")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize("path", ["/orders/?search=%00", "/customers/?search=a%00", "/products/?search=%00",
                                  "/audit/?order=%00"])
def test_nul_in_an_api_filter_is_a_400(api_client_for, path):
    body = assert_error(api_client_for(factories.superuser()).get(f"{API}{path}"), 400)
    assert body["code"] == "nul_character"


@pytest.mark.parametrize("field", ["contact_name", "delivery_address", "special_terms"])
def test_nul_in_an_api_body_is_refused(api, customer, product, field):
    before = counts()
    payload = {**api_payload(customer, product), field: "a\x00b"}
    assert_error(api.post(f"{API}/orders/", payload, format="json"), 400)
    assert counts() == before


def test_nul_in_a_nested_json_string_is_refused(api, customer, product):
    lines = [{"product": product.pk, "specification": "blue\x00", "quantity": "5", "unit_price": "1"}]
    before = counts()
    assert_error(api.post(f"{API}/orders/", api_payload(customer, product, lines), format="json"), 400)
    assert counts() == before


def test_nul_in_a_page_form_is_refused(client, assistant, customer, product):
    client.force_login(assistant)
    before = counts()
    data = page_payload(customer, [(product, "1", "1")])
    data["contact_name"] = "Li\x00"
    response = client.post(reverse("orders:create"), data)  # multipart: the form names the field
    assert response.status_code == 200 and "contact_name" in response.context["form"].errors
    response = client.post(reverse("orders:create"), urlencode(data), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "NUL" in response.content.decode()
    assert counts() == before


# --- JSON nesting and size ---------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["[" * 100_000 + "]" * 100_000, '{"a":' * 33 + "1" + "}" * 33, "[" * 50_000])
def test_deeply_nested_json_is_refused(api, raw):
    before = counts()
    body = assert_error(api.post(f"{API}/orders/", data=raw, content_type="application/json"), 400)
    assert body["code"] == "invalid_json"
    assert counts() == before


def test_nesting_within_the_limit_and_brackets_in_strings_are_fine(api, customer, product):
    payload = {**api_payload(customer, product), "special_terms": "[[[[{{{{" * 20}
    assert api.post(f"{API}/orders/", payload, format="json").status_code == 201


def test_an_oversized_json_body_is_refused(api, customer, product, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    payload = {**api_payload(customer, product), "special_terms": "x" * 20_000}
    before = counts()
    body = assert_error(api.post(f"{API}/orders/", payload, format="json"), 400)
    assert body["code"] == "too_large"
    assert counts() == before


def test_an_oversized_form_body_is_refused(client, assistant, customer, product, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(assistant)
    data = page_payload(customer, [(product, "1", "1")])
    data["special_terms"] = "x" * 20_000
    before = counts()
    assert client.post(reverse("orders:create"), data).status_code == 400
    assert counts() == before


# --- the audit trail after an edit of the lines ---------------------------------------------------------------
def test_the_audit_page_and_api_show_an_edit_of_the_lines(client, api_client_for, auditor, sales_assistant):
    order = make_order("received", cast=Cast(owner=sales_assistant))
    product = factories.ProductFactory()
    services.update_order(user=sales_assistant, order_id=order.pk, data={"lines": [
        {"product": product, "specification": "x", "quantity": Decimal("2"), "unit_price": Decimal("3")}]})
    client.force_login(auditor)
    page = client.get("/supervision/audit/")
    assert page.status_code == 200
    assert product.sku in page.content.decode()
    csv = b"".join(client.get("/supervision/audit/", {"format": "csv"}).streaming_content).decode()
    assert product.sku in csv
    body = api_client_for(auditor).get(f"{API}/audit/").json()
    assert any(r.get("field") == "lines" and product.sku in r["new_value"] for r in body["results"])


# --- the import ------------------------------------------------------------------------------------------------
def import_row(customer, product, ref="A", **overrides):
    row = {"order_ref": ref, "customer": customer.code, "channel": "email", "contact_name": "Li",
           "contact_phone": "123", "delivery_address": "Road 1",
           "requested_delivery_date": factories.days(60).isoformat(), "special_terms": "", "product": product.sku,
           "specification": "spec", "quantity": "3", "unit_price": "12.50"}
    row.update(overrides)
    return [row[c] for c in order_imports.IMPORT_COLUMNS]


def xlsx_bytes(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(order_imports.IMPORT_COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows) -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(order_imports.IMPORT_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def upload(client, name, content, django_capture_on_commit_callbacks) -> ImportJob:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("orders:import"), {"file": SimpleUploadedFile(name, content)})
    return ImportJob.objects.order_by("-pk").first()


BAD_CELLS = {
    "contact-name-too-long": ("contact_name", {"contact_name": "x" * 101}),
    "contact-phone-too-long": ("contact_phone", {"contact_phone": "1" * 51}),
    "address-too-long": ("delivery_address", {"delivery_address": "x" * 301}),
    "specification-too-long": ("specification", {"specification": "x" * 301}),
    "nul-in-contact": ("contact_name", {"contact_name": "Li\x00"}),
    "nul-in-terms": ("special_terms", {"special_terms": "net 30\x00"}),
    "quantity-beyond-column": ("quantity", {"quantity": "1000000000"}),
    "price-beyond-column": ("unit_price", {"unit_price": "1000000000000"}),
    "line-total-beyond-column": ("unit_price", {"quantity": "999999999", "unit_price": BIG_PRICE}),
}


@pytest.mark.parametrize(("kind", "case"), [
    (kind, case) for case in BAD_CELLS for kind in ("csv", "xlsx")
    if not (kind == "xlsx" and case.startswith("nul-"))  # an .xlsx cannot hold a NUL (openpyxl refuses to write one)
])
def test_the_import_check_applies_every_column_bound(client, assistant, customer, product,
                                                     django_capture_on_commit_callbacks, kind, case):
    field, overrides = BAD_CELLS[case]
    rows = [import_row(customer, product, **overrides)]
    content = csv_bytes(rows) if kind == "csv" else xlsx_bytes(rows)
    client.force_login(assistant)
    job = upload(client, f"orders.{kind}", content, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.INVALID, (job.status, job.errors)
    assert any(e["row"] == 2 and e["field"] == field for e in job.errors), job.errors
    response = client.post(reverse("orders:import_commit", args=[job.pk]))
    assert response.status_code == 409 and Order.objects.count() == 0


def test_an_import_whose_orders_sum_beyond_the_column_is_invalid(client, assistant, customer, product,
                                                                 django_capture_on_commit_callbacks):
    rows = [import_row(customer, product, quantity="100", unit_price=BIG_PRICE) for _ in range(2)]
    client.force_login(assistant)
    job = upload(client, "orders.csv", csv_bytes(rows), django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.INVALID and any("at most" in e["message"] for e in job.errors), job.errors


def test_a_job_whose_file_is_gone_ends_failed_with_its_reason(client, assistant, customer, product,
                                                               django_capture_on_commit_callbacks):
    client.force_login(assistant)
    job = upload(client, "orders.csv", csv_bytes([import_row(customer, product)]), django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.READY
    job.file.storage.delete(job.file.name)  # e.g. a node that cannot read the web node's disk
    response = client.post(reverse("orders:import_commit", args=[job.pk]))
    assert response.status_code == 400
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "import failed" in job.errors[0]["message"]
    assert Order.objects.count() == 0
    order_imports.validate_import(job_id=job.pk)  # re-checking it also ends, never stuck "validating"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.errors and job.finished_at


def _with_dimension(content: bytes, ref: str) -> bytes:
    """The workbook with its first sheet's declared dimension replaced by `ref`."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index("<dimension ref=\"")
                end = text.index("/>", start)
                data = (text[:start] + f'<dimension ref="{ref}"' + text[end:]).encode()
            target.writestr(info, data)
    return out.getvalue()


def _timed_upload(client, name, content, django_capture_on_commit_callbacks):
    tracemalloc.start()
    began = time.monotonic()
    try:
        job = upload(client, name, content, django_capture_on_commit_callbacks)
        elapsed = time.monotonic() - began
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return job, elapsed, peak


def test_a_sheet_declaring_a_huge_dimension_is_read_within_bounds(client, assistant, customer, product,
                                                                  django_capture_on_commit_callbacks):
    content = _with_dimension(xlsx_bytes([import_row(customer, product, ref=f"R{i}") for i in range(500)]),
                              "A1:XFD1048576")
    assert len(content) < 40_000
    client.force_login(assistant)
    job, elapsed, peak = _timed_upload(client, "orders.xlsx", content, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.READY, job.errors
    assert elapsed < 10 and peak < 40 * 1024 * 1024, (elapsed, peak)


@pytest.mark.parametrize(("cell", "message"), [("XFD1048576", "rows"), ("A1048576", "rows"), ("XFD2", "columns")])
def test_a_cell_far_away_makes_the_sheet_invalid_quickly(client, assistant, customer, product,
                                                         django_capture_on_commit_callbacks, cell, message):
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes([import_row(customer, product)])))
    book.active[cell] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    client.force_login(assistant)
    job, elapsed, peak = _timed_upload(client, "orders.xlsx", buffer.getvalue(), django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.INVALID
    assert f"At most {order_imports.IMPORT_MAX_ROWS if message == 'rows' else order_imports.IMPORT_MAX_COLUMNS} {message}" \
        in job.errors[0]["message"], job.errors
    assert elapsed < 10 and peak < 40 * 1024 * 1024, (elapsed, peak)


def test_a_csv_with_too_many_columns_or_a_huge_field_is_invalid(client, assistant, customer, product,
                                                                django_capture_on_commit_callbacks):
    client.force_login(assistant)
    wide = csv_bytes([import_row(customer, product) + [""] * 100 + ["x"]])
    job = upload(client, "orders.csv", wide, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.INVALID and "columns" in job.errors[0]["message"], job.errors
    huge = csv_bytes([import_row(customer, product, special_terms="x" * 200_000)])
    job = upload(client, "orders.csv", huge, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.INVALID and "cannot be read" in job.errors[0]["message"], job.errors


def test_an_xlsx_that_unpacks_too_large_is_invalid(client, assistant, customer, product,
                                                   django_capture_on_commit_callbacks):
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([import_row(customer, product)])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr("xl/padding.bin", b"\0" * (order_imports.IMPORT_MAX_UNPACKED_BYTES + 1))  # a zip bomb's shape
    assert len(out.getvalue()) < order_imports.IMPORT_MAX_BYTES
    client.force_login(assistant)
    job = upload(client, "orders.xlsx", out.getvalue(), django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.INVALID and "unpacked" in job.errors[0]["message"], job.errors


def test_the_refusals_speak_chinese(api_client_for, api):
    body = assert_error(api.get(f"{API}/orders/?search=%00", HTTP_ACCEPT_LANGUAGE="zh-hans"), 400)
    assert "NUL 字符" in body["detail"]
    body = assert_error(api.post(f"{API}/orders/", data="[" * 40 + "]" * 40, content_type="application/json",
                                 HTTP_ACCEPT_LANGUAGE="zh-hans"), 400)
    assert "嵌套过深" in body["detail"]
