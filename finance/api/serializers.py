"""Serializers of finance's API (R3.5, R4.5): payment terms, invoices, receivables, credit notes, payments,
deposit waivers and follow-ups."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from finance.models import CreditNote, DepositWaiver, FollowUp, Installment, Invoice, Payment, PaymentTerms, Trigger
from orderdesk.api import RoleFieldsMixin


class InstallmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Installment
        fields = ("position", "percent", "trigger", "days")
        read_only_fields = fields


class PaymentTermsSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    installments = InstallmentSerializer(many=True, read_only=True)

    class Meta:
        model = PaymentTerms
        fields = ("id", "name", "description", "is_active", "installments", "created_at")
        read_only_fields = fields


class InstallmentInputSerializer(serializers.Serializer):
    percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal("100")
    )
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    days = serializers.IntegerField(min_value=0, max_value=3650, default=0)


class PaymentTermsInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    installments = InstallmentInputSerializer(many=True, allow_empty=False)


class InvoiceSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    outstanding = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    is_paid = serializers.BooleanField(read_only=True)
    # "" for an invoice typed by hand (no installment); declared so the schema's enum admits it
    trigger = serializers.ChoiceField(choices=Trigger.choices, allow_blank=True, read_only=True)
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = (
            "id",
            "number",
            "order",
            "order_number",
            "amount",
            "due_date",
            "paid_amount",
            "credited_amount",
            "outstanding",
            "is_paid",
            "source",
            "trigger",
            "installment",
            "issued_by",
            "issued_at",
            "pdf_url",
        )
        read_only_fields = fields

    def get_pdf_url(self, obj) -> str:
        return f"/finance/invoices/{obj.pk}.pdf"


class ReceivableSerializer(InvoiceSerializer):
    customer = serializers.IntegerField(source="order.customer_id", read_only=True)
    customer_name = serializers.CharField(source="order.customer.name", read_only=True)
    assistant = serializers.IntegerField(source="order.assistant_id", read_only=True)
    days_overdue = serializers.IntegerField(read_only=True)
    bucket = serializers.CharField(read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = (
            "id",
            "number",
            "order",
            "order_number",
            "customer",
            "customer_name",
            "assistant",
            "amount",
            "paid_amount",
            "credited_amount",
            "outstanding",
            "due_date",
            "days_overdue",
            "bucket",
            "source",
            "trigger",
            "issued_at",
            "pdf_url",
        )
        read_only_fields = fields


class ReceivableQuerySerializer(serializers.Serializer):
    customer = serializers.IntegerField(required=False, min_value=1)
    assistant = serializers.IntegerField(required=False, min_value=1)
    bucket = serializers.ChoiceField(choices=["current", "1-30", "31-60", "61-90", "90+"], required=False)


class InvoiceInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    due_date = serializers.DateField()


class CreditNoteSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    order = serializers.IntegerField(source="invoice.order_id", read_only=True)

    class Meta:
        model = CreditNote
        fields = ("id", "invoice", "order", "amount", "reason", "issued_by", "issued_at")
        read_only_fields = fields


class CreditNoteInputSerializer(serializers.Serializer):
    invoice = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    reason = serializers.CharField(max_length=2000)


class PaymentSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    order = serializers.IntegerField(source="invoice.order_id", read_only=True)

    class Meta:
        model = Payment
        fields = ("id", "invoice", "order", "amount", "received_on", "reference", "recorded_by", "recorded_at")
        read_only_fields = fields


class PaymentInputSerializer(serializers.Serializer):
    invoice = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    received_on = serializers.DateField()
    reference = serializers.CharField(max_length=100)


class DepositWaiverSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = DepositWaiver
        fields = ("id", "order", "reason", "waived_by", "waived_at")
        read_only_fields = fields


class DepositWaiverInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    reason = serializers.CharField(max_length=2000)


@extend_schema_serializer(component_name="ReceivableFollowUp")  # feedback's phone follow-ups are "FollowUp"
class FollowUpSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    order = serializers.IntegerField(source="invoice.order_id", read_only=True)

    class Meta:
        model = FollowUp
        fields = ("id", "invoice", "order", "channel", "note", "promised_on", "recorded_by", "recorded_at")
        read_only_fields = fields


@extend_schema_serializer(component_name="ReceivableFollowUpInput")
class FollowUpInputSerializer(serializers.Serializer):
    invoice = serializers.IntegerField()
    channel = serializers.ChoiceField(choices=FollowUp.Channel.choices)
    note = serializers.CharField(max_length=2000)
    promised_on = serializers.DateField(required=False, allow_null=True, default=None)
