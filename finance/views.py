"""Finance's pages (R3.5, R4.5).

On the order page: forms posting to their own URL under `/orders/<id>/` that write through
:mod:`finance.services` after the same rule its panel asks (see :func:`orders.views.detail.department_write`),
and the printed documents (`/orders/<id>/documents/confirmation.pdf`, `.../delivery-note.pdf`).
The workspace `/finance/` (invoices to issue, receivables with ageing per customer and per assistant, a bar
chart of the buckets, payments to record, orders ready to settle, terms; each list exports CSV),
`/finance/receivables/` (an assistant's own receivables to follow up) and `/finance/invoices/<id>.pdf`.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from finance import documents, exports, selectors, services
from finance.forms import CreditNoteForm, FollowUpForm, InvoiceForm, OrderTermsForm, PaymentForm, WaiverForm
from orderdesk import roles
from orders.views.detail import department_write, get_order


def _money(value) -> str:
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


# --- forms of the order page -----------------------------------------------------------------------
@login_required
@require_POST
def invoice_add(request, pk: int):
    def call(order, forms):
        data = forms["invoice"].cleaned_data
        invoice = services.create_invoice(
            user=request.user, order_id=order.pk, amount=data["amount"], due_date=data["due_date"]
        )
        return _("Invoice INV-%(id)s of %(amount)s was issued.") % {"id": invoice.pk, "amount": _money(invoice.amount)}

    return department_write(
        request,
        pk,
        key="invoice",
        check=lambda order: services.check_invoice(request.user, order),
        bind=lambda order: {"invoice": InvoiceForm(request.POST)},
        call=call,
    )


def _payable(order):
    return [i for i in order.invoices.all() if i.outstanding > 0]


@login_required
@require_POST
def payment_add(request, pk: int):
    def call(order, forms):
        data = forms["payment"].cleaned_data
        services.record_payment(
            user=request.user,
            invoice_id=data["invoice"],
            amount=data["amount"],
            received_on=data["received_on"],
            reference=data["reference"],
        )
        return _("The payment was recorded against INV-%(id)s.") % {"id": data["invoice"]}

    return department_write(
        request,
        pk,
        key="payment",
        check=lambda order: services.check_payment(request.user, order),
        bind=lambda order: {"payment": PaymentForm(request.POST, invoices=_payable(order))},
        call=call,
    )


@login_required
@require_POST
def credit_note_add(request, pk: int):
    def call(order, forms):
        data = forms["credit"].cleaned_data
        note = services.create_credit_note(
            user=request.user, invoice_id=data["invoice"], amount=data["amount"], reason=data["reason"]
        )
        return _("Credit note %(number)s of %(amount)s was issued.") % {
            "number": note.number,
            "amount": _money(note.amount),
        }

    return department_write(
        request,
        pk,
        key="credit",
        check=lambda order: services.check_credit_note(request.user, order),
        bind=lambda order: {"credit": CreditNoteForm(request.POST, invoices=_payable(order))},
        call=call,
    )


@login_required
@require_POST
def order_terms(request, pk: int):
    def call(order, forms):
        terms = forms["terms"].cleaned_data["payment_terms"]
        services.set_order_terms(user=request.user, order_id=order.pk, terms=terms)
        return _("The payment terms are now: %(terms)s.") % {"terms": terms or _("none")}

    return department_write(
        request,
        pk,
        key="terms",
        check=lambda order: services.check_order_terms(request.user, order),
        bind=lambda order: {"terms": OrderTermsForm(request.POST)},
        call=call,
    )


@login_required
@require_POST
def deposit_waive(request, pk: int):
    def call(order, forms):
        services.waive_deposit(user=request.user, order_id=order.pk, reason=forms["waiver"].cleaned_data["reason"])
        return _("The deposit gate is waived; production may start.")

    return department_write(
        request,
        pk,
        key="waiver",
        check=lambda order: services.check_waiver(request.user, order),
        bind=lambda order: {"waiver": WaiverForm(request.POST)},
        call=call,
    )


@login_required
@require_POST
def follow_up_add(request, pk: int):
    def call(order, forms):
        data = forms["follow_up"].cleaned_data
        services.log_follow_up(
            user=request.user,
            invoice_id=data["invoice"],
            channel=data["channel"],
            note=data["note"],
            promised_on=data["promised_on"],
        )
        return _("The follow-up was logged.")

    return department_write(
        request,
        pk,
        key="follow_up",
        check=lambda order: services.check_follow_up(request.user, order),
        bind=lambda order: {"follow_up": FollowUpForm(request.POST, invoices=_payable(order))},
        call=call,
    )


# --- printed documents -----------------------------------------------------------------------------
def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=documents.PDF)
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def document(request, pk: int, kind: str):
    """`/orders/<id>/documents/confirmation.pdf` (roles that read prices) and `.../delivery-note.pdf`
    (no prices; the address for roles that see contacts), in the customer's language."""
    order = get_order(request.user, pk)
    available = documents_available(request.user, order)
    if kind not in available or not available[kind]:
        raise Http404
    if kind == "confirmation":
        content = documents.confirmation_pdf(order)
    else:
        content = documents.delivery_note_pdf(order, with_contact=roles.sees_customer_contact(request.user))
    return _pdf(content, documents.filename(kind, order))


def documents_available(user, order) -> dict:
    from finance.panels import documents as panel_documents

    found = panel_documents(order=order, user=user, forms={})["documents"]
    return {"confirmation": found["confirmation"], "delivery-note": found["delivery_note"]}


@login_required
def invoice_pdf(request, pk: int):
    invoice = selectors.visible_invoices(request.user).select_related("order__customer").filter(pk=pk).first()
    if invoice is None:
        raise Http404
    return _pdf(documents.invoice_pdf(invoice), documents.filename("invoice", invoice.order, invoice))


# --- the workspace ---------------------------------------------------------------------------------
def _require_receivables(user):
    if not roles.may(user, "receivables.view") or roles.is_record_hidden(user, "finance.Receivable"):
        raise PermissionDenied(_("Your role does not see receivables."))


LIMIT = 50


@login_required
def workspace(request):
    """`/finance/`: what finance works on; an assistant is sent their own receivables."""
    user = request.user
    _require_receivables(user)
    if not roles.has_role(user, *roles.FINANCE, roles.Role.SALES_MANAGER, roles.Role.AUDITOR) and not user.is_superuser:
        return receivables_page(request)
    today = timezone.localdate()
    open_invoices = selectors.receivables(user, today=today)
    totals = selectors.bucket_totals(open_invoices, today=today)
    context = {
        "totals": totals,
        "buckets": selectors.BUCKETS,
        "bars": selectors.bars(totals),
        "by_customer": selectors.ageing_by(open_invoices, "customer", today=today)[:LIMIT],
        "by_assistant": selectors.ageing_by(open_invoices, "assistant", today=today)[:LIMIT],
        "overdue": list(open_invoices.filter(due_date__lt=today)[:LIMIT]),
        "to_issue": list(selectors.invoices_to_issue(user)[:LIMIT]),
        "to_record": list(open_invoices[:LIMIT]),
        "to_settle": list(selectors.orders_ready_to_settle(user)[:LIMIT]),
        "terms": list(selectors.visible_terms(user)),
        "limit": LIMIT,
    }
    return render(request, "finance/workspace.html", context)


@login_required
def receivables_page(request):
    """`/finance/receivables/`: the open invoices of the caller's scope (an assistant: their own orders) with
    their follow-ups, to chase what is due (R4.5)."""
    user = request.user
    _require_receivables(user)
    today = timezone.localdate()
    open_invoices = selectors.receivables(user, today=today)
    rows = list(open_invoices[:200])
    follow_ups = {}
    for item in selectors.visible_follow_ups(user).filter(invoice__in=[r.pk for r in rows]):
        follow_ups.setdefault(item.invoice_id, []).append(item)
    for row in rows:
        row.follow_up_list = follow_ups.get(row.pk, [])
    totals = selectors.bucket_totals(open_invoices, today=today)
    return render(
        request,
        "finance/receivables.html",
        {
            "rows": rows,
            "totals": totals,
            "buckets": selectors.BUCKETS,
            "bars": selectors.bars(totals),
        },
    )


@login_required
def export(request, what: str):
    user = request.user
    _require_receivables(user)
    if what not in exports.EXPORTS:
        raise Http404
    return exports.EXPORTS[what](user)
