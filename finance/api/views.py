"""Endpoints of finance (DESIGN §6, §6b): payment terms, invoices, receivables, credit notes, payments,
deposit waivers and follow-ups.

Thin views over :mod:`finance.services` (writes, permission, scope) and
:mod:`finance.selectors` (roles that may not see prices see no invoices: 404).
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers as drf, status
from rest_framework.exceptions import NotFound as DRFNotFound, PermissionDenied
from rest_framework.response import Response

from finance import selectors, services
from finance.api import serializers as s
from finance.models import CreditNote, DepositWaiver, FollowUp, Invoice, Payment
from orderdesk import roles
from orderdesk.viewsets import APIViewSet


class PaymentTermsViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """`GET, POST /api/v1/finance/terms/`: payment terms as data (installments summing to 100 %)."""

    serializer_class = s.PaymentTermsSerializer

    def get_queryset(self):
        return selectors.visible_terms(self.request.user).order_by("name", "id")

    @extend_schema(
        request=s.PaymentTermsInputSerializer,
        responses={201: s.PaymentTermsSerializer},
        summary=_("Create payment terms"),
    )
    def create(self, request, *args, **kwargs):
        if not roles.may(request.user, "terms.manage"):
            raise PermissionDenied()
        serializer = s.PaymentTermsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        terms = services.create_terms(
            user=request.user,
            name=data["name"],
            description=data["description"],
            installments=[dict(i) for i in data["installments"]],
        )
        return Response(
            s.PaymentTermsSerializer(terms, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


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

    @extend_schema(
        request=s.InvoiceInputSerializer,
        responses={201: s.InvoiceSerializer},
        summary=_("Issue an invoice for an order"),
    )
    def create(self, request, *args, **kwargs):
        serializer = s.InvoiceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invoice = services.create_invoice(
            user=request.user, order_id=data["order"], amount=data["amount"], due_date=data["due_date"]
        )
        return Response(s.InvoiceSerializer(invoice, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ReceivableViewSet(mixins.ListModelMixin, APIViewSet):
    """`GET /api/v1/finance/receivables/?customer=&assistant=&bucket=`: open invoices with `days_overdue` and
    `bucket`, and `totals` per bucket (an assistant: their own orders')."""

    serializer_class = s.ReceivableSerializer
    filter_backends = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema
            return Invoice.objects.none()
        user = self.request.user
        if not roles.may(user, "receivables.view") or roles.is_record_hidden(user, "finance.Receivable"):
            raise DRFNotFound()
        query = s.ReceivableQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.receivables(user, **query.validated_data)

    @extend_schema(
        parameters=[s.ReceivableQuerySerializer],
        responses={
            200: inline_serializer(
                "ReceivableList",
                {
                    "count": drf.IntegerField(),
                    "next": drf.CharField(allow_null=True),
                    "previous": drf.CharField(allow_null=True),
                    "results": s.ReceivableSerializer(many=True),
                    "totals": drf.DictField(child=drf.DecimalField(max_digits=16, decimal_places=2)),
                },
            ),
        },
        summary=_("Open receivables with their ageing"),
    )
    def list(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        response.data["totals"] = {k: str(v) for k, v in selectors.bucket_totals(queryset).items()}
        return response


class CreditNoteViewSet(mixins.ListModelMixin, APIViewSet):
    serializer_class = s.CreditNoteSerializer

    def get_queryset(self):
        user = self.request.user
        if roles.is_record_hidden(user, CreditNote):
            return CreditNote.objects.none()
        return CreditNote.objects.filter(invoice__in=selectors.visible_invoices(user)).order_by("-issued_at", "-id")

    @extend_schema(
        request=s.CreditNoteInputSerializer,
        responses={201: s.CreditNoteSerializer},
        summary=_("Credit part of an invoice (a cancelled or reduced order)"),
    )
    def create(self, request, *args, **kwargs):
        serializer = s.CreditNoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        note = services.create_credit_note(
            user=request.user, invoice_id=data["invoice"], amount=data["amount"], reason=data["reason"]
        )
        return Response(s.CreditNoteSerializer(note, context={"request": request}).data, status=status.HTTP_201_CREATED)


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

    @extend_schema(
        request=s.PaymentInputSerializer,
        responses={201: s.PaymentSerializer},
        summary=_("Record a payment received against an invoice"),
    )
    def create(self, request, *args, **kwargs):
        serializer = s.PaymentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payment = services.record_payment(
            user=request.user,
            invoice_id=data["invoice"],
            amount=data["amount"],
            received_on=data["received_on"],
            reference=data["reference"],
        )
        return Response(s.PaymentSerializer(payment, context={"request": request}).data, status=status.HTTP_201_CREATED)


class DepositWaiverViewSet(mixins.ListModelMixin, APIViewSet):
    """`POST /api/v1/finance/deposit-waivers/` `{"order", "reason"}`: a finance manager lifts the deposit gate."""

    serializer_class = s.DepositWaiverSerializer

    def get_queryset(self):
        user = self.request.user
        if roles.is_record_hidden(user, DepositWaiver):
            return DepositWaiver.objects.none()
        from orders.selectors import visible_orders

        return DepositWaiver.objects.filter(order__in=visible_orders(user)).order_by("-waived_at", "-id")

    @extend_schema(
        request=s.DepositWaiverInputSerializer,
        responses={201: s.DepositWaiverSerializer},
        summary=_("Waive the deposit gate of an order"),
    )
    def create(self, request, *args, **kwargs):
        serializer = s.DepositWaiverInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        waiver = services.waive_deposit(user=request.user, order_id=data["order"], reason=data["reason"])
        return Response(
            s.DepositWaiverSerializer(waiver, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class FollowUpFilter(django_filters.FilterSet):
    invoice = django_filters.NumberFilter(field_name="invoice_id", label=_("invoice (id)"))
    order = django_filters.NumberFilter(field_name="invoice__order_id", label=_("order (id)"))

    class Meta:
        model = FollowUp
        fields = ()


class FollowUpViewSet(mixins.ListModelMixin, APIViewSet):
    """`GET, POST /api/v1/finance/follow-ups/`: the assistant's follow-ups of receivables (R4.5)."""

    serializer_class = s.FollowUpSerializer
    filterset_class = FollowUpFilter

    def get_queryset(self):
        return selectors.visible_follow_ups(self.request.user)

    @extend_schema(
        request=s.FollowUpInputSerializer,
        responses={201: s.FollowUpSerializer},
        summary=_("Log a follow-up of an open invoice"),
    )
    def create(self, request, *args, **kwargs):
        serializer = s.FollowUpInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        follow_up = services.log_follow_up(
            user=request.user,
            invoice_id=data["invoice"],
            channel=data["channel"],
            note=data["note"],
            promised_on=data["promised_on"],
        )
        return Response(
            s.FollowUpSerializer(follow_up, context={"request": request}).data, status=status.HTTP_201_CREATED
        )
