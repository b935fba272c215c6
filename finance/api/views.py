"""Endpoints of finance (DESIGN §6): invoices and payments.

Thin views over :mod:`finance.services` (writes, permission, scope) and
:mod:`finance.selectors` (roles that may not see prices see no invoices: 404).
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from finance import selectors, services
from finance.api import serializers as s
from finance.models import Invoice, Payment
from orderdesk.viewsets import APIViewSet


class InvoiceFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("order (id)"))

    class Meta:
        model = Invoice
        fields = ()


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = s.InvoiceSerializer
    filterset_class = InvoiceFilter

    def get_queryset(self):
        return selectors.visible_invoices(self.request.user).order_by("-issued_at", "-id")

    @extend_schema(request=s.InvoiceInputSerializer, responses={201: s.InvoiceSerializer},
                   summary=_("Issue an invoice for an order"))
    def create(self, request, *args, **kwargs):
        serializer = s.InvoiceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invoice = services.create_invoice(user=request.user, order_id=data["order"], amount=data["amount"],
                                          due_date=data["due_date"])
        return Response(s.InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)


class PaymentFilter(django_filters.FilterSet):
    invoice = django_filters.NumberFilter(field_name="invoice_id", label=_("invoice (id)"))
    order = django_filters.NumberFilter(field_name="invoice__order_id", label=_("order (id)"))

    class Meta:
        model = Payment
        fields = ()


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = s.PaymentSerializer
    filterset_class = PaymentFilter

    def get_queryset(self):
        return selectors.visible_payments(self.request.user).order_by("-received_on", "-id")

    @extend_schema(request=s.PaymentInputSerializer, responses={201: s.PaymentSerializer},
                   summary=_("Record a payment received against an invoice"))
    def create(self, request, *args, **kwargs):
        serializer = s.PaymentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payment = services.record_payment(user=request.user, invoice_id=data["invoice"], amount=data["amount"],
                                          received_on=data["received_on"], reference=data["reference"])
        return Response(s.PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)
