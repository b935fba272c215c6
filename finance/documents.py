"""Printed documents as PDF (WeasyPrint): the order confirmation, the delivery note (no prices) and the
invoice, each in the customer's language (``translation.override``) with a font stack that renders Chinese
("Noto Sans CJK SC"). Rendered on request (the pages under ``/orders/<id>/documents/`` and
``/finance/invoices/<id>.pdf``) and when the worker sends the customer's e-mail that announces them
(:func:`register_attachments`: the PDF is never stored in the outbox row)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

PDF = "application/pdf"


STYLESHEET = Path(__file__).resolve().parent / "pdf.css"


def _render(template: str, context: dict, language: str) -> bytes:
    from weasyprint import CSS, HTML

    with translation.override(language or settings.LANGUAGE_CODE):
        html = render_to_string(
            f"finance/pdf/{template}.html", {"today": timezone.localdate(), "language": language, **context}
        )
        return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])


def _language(order) -> str:
    return order.customer.language or settings.LANGUAGE_CODE


def _lines(order):
    return list(order.lines.select_related("product").order_by("position"))


def confirmation_pdf(order) -> bytes:
    return _render(
        "confirmation",
        {
            "order": order,
            "lines": _lines(order),
            "customer": order.customer,
            "terms": order.payment_terms,
            "installments": list(order.payment_terms.installments.all()) if order.payment_terms_id else [],
        },
        _language(order),
    )


def delivery_note_pdf(order, *, with_contact: bool = True) -> bytes:
    """No prices, whoever asks (logistics prints it); the address only for a reader who sees contacts."""
    shipment = order.shipments.order_by("-created_at", "-id").first() if hasattr(order, "shipments") else None
    return _render(
        "delivery_note",
        {
            "order": order,
            "lines": _lines(order),
            "customer": order.customer,
            "shipment": shipment,
            "with_contact": with_contact,
        },
        _language(order),
    )


def invoice_pdf(invoice) -> bytes:
    order = invoice.order
    return _render(
        "invoice",
        {
            "invoice": invoice,
            "order": order,
            "lines": _lines(order),
            "customer": order.customer,
            "payments": list(invoice.payments.all()),
            "credit_notes": list(invoice.credit_notes.all()),
        },
        _language(order),
    )


def filename(kind: str, order, invoice=None) -> str:
    if kind == "invoice":
        return f"{invoice.number}.pdf"
    return f"{order.number}-{kind}.pdf"


# --- attachments of the customer's e-mails (rendered by the worker at send time) ------------------------
def _confirmation_attachment(row):
    if row.order_id is None:
        return []
    return [(filename("confirmation", row.order), confirmation_pdf(row.order), PDF)]


def _delivery_note_attachment(row):
    if row.order_id is None:
        return []
    return [(filename("delivery-note", row.order), delivery_note_pdf(row.order), PDF)]


def _invoice_attachment(row):
    """The invoice of an ``invoiced`` e-mail: its dedupe key is ``invoice:<id>:customer:invoiced``."""
    from finance.models import Invoice

    head, _sep, rest = row.dedupe_key.partition(":")
    invoice_id = rest.partition(":")[0]
    if head != "invoice" or not invoice_id.isdigit():
        return []
    invoice = Invoice.objects.select_related("order__customer").filter(pk=int(invoice_id)).first()
    return [(filename("invoice", invoice.order, invoice), invoice_pdf(invoice), PDF)] if invoice else []


def register_attachments() -> None:
    from notifications import services as notifications

    notifications.register_attachment("customer_confirmed", _confirmation_attachment)
    notifications.register_attachment("customer_shipped", _delivery_note_attachment)
    notifications.register_attachment("customer_invoiced", _invoice_attachment)


def title(kind: str) -> str:
    return {"confirmation": _("Order confirmation"), "delivery-note": _("Delivery note"), "invoice": _("Invoice")}[kind]
