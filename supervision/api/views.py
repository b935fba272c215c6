"""Endpoints of supervision: the KPIs (R6.3), the manager's periodic checks and the audit trail (R6.1)."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from orderdesk import roles
from orderdesk.api import API_PERMISSIONS, Pagination
from orderdesk.roles import Role
from orderdesk.viewsets import APIViewSet
from orders.models import Order
from supervision import services
from supervision.api import serializers as s
from supervision.models import CheckItem, LossIncident, PeriodicCheck
from supervision.selectors import audit as audit_reads, kpis as kpi_reads

User = get_user_model()


def kpi_arguments(user, params) -> dict:
    """Check the KPI query (400 on bad input) and the caller's scope (403): returns kpis() arguments."""
    if not roles.may(user, "kpi.view"):
        raise PermissionDenied(_("Your role may not see KPIs."))
    query = s.KpiQuerySerializer(data=params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    today = timezone.localdate()
    end = data.get("end") or today
    start = data.get("start") or (end - datetime.timedelta(days=kpi_reads.DEFAULT_PERIOD_DAYS - 1))
    if start > end:
        raise ValidationError({"start": [_("The start is after the end.")]})
    if (end - start).days > kpi_reads.MAX_PERIOD_DAYS:
        raise ValidationError({"end": [_("The period may span at most ten years.")]})
    sees_all = roles.may(user, "kpi.view_all")
    assistant_id = data.get("assistant")
    if not sees_all:
        # an assistant sees only their own KPIs
        if assistant_id is not None and assistant_id != user.pk:
            raise PermissionDenied(_("You may see only your own KPIs."))
        assistant_id = user.pk
    assistant = None
    if assistant_id is not None:
        assistant = User.objects.filter(pk=assistant_id, groups__name=Role.SALES_ASSISTANT).first()
        if assistant is None:
            raise ValidationError({"assistant": [_("No sales assistant has this id.")]})
    return {"start": start, "end": end, "assistant": assistant, "series": data.get("series") or "month"}


class KpiView(APIView):
    """`GET /api/v1/kpis/?start=&end=&assistant=&series=month|week`: the KPIs of R6.3.

    Top level: the team's figures, or one assistant's with `assistant=`; `by_assistant`
    and `series` break them down. Definitions: :mod:`supervision.selectors.kpis`.
    """

    permission_classes = API_PERMISSIONS

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="YYYY-MM-DD (default: 90 days before end)"),
            OpenApiParameter("end", str, description="YYYY-MM-DD (default: today)"),
            OpenApiParameter("assistant", int, description="a sales assistant's user id"),
            OpenApiParameter("series", str, enum=["month", "week"]),
        ],
        responses={200: dict},
    )
    def get(self, request):
        return Response(kpi_reads.kpis(**kpi_arguments(request.user, request.query_params)))


class PeriodicCheckViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, APIViewSet):
    """The manager's periodic checks (R6.1): a seeded random sample of an assistant's orders, each with an outcome.

    `POST` {"assistant","period_start","period_end","sample_size","seed"?} draws one;
    `POST /checks/items/{id}/outcome/` {"outcome": "correct"|"error", "error_description", "loss_amount",
    "responsible"} records what was found.
    """

    serializer_class = s.PeriodicCheckSerializer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not roles.may(request.user, "check.view"):
            raise PermissionDenied()

    def get_queryset(self):
        return PeriodicCheck.objects.select_related("assistant").prefetch_related(
            Prefetch("items", queryset=CheckItem.objects.select_related("order").order_by("id"))
        )

    @extend_schema(request=s.PeriodicCheckCreateSerializer, responses={201: s.PeriodicCheckSerializer})
    def create(self, request, *args, **kwargs):
        data = s.PeriodicCheckCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        check = services.create_periodic_check(user=request.user, assistant_id=values.pop("assistant"), **values)
        return Response(s.PeriodicCheckSerializer(self.get_queryset().get(pk=check.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CheckOutcomeSerializer, responses={200: s.CheckItemSerializer})
    @action(detail=False, methods=["post"], url_path=r"items/(?P<item_id>\d+)/outcome")
    def outcome(self, request, item_id=None):
        data = s.CheckOutcomeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        item = services.record_check_outcome(
            user=request.user, item_id=item_id, outcome=values["outcome"],
            error_description=values.get("error_description", ""), loss_amount=values.get("loss_amount"),
            responsible_id=values.get("responsible"),
        )
        return Response(s.CheckItemSerializer(item).data)


class AuditQuerySerializer(serializers.Serializer):
    order = serializers.IntegerField(required=False, min_value=1)
    user = serializers.IntegerField(required=False, min_value=1)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    kind = serializers.CharField(required=False, max_length=40)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise ValidationError({"start": [_("The start is after the end.")]})
        return attrs


class AuditView(APIView):
    """`GET /api/v1/audit/?order=&user=&start=&end=&kind=`: every recorded change, newest first (R6.1).

    For the auditor and the sales manager: one append-only trail of transitions (who, when,
    from, to, comment), field changes (field, old and new value), sign-offs, invoices, payments,
    shipments, progress, issues, promise changes, complaints, follow-ups, tracking links and losses;
    each row with its ``kind``, the object written and the caller's ``address``. Filtered by order id,
    user id, kind and local dates (inclusive), paginated.
    """

    permission_classes = API_PERMISSIONS

    @extend_schema(
        parameters=[
            OpenApiParameter("order", int, description="an order id"),
            OpenApiParameter("user", int, description="a user id"),
            OpenApiParameter("start", str, description="YYYY-MM-DD"),
            OpenApiParameter("end", str, description="YYYY-MM-DD"),
            OpenApiParameter("kind", str, description="a kind of change (transition, change, signoff, invoice, "
                             "payment, shipment, progress, issue, promise, complaint, followup, receipt, "
                             "tracking_link, loss)"),
        ],
        responses={200: dict},
    )
    def get(self, request):
        if not roles.may(request.user, "audit.view"):
            raise PermissionDenied(_("Your role may not read the audit trail."))
        query = AuditQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = audit_reads.audit_trail(order_id=params.get("order"), user_id=params.get("user"),
                                       start=params.get("start"), end=params.get("end"), kind=params.get("kind"))
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        numbers = dict(Order.objects.filter(pk__in={r[1] for r in page}).values_list("pk", "number"))
        names = dict(User.objects.filter(pk__in={r[2] for r in page if r[2]}).values_list("pk", "username"))
        entries = []
        for kind, order_id, user_id, at, name, before, after, note, address in page:
            before, after, note = roles.audit_values_for(request.user, kind, name, before, after, note)
            entry = {"kind": kind, "order": order_id, "order_number": numbers.get(order_id), "user": user_id,
                     "username": names.get(user_id), "at": at, "address": address}
            if kind == "transition":
                entry.update(transition=name, source_state=before, state=after, comment=note)
            elif kind == "change":
                entry.update(field=name, old_value=before, new_value=after)
            else:
                entry.update(action=name, before=before, after=after, note=note)
            entries.append(entry)
        return paginator.get_paginated_response(entries)


class ViolationView(APIView):
    """`GET /api/v1/audit/violations/?start=&end=&rule=`: the process rules broken (R6.1), one query per rule.

    Rules: self_approval, credit_override, change_after_approval, late_without_notice,
    accepted_without_receipt, settled_without_payment, state_written_outside_service
    (:mod:`supervision.selectors.violations`). For the auditor and the sales manager.
    """

    permission_classes = API_PERMISSIONS

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="YYYY-MM-DD"),
            OpenApiParameter("end", str, description="YYYY-MM-DD"),
            OpenApiParameter("rule", str, description="one rule only"),
        ],
        responses={200: s.ViolationSerializer(many=True)},
    )
    def get(self, request):
        from supervision.selectors import violations as violation_reads

        if not roles.may(request.user, "audit.view"):
            raise PermissionDenied(_("Your role may not read the violation report."))
        query = s.ViolationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = violation_reads.violations(start=params.get("start"), end=params.get("end"),
                                          rule=params.get("rule"), viewer=request.user)
        for row in rows:
            row["at"] = violation_reads.as_datetime(row["at"])
        return Response(s.ViolationSerializer(rows, many=True).data)


class LossIncidentFilterSerializer(serializers.Serializer):
    order = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(required=False, choices=LossIncident.Status.choices)
    responsible = serializers.IntegerField(required=False, min_value=1)


class LossIncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """Loss incidents (R6.3): `GET, POST /api/v1/supervision/losses/` {"order","cause","amount","responsible",
    "corrective_action"}; `POST /{id}/confirm/` or `/{id}/dismiss/` {"note"} by a sales manager. Confirmed
    losses count in the responsible person's KPIs (`recorded_loss`)."""

    serializer_class = s.LossIncidentSerializer

    def get_queryset(self):
        from supervision.selectors.losses import visible_losses

        rows = visible_losses(self.request.user)
        if self.action == "list":
            query = LossIncidentFilterSerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            params = query.validated_data
            if params.get("order"):
                rows = rows.filter(order_id=params["order"])
            if params.get("status"):
                rows = rows.filter(status=params["status"])
            if params.get("responsible"):
                rows = rows.filter(responsible_id=params["responsible"])
        return rows

    @extend_schema(request=s.LossIncidentInputSerializer, responses={201: s.LossIncidentSerializer})
    def create(self, request, *args, **kwargs):
        data = s.LossIncidentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        loss = services.report_loss(user=request.user, order_id=values["order"], cause=values["cause"],
                                    amount=values["amount"], responsible_id=values["responsible"],
                                    corrective_action=values["corrective_action"])
        return Response(s.LossIncidentSerializer(loss).data, status=status.HTTP_201_CREATED)

    def _decide(self, request, pk, decision):
        data = s.LossDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        loss = services.decide_loss(user=request.user, loss_id=pk, decision=decision, note=data.validated_data["note"])
        return Response(s.LossIncidentSerializer(loss).data)

    @extend_schema(request=s.LossDecisionSerializer, responses={200: s.LossIncidentSerializer}, filters=False)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._decide(request, pk, LossIncident.Status.CONFIRMED)

    @extend_schema(request=s.LossDecisionSerializer, responses={200: s.LossIncidentSerializer}, filters=False)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        return self._decide(request, pk, LossIncident.Status.DISMISSED)
