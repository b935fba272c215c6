"""Serializers of finance's API (R3.5, R4.5): invoices and payments."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from finance.models import Invoice, Payment
from orderdesk.api import RoleFieldsMixin


class InvoiceSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    outstanding = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    is_paid = serializers.BooleanField(read_only=True)

    class Meta:
        model = Invoice
        fields = ("id", "order", "order_number", "amount", "due_date", "paid_amount", "outstanding", "is_paid",
                  "issued_by", "issued_at")
        read_only_fields = fields


class InvoiceInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    due_date = serializers.DateField()


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
