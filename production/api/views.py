"""Endpoints of production (DESIGN §6): workshops, plans, readiness, progress and issues.

Thin views over :mod:`production.services` (writes, permission, scope and state)
and :mod:`production.selectors` (reads scoped to the orders the caller sees).
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from orderdesk.viewsets import APIViewSet
from orders.api.serializers import ResolutionInputSerializer
from production import selectors, services
from production.api import serializers as s
from production.models import ProductionIssue, ProductionPlan, ProgressReport


class WorkshopViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = s.WorkshopSerializer

    def get_queryset(self):
        return selectors.workshops()


class PlanFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("order (id)"))
    workshop = django_filters.NumberFilter(field_name="workshop_id", label=_("workshop (id)"))

    class Meta:
        model = ProductionPlan
        fields = ()


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = s.PlanSerializer
    filterset_class = PlanFilter

    def get_queryset(self):
        return selectors.visible_plans(self.request.user).order_by("-created_at", "-id")

    def _render(self, plan_id, *, status_code=status.HTTP_200_OK) -> Response:
        plan = selectors.visible_plans(self.request.user).get(pk=plan_id)
        return Response(s.PlanSerializer(plan, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(request=s.PlanInputSerializer, responses={201: s.PlanSerializer},
                   summary=_("Plan an approved order: workshop and milestones (R4.3)"))
    def create(self, request, *args, **kwargs):
        serializer = s.PlanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = services.create_plan(user=request.user, order_id=data["order"], workshop=data["workshop"],
                                    milestones=[dict(m) for m in data["milestones"]])
        return self._render(plan.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReadinessInputSerializer, responses={200: s.PlanSerializer},
                   summary=_("Mark materials and equipment ready"))
    def partial_update(self, request, *args, **kwargs):
        serializer = s.ReadinessInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = services.update_readiness(user=request.user, plan_id=kwargs["pk"], **serializer.validated_data)
        return self._render(plan.pk)


class ProgressFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("order (id)"))

    class Meta:
        model = ProgressReport
        fields = ()


class ProgressViewSet(mixins.ListModelMixin, APIViewSet):
    serializer_class = s.ProgressSerializer
    filterset_class = ProgressFilter

    def get_queryset(self):
        return selectors.visible_progress(self.request.user).order_by("-reported_at", "-id")

    @extend_schema(request=s.ProgressInputSerializer, responses={201: s.ProgressSerializer},
                   summary=_("Report production progress (complete at 100)"))
    def create(self, request, *args, **kwargs):
        serializer = s.ProgressInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = services.report_progress(user=request.user, order_id=data["order"],
                                          percent_complete=data["percent_complete"], note=data["note"])
        return Response(s.ProgressSerializer(report).data, status=status.HTTP_201_CREATED)


class IssueFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("order (id)"))
    kind = django_filters.ChoiceFilter(choices=ProductionIssue.Kind.choices, label=_("kind"))
    open = django_filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull", label=_("open"))

    class Meta:
        model = ProductionIssue
        fields = ()


class IssueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = s.IssueSerializer
    filterset_class = IssueFilter

    def get_queryset(self):
        return selectors.visible_issues(self.request.user).order_by("-opened_at", "-id")

    @extend_schema(request=s.IssueInputSerializer, responses={201: s.IssueSerializer},
                   summary=_("Raise a delay or quality issue (R4.4)"))
    def create(self, request, *args, **kwargs):
        serializer = s.IssueInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        issue = services.open_issue(user=request.user, order_id=data["order"], kind=data["kind"],
                                    description=data["description"])
        return Response(s.IssueSerializer(issue).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ResolutionInputSerializer, responses={200: s.IssueSerializer}, filters=False,
                   summary=_("Resolve an issue"))
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        serializer = ResolutionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issue = services.resolve_issue(user=request.user, issue_id=pk, **serializer.validated_data)
        return Response(s.IssueSerializer(issue).data)
