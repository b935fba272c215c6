"""Formula injection (OWASP "CSV injection"): no export writes a live formula (issue 9).

Formula-leading values are planted in every user-text field an export carries (customer name,
contact, address, specification, comments, usernames, imported cells), every export is read back
with the csv module / openpyxl, and no cell may begin with ``= + - @``, a tab or a carriage return,
nor may any XLSX cell be a formula (``data_type == "f"``). Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orderdesk import exports
from orders import imports as order_imports, services
from orders.models import ImportJob, Order
from tests import factories
from tests.factories import Cast, make_order, run

pytestmark = pytest.mark.django_db

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "-2+3*cmd", "@SUM(A1)", "\t=1", "\r=1"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("value", PAYLOADS)
def test_safe_cell_quotes_formula_leading_text(value):
    assert exports.safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", [Decimal("-12.50"), -3, 2.5, 0])
def test_safe_cell_keeps_real_numbers(value):
    assert exports.safe_cell(value) == value


def test_safe_cell_leaves_plain_text_and_none():
    assert exports.safe_cell("Li Lei") == "Li Lei"
    assert exports.safe_cell(None) == ""
    assert exports.safe_cell("a=1") == "a=1"


def _csv_cells(content: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.lstrip("\ufeff"), newline="")))


def _assert_csv_safe(rows, planted) -> None:
    cells = [cell for row in rows for cell in row]
    bad = [c for c in cells if c.startswith(FORMULA_START)]
    assert not bad, bad
    for value in planted:  # the planted values are there, neutralised (the test is not vacuous)
        assert any(c.startswith("'") and value.strip() in c for c in cells), (value, cells)


def _assert_xlsx_safe(content: bytes, planted) -> list:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert not formulas, formulas
    texts = [c.value for c in cells if isinstance(c.value, str)]
    bad = [t for t in texts if t.startswith(FORMULA_START)]
    assert not bad, bad
    for value in planted:
        assert any(t.startswith("'") and value.strip() in t for t in texts), (value, texts)
    return cells


@pytest.fixture
def planted(sales_assistant, sales_manager):
    """Orders whose customer, contact, address, lines, assistant name, edits and comments are formulas."""
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    sales_assistant.first_name = "=cmd|' /C calc'!A0"
    sales_assistant.save(update_fields=["first_name"])
    orders = []
    for i, value in enumerate(PAYLOADS):
        customer = factories.CustomerFactory(name=value, contact_name=value, contact_phone=value, address=value)
        product = factories.ProductFactory()
        lines = [{"product": product, "specification": value, "quantity": Decimal("2"),
                  "unit_price": Decimal("10.00")}]
        order = make_order("received", cast=cast, customer=customer, lines=lines)
        services.update_order(user=sales_assistant, order_id=order.pk, data={"contact_name": value + str(i)})
        run(order, "submit", sales_assistant, comment=value)
        orders.append(order)
    return orders


def test_the_order_list_csv_neutralises_every_formula(client, sales_manager, planted):
    client.force_login(sales_manager)
    response = client.get(reverse("orders:list"), {"export": "csv"})
    assert response.status_code == 200
    rows = _csv_cells(b"".join(response.streaming_content).decode("utf-8"))
    assert len(rows) == 1 + len(planted)
    _assert_csv_safe(rows, PAYLOADS)
    total = rows[0].index("Total")
    assert {r[total] for r in rows[1:]} == {"20.00"}  # amounts stay plain numbers


def test_the_order_list_xlsx_writes_text_as_text(client, sales_manager, planted):
    client.force_login(sales_manager)
    response = client.get(reverse("orders:list"), {"export": "xlsx"})
    assert response.status_code == 200
    cells = _assert_xlsx_safe(response.content, PAYLOADS)
    header = [c.value for c in cells[: len(cells) // (1 + len(planted))]]
    totals = [c for c in cells if c.column == header.index("Total") + 1 and c.row > 1]
    assert totals and all(c.data_type == "n" and c.value == 20 for c in totals)  # numbers stay numbers


def test_the_audit_csv_neutralises_changes_and_comments(client, auditor, planted):
    client.force_login(auditor)
    response = client.get("/supervision/audit/", {"format": "csv"})
    assert response.status_code == 200
    rows = _csv_cells(b"".join(response.streaming_content).decode("utf-8"))
    _assert_csv_safe(rows, PAYLOADS)


def test_the_kpi_csv_neutralises_usernames(client, sales_manager):
    assistant = factories.user_with_role("sales_assistant", username="@SUM(A1)")
    order = make_order("received", assistant=assistant)
    run(order, "submit", assistant)
    client.force_login(sales_manager)
    response = client.get("/supervision/kpis/export.csv")
    assert response.status_code == 200
    rows = _csv_cells(response.content.decode("utf-8"))
    _assert_csv_safe(rows, ["@SUM(A1)"])


def test_imported_formula_cells_are_neutralised_in_every_export(client, sales_assistant, sales_manager,
                                                                django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory()
    product = factories.ProductFactory()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(order_imports.IMPORT_COLUMNS))
    for i, value in enumerate(PAYLOADS):
        sheet.append([f"R{i}", customer.code, "email", value, value, value, factories.days(60).isoformat(), value,
                      product.sku, value, "1", "5.00"])
    for row in sheet.iter_rows():
        for cell in row:
            cell.data_type = "s"  # typed-in text, as a user's sheet holds it (not a formula openpyxl computes)
    buffer = io.BytesIO()
    book.save(buffer)
    client.force_login(sales_assistant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("orders:import"), {"file": SimpleUploadedFile("o.xlsx", buffer.getvalue())})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.READY, job.errors
    assert client.post(reverse("orders:import_commit", args=[job.pk])).status_code == 302
    assert Order.objects.count() == len(PAYLOADS)
    client.force_login(sales_manager)
    rows = _csv_cells(b"".join(client.get(reverse("orders:list"), {"export": "csv"}).streaming_content).decode())
    _assert_csv_safe(rows, PAYLOADS)
    _assert_xlsx_safe(client.get(reverse("orders:list"), {"export": "xlsx"}).content, PAYLOADS)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_import_template_neutralises_catalogue_text(client, sales_assistant, kind):
    factories.CustomerFactory(code="=C1")
    factories.ProductFactory(sku="+SKU", specification="-spec")
    client.force_login(sales_assistant)
    response = client.get(reverse("orders:import_template", args=[kind]))
    assert response.status_code == 200
    if kind == "csv":
        _assert_csv_safe(_csv_cells(response.content.decode("utf-8")), ["=C1", "+SKU", "-spec"])
    else:
        _assert_xlsx_safe(response.content, ["=C1", "+SKU", "-spec"])


def test_xlsx_drops_characters_xml_cannot_hold(client, sales_manager):
    make_order("received", customer=factories.CustomerFactory(name="Bad\x01Name"))
    client.force_login(sales_manager)
    response = client.get(reverse("orders:list"), {"export": "xlsx"})
    assert response.status_code == 200
    values = [c.value for row in openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows()
              for c in row]
    assert "BadName" in values
