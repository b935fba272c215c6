"""Printed documents (issue 11): the order confirmation, the delivery note (no prices) and the invoice as PDF,
in the customer's language, with Chinese text; linked from the order page per role; attached to the
customer's e-mails by the worker when it sends them."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core import mail
from pypdf import PdfReader

from finance import documents, services
from notifications.models import EmailOutbox
from tests import factories
from tests.factories import Cast, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return Cast()


def text_of(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def chinese_order(cast, state="shipped", **kw):
    customer = factories.CustomerFactory(name="上海精密机械有限公司", language="zh-hans")
    product = factories.ProductFactory(name="不锈钢法兰")
    lines = [
        {
            "product": product,
            "specification": "DN50 PN16 304不锈钢",
            "quantity": Decimal("12"),
            "unit_price": Decimal("345.67"),
        }
    ]
    return make_order(state, cast=cast, customer=customer, lines=lines, **kw)


def test_confirmation_has_number_lines_totals_and_chinese(cast):
    order = chinese_order(cast)
    text = text_of(documents.confirmation_pdf(order))
    for expected in (order.number, "上海精密机械有限公司", "不锈钢法兰", "DN50 PN16 304不锈钢", "345.67", "订单确认"):
        assert expected in text, (expected, text)
    assert "4148.04" in text.replace(",", "")  # the line and the order total


def test_the_delivery_note_carries_no_price(cast):
    order = chinese_order(cast)
    text = text_of(documents.delivery_note_pdf(order))
    assert order.number in text and "不锈钢法兰" in text and "12" in text
    for price in ("345.67", "4148.04"):
        assert price not in text.replace(",", "")


def test_invoice_in_the_customers_language(cast):
    order = chinese_order(cast, state="accepted")
    order.customer.language = "en"
    order.customer.save()
    invoice = services.create_invoice(
        user=cast.finance_specialist, order_id=order.pk, amount=Decimal("1000.00"), due_date=factories.days(30)
    )
    text = text_of(documents.invoice_pdf(invoice))
    for expected in (f"INV-{invoice.pk}", order.number, "Invoice", "1,000.00", "4,148.04", "不锈钢法兰"):
        assert expected in text, (expected, text)


@pytest.mark.parametrize(
    ("role", "confirmation", "delivery_note", "invoice"),
    [
        ("sales_assistant", 200, 200, 200),
        ("finance_specialist", 200, 200, 200),
        ("auditor", 200, 200, 200),
        ("logistics_specialist", 404, 200, 404),
        ("production_supervisor", 404, 200, 404),
    ],
)
def test_documents_follow_the_roles(cast, client, role, confirmation, delivery_note, invoice):
    order = chinese_order(cast)
    inv = services.create_invoice(
        user=cast.finance_specialist, order_id=order.pk, amount=Decimal("10.00"), due_date=factories.days(30)
    )
    client.force_login(getattr(cast, role))
    base = f"/orders/{order.pk}/documents/"
    got = (
        client.get(base + "confirmation.pdf").status_code,
        client.get(base + "delivery-note.pdf").status_code,
        client.get(f"/finance/invoices/{inv.pk}.pdf").status_code,
    )
    assert got == (confirmation, delivery_note, invoice)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert ("delivery-note.pdf" in page) and (("confirmation.pdf" in page) == (confirmation == 200))
    assert (f"/finance/invoices/{inv.pk}.pdf" in page) == (invoice == 200)
    if delivery_note == 200:
        text = text_of(client.get(base + "delivery-note.pdf").content)
        assert "345.67" not in text
        assert (order.delivery_address in text) == (role != "production_supervisor")


def test_customer_emails_carry_the_documents_rendered_at_send_time(cast, django_capture_on_commit_callbacks):
    t = services.create_terms(
        user=cast.finance_manager,
        name="deposit",
        installments=[
            {"percent": "50", "trigger": "approval", "days": 0},
            {"percent": "50", "trigger": "acceptance", "days": 30},
        ],
    )
    customer = factories.CustomerFactory(payment_terms=t, name="客户甲")
    order = make_order("received", cast=cast, customer=customer, submitted=True)
    with django_capture_on_commit_callbacks(execute=True):
        factories.run(order, "approve", cast.sales_manager, comment="ok")
    rows = {r.kind: r for r in EmailOutbox.objects.filter(order=order, recipient=customer.email)}
    assert set(rows) == {"customer_confirmed", "customer_invoiced"}
    assert all(not hasattr(r, "attachment") for r in rows.values())  # nothing stored: rendered when sent
    sent = {m.subject: m for m in mail.outbox if m.to == [customer.email]}
    by_kind = {kind: sent[row.subject] for kind, row in rows.items()}
    ((name, content, mimetype),) = by_kind["customer_confirmed"].attachments
    assert name == f"{order.number}-confirmation.pdf" and mimetype == "application/pdf"
    assert order.number in text_of(content)
    invoice = order.invoices.get()
    ((name, content, _mimetype),) = by_kind["customer_invoiced"].attachments
    assert name == f"INV-{invoice.pk}.pdf" and f"INV-{invoice.pk}" in text_of(content)
