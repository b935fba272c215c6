"""Import of orders from CSV or Excel (R4.1): upload, preview with per-row errors, all-or-nothing commit."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.imports import IMPORT_COLUMNS
from orders.models import ImportJob, Order
from tests import factories

pytestmark = pytest.mark.django_db


def sheet_rows(customer, products, *, when=None, overrides=None):
    when = when or factories.days(60).isoformat()
    rows = []
    for ref, product in (("A", products[0]), ("A", products[1]), ("B", products[0])):
        row = {"order_ref": ref, "customer": customer.code, "channel": "email", "contact_name": "Li",
               "contact_phone": "123", "delivery_address": "Road 1", "requested_delivery_date": when,
               "special_terms": "", "product": product.sku, "specification": "spec", "quantity": "3",
               "unit_price": "12.50"}
        rows.append(row)
    for (index, column), value in (overrides or {}).items():
        rows[index][column] = value
    return rows


def as_csv(rows) -> SimpleUploadedFile:
    lines = [",".join(IMPORT_COLUMNS)] + [",".join(str(r[c]) for c in IMPORT_COLUMNS) for r in rows]
    return SimpleUploadedFile("orders.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")


def as_xlsx(rows) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(IMPORT_COLUMNS))
    for r in rows:
        sheet.append([r[c] for c in IMPORT_COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("orders.xlsx", buffer.getvalue())


def upload(client, file, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("orders:import"), {"file": file})
    return response


@pytest.mark.parametrize("make", [as_csv, as_xlsx])
def test_import_preview_then_commit_all(client, sales_assistant, django_capture_on_commit_callbacks, make):
    customer = factories.CustomerFactory()
    products = [factories.ProductFactory(), factories.ProductFactory()]
    client.force_login(sales_assistant)
    response = upload(client, make(sheet_rows(customer, products)), django_capture_on_commit_callbacks)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.READY and job.total_rows == 3 and job.percent == 100
    status = client.get(reverse("orders:import_status", args=[job.pk])).json()
    assert status["finished"] and status["percent"] == 100
    html = client.get(response.url).content.decode()
    assert 'id="import-preview"' in html and 'id="import-commit"' in html
    assert Order.objects.count() == 0  # nothing until committed
    response = client.post(reverse("orders:import_commit", args=[job.pk]))
    assert response.status_code == 302
    orders = Order.objects.order_by("number")
    assert orders.count() == 2 and orders[0].lines.count() == 2 and orders[0].assistant == sales_assistant
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and sorted(job.order_ids) == sorted(o.pk for o in orders)
    # a second commit changes nothing
    assert client.post(reverse("orders:import_commit", args=[job.pk])).status_code == 409
    assert Order.objects.count() == 2


def test_import_lists_errors_per_row_and_imports_nothing(client, sales_assistant, django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory()
    products = [factories.ProductFactory(), factories.ProductFactory()]
    rows = sheet_rows(customer, products, overrides={(1, "quantity"): "abc", (2, "customer"): "NOPE",
                                                    (2, "requested_delivery_date"): "2020-01-01"})
    client.force_login(sales_assistant)
    upload(client, as_csv(rows), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.INVALID
    assert {(e["row"], e["field"]) for e in job.errors} == {
        (3, "quantity"), (4, "customer"), (4, "requested_delivery_date")}
    html = client.get(reverse("orders:import_detail", args=[job.pk])).content.decode()
    assert 'id="import-errors"' in html and 'id="import-commit"' not in html
    assert client.post(reverse("orders:import_commit", args=[job.pk])).status_code == 409
    assert Order.objects.count() == 0


def test_commit_is_all_or_nothing(client, sales_assistant, django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory()
    products = [factories.ProductFactory(), factories.ProductFactory()]
    client.force_login(sales_assistant)
    upload(client, as_csv(sheet_rows(customer, products)), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    # between the check and the commit the second order's product is withdrawn
    products[0].is_active = False
    products[0].save()
    response = client.post(reverse("orders:import_commit", args=[job.pk]))
    assert response.status_code == 400
    assert Order.objects.count() == 0
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.errors


@pytest.mark.parametrize("file", [
    SimpleUploadedFile("orders.txt", b"hello"),
    SimpleUploadedFile("orders.xlsx", b"not a workbook"),
    SimpleUploadedFile("orders.csv", b"a,b,c\n1,2,3\n"),
    SimpleUploadedFile("orders.csv", b""),
    SimpleUploadedFile("orders.csv", b"\xff\xfe\x00garbage\x81"),
])
def test_bad_files_never_500(client, sales_assistant, django_capture_on_commit_callbacks, file):
    client.force_login(sales_assistant)
    response = upload(client, file, django_capture_on_commit_callbacks)
    assert response.status_code in (302, 400)
    for job in ImportJob.objects.all():
        assert job.status == ImportJob.Status.INVALID and job.errors
        assert client.get(reverse("orders:import_detail", args=[job.pk])).status_code == 200
    assert Order.objects.count() == 0


def test_missing_file_and_roles_and_scope(client, sales_assistant, sales_assistant2, production_supervisor,
                                          django_capture_on_commit_callbacks):
    client.force_login(sales_assistant)
    assert client.post(reverse("orders:import"), {}).status_code == 400
    customer = factories.CustomerFactory()
    products = [factories.ProductFactory(), factories.ProductFactory()]
    upload(client, as_csv(sheet_rows(customer, products)), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    client.force_login(sales_assistant2)
    assert client.get(reverse("orders:import_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("orders:import_status", args=[job.pk])).status_code == 404
    assert client.post(reverse("orders:import_commit", args=[job.pk])).status_code == 404
    client.force_login(production_supervisor)
    assert client.get(reverse("orders:import")).status_code == 403
    assert Order.objects.count() == 0


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_template_downloads(client, sales_assistant, kind):
    factories.CustomerFactory(), factories.ProductFactory()
    client.force_login(sales_assistant)
    response = client.get(reverse("orders:import_template", args=[kind]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    if kind == "csv":
        assert response.content.decode("utf-8-sig").splitlines()[0] == ",".join(IMPORT_COLUMNS)
    else:
        assert list(next(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)) == list(IMPORT_COLUMNS)
    assert client.get("/orders/import/template.exe").status_code == 404
