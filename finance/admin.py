"""Admin of finance (R3.5, R4.5), held to the roles (see :mod:`orderdesk.admin_base`).

Invoices and payments are price records as a whole (``orderdesk.roles.FIELD_CLASSES``):
only roles that see prices see them (production and logistics do not). Both are added through :mod:`finance.services`; nobody changes or
deletes them. The `settle` transition is a button on the order's page.
"""

from django.contrib import admin
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from finance import services
from finance.models import CreditNote, DepositWaiver, FollowUp, Installment, Invoice, Payment, PaymentTerms
from finance.selectors import visible_invoices
from orderdesk import roles
from orderdesk.admin_base import ReadOnlyInline, RoleScopedAdmin


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("received_on", "amount", "reference", "recorded_by", "recorded_at")


@admin.register(Invoice)
class InvoiceAdmin(RoleScopedAdmin):
    view_roles = roles.SEES_PRICES
    add_action = "invoice.create"
    add_fields = ("order", "amount", "due_date")
    order_choice_states = services.INVOICE_STATES
    list_display = (
        "__str__",
        "order",
        "amount",
        "paid_amount",
        "outstanding",
        "is_paid",
        "due_date",
        "issued_by",
        "issued_at",
    )
    list_select_related = ("order", "issued_by")
    search_fields = ("order__number",)
    fields = ("order", "amount", "paid_amount", "outstanding", "due_date", "issued_by", "issued_at")
    readonly_fields = ("outstanding",)
    inlines = (PaymentInline,)

    @admin.display(description=_("outstanding"))
    def outstanding(self, obj):
        return obj.outstanding if obj.pk else ""

    @admin.display(description=_("paid"), boolean=True)
    def is_paid(self, obj):
        return obj.is_paid

    def add_via_service(self, request, data):
        return services.create_invoice(
            user=request.user, order_id=data["order"].pk, amount=data["amount"], due_date=data["due_date"]
        )


@admin.register(Payment)
class PaymentAdmin(RoleScopedAdmin):
    view_roles = roles.SEES_PRICES
    order_field = "invoice__order"
    add_action = "payment.record"
    add_fields = ("invoice", "amount", "received_on", "reference")
    list_display = ("received_on", "invoice", "order", "amount", "reference", "recorded_by", "recorded_at")
    list_select_related = ("invoice__order", "recorded_by")
    search_fields = ("invoice__order__number", "reference")
    fields = ("invoice", "amount", "received_on", "reference", "recorded_by", "recorded_at")

    @admin.display(description=_("order"))
    def order(self, obj):
        return obj.invoice.order

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "invoice":
            kwargs["queryset"] = visible_invoices(request.user).filter(paid_amount__lt=F("amount"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def add_via_service(self, request, data):
        return services.record_payment(
            user=request.user,
            invoice_id=data["invoice"].pk,
            amount=data["amount"],
            received_on=data["received_on"],
            reference=data["reference"],
        )


class InstallmentInline(ReadOnlyInline):
    model = Installment
    fields = ("position", "percent", "trigger", "days")


@admin.register(PaymentTerms)
class PaymentTermsAdmin(RoleScopedAdmin):
    """Payment terms are created through :func:`finance.services.create_terms` (the API, seed_demo), which
    checks that the installments sum to 100 %; the admin shows them."""

    order_field = None
    view_roles = roles.SEES_PRICES
    list_display = ("name", "description", "is_active", "created_at")
    fields = ("name", "description", "is_active", "created_by", "created_at")
    inlines = (InstallmentInline,)


@admin.register(CreditNote)
class CreditNoteAdmin(RoleScopedAdmin):
    view_roles = roles.SEES_PRICES
    order_field = "invoice__order"
    list_display = ("__str__", "invoice", "amount", "reason", "issued_by", "issued_at")
    fields = ("invoice", "amount", "reason", "issued_by", "issued_at")


@admin.register(DepositWaiver)
class DepositWaiverAdmin(RoleScopedAdmin):
    view_roles = roles.SEES_PRICES
    list_display = ("order", "reason", "waived_by", "waived_at")
    fields = ("order", "reason", "waived_by", "waived_at")


@admin.register(FollowUp)
class FollowUpAdmin(RoleScopedAdmin):
    view_roles = roles.SEES_PRICES
    order_field = "invoice__order"
    list_display = ("invoice", "channel", "note", "promised_on", "recorded_by", "recorded_at")
    fields = ("invoice", "channel", "note", "promised_on", "recorded_by", "recorded_at")
