"""Endpoints of production (DESIGN §6): workshops, plans, readiness, progress and issues.

Thin views over :mod:`production.services` (writes, permission, scope and state)
and :mod:`production.selectors` (reads scoped to the orders the caller sees).
"""

from __future__ import annotations

import datetime

import django_filters
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from orderdesk.viewsets import APIViewSet
from production import selectors, services
from production.api import serializers as s
from production.models import Milestone, PreparationTask, ProductionIssue, ProductionPlan, ProgressReport


def responses(ok: dict) -> dict:
    # the error answers (400/401/403/404/409/429, the Error body) come from orderdesk.api_schema.AutoSchema
    return dict(ok)


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

    @extend_schema(request=s.PlanInputSerializer, responses=responses({201: s.PlanSerializer}),
                   summary=_("Plan an approved order: workshop and milestones (R4.3)"))
    def create(self, request, *args, **kwargs):
        serializer = s.PlanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = services.create_plan(user=request.user, order_id=data["order"], workshop=data["workshop"],
                                    milestones=[dict(m) for m in data["milestones"]],
                                    start_date=data.get("start_date"))
        return self._render(plan.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReadinessInputSerializer, responses=responses({200: s.PlanSerializer}),
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
    parser_classes = (JSONParser, MultiPartParser, FormParser)

    def get_queryset(self):
        return selectors.visible_progress(self.request.user).order_by("-reported_at", "-id")

    @extend_schema(
        request={"application/json": s.ProgressInputSerializer, "multipart/form-data": s.ProgressInputSerializer},
        responses=responses({201: s.ProgressSerializer}),
        summary=_("Report production progress (complete at 100), against a milestone with quantity and photo"),
    )
    def create(self, request, *args, **kwargs):
        serializer = s.ProgressInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = services.report_progress(
            user=request.user, order_id=data.get("order"), milestone_id=data.get("milestone"),
            percent_complete=data.get("percent_complete"), quantity_done=data.get("quantity_done"),
            note=data["note"], photo=data.get("photo"),
        )
        return Response(s.ProgressSerializer(report, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


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

    def _render(self, issue, status_code=status.HTTP_200_OK):
        return Response(s.IssueSerializer(issue, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(request=s.IssueInputSerializer, responses=responses({201: s.IssueSerializer}),
                   summary=_("Raise a delay or quality issue (R4.4); drafts the customer's message"))
    def create(self, request, *args, **kwargs):
        serializer = s.IssueInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        issue = services.open_issue(user=request.user, order_id=data["order"], kind=data["kind"],
                                    description=data["description"], expected_date=data.get("expected_date"),
                                    disposition=data.get("disposition") or "", owner=data.get("owner"))
        return self._render(issue, status.HTTP_201_CREATED)

    @extend_schema(request=s.IssueResolutionInputSerializer, responses=responses({200: s.IssueSerializer}),
                   filters=False, summary=_("Resolve an issue (a quality issue with its disposition)"))
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        serializer = s.IssueResolutionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issue = services.resolve_issue(user=request.user, issue_id=pk, **serializer.validated_data)
        return self._render(issue)

    @extend_schema(request=s.CustomerMessageInputSerializer, responses=responses({200: s.IssueSerializer}),
                   filters=False, summary=_("Edit the draft of the issue's message to the customer"))
    @action(detail=True, methods=["post"], url_path="customer-message")
    def customer_message(self, request, pk=None):
        serializer = s.CustomerMessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issue = services.edit_customer_message(user=request.user, issue_id=pk, **serializer.validated_data)
        return self._render(issue)

    @extend_schema(request=s.CustomerMessageSendInputSerializer, responses=responses({200: s.IssueSerializer}),
                   filters=False, summary=_("Send the reviewed message to the customer (e-mail, tracking page)"))
    @action(detail=True, methods=["post"], url_path="send-message")
    def send_message(self, request, pk=None):
        serializer = s.CustomerMessageSendInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issue = services.send_customer_message(user=request.user, issue_id=pk,
                                               customer_message=serializer.validated_data.get("customer_message"))
        return self._render(issue)


class MilestoneFilter(django_filters.FilterSet):
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("only the caller's open milestones"))
    order = django_filters.NumberFilter(field_name="plan__order_id", label=_("order (id)"))
    done = django_filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True, label=_("done"))

    class Meta:
        model = Milestone
        fields = ()

    def filter_mine(self, queryset, name, value):
        if value:
            return queryset.filter(responsible=self.request.user, done_at__isnull=True)
        return queryset


class MilestoneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """Milestones of the orders the caller sees; ``?mine=true``: the caller's open ones (as responsible)."""

    serializer_class = s.MilestoneListSerializer
    filterset_class = MilestoneFilter

    def get_queryset(self):
        return selectors.visible_milestones(self.request.user).order_by("due_date", "id")

    @extend_schema(request=s.MilestoneCompleteInputSerializer, responses=responses({200: s.MilestoneListSerializer}),
                   filters=False,
                   summary=_("Complete a milestone (its responsible person or a production supervisor)"))
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        serializer = s.MilestoneCompleteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        milestone = services.complete_milestone(user=request.user, milestone_id=pk, **serializer.validated_data)
        milestone = selectors.visible_milestones(request.user).get(pk=milestone.pk)
        return Response(s.MilestoneListSerializer(milestone, context=self.get_serializer_context()).data)


class PreparationFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("order (id)"))
    kind = django_filters.ChoiceFilter(choices=PreparationTask.Kind.choices, label=_("kind"))
    ready = django_filters.BooleanFilter(field_name="ready_at", lookup_expr="isnull", exclude=True, label=_("ready"))

    class Meta:
        model = PreparationTask
        fields = ()


class PreparationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """Preparation of materials and equipment (R4.3); where tasks exist, readiness means all of a kind ready."""

    serializer_class = s.PreparationSerializer
    filterset_class = PreparationFilter

    def get_queryset(self):
        return selectors.visible_preparations(self.request.user).order_by("due_date", "id")

    def _render(self, task, status_code=status.HTTP_200_OK):
        task = selectors.visible_preparations(self.request.user).get(pk=task.pk)
        return Response(s.PreparationSerializer(task, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(request=s.PreparationInputSerializer, responses=responses({201: s.PreparationSerializer}),
                   summary=_("Add a preparation task (material or equipment) with owner and due date"))
    def create(self, request, *args, **kwargs):
        serializer = s.PreparationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        task = services.add_preparation(user=request.user, order_id=data["order"], kind=data["kind"],
                                        description=data["description"], owner=data["owner"],
                                        due_date=data["due_date"])
        return self._render(task, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=responses({200: s.PreparationSerializer}), filters=False,
                   summary=_("Mark a preparation task ready (its owner or a production supervisor)"))
    @action(detail=True, methods=["post"])
    def ready(self, request, pk=None):
        task = services.mark_preparation_ready(user=request.user, task_id=pk)
        return self._render(task)


class HandoverViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """R4.3: the assistant hands the approved order over to production (workshop, note on priorities)."""

    serializer_class = s.HandoverSerializer

    def get_queryset(self):
        return selectors.visible_handovers(self.request.user).order_by("-assigned_at", "-id")

    @extend_schema(request=s.HandoverInputSerializer, responses=responses({201: s.HandoverSerializer}),
                   summary=_("Hand an approved order over to production (the order's assistant)"))
    def create(self, request, *args, **kwargs):
        serializer = s.HandoverInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        handover = services.hand_over(user=request.user, order_id=data["order"], workshop=data["workshop"],
                                      note=data["note"])
        return Response(s.HandoverSerializer(handover, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


class MoveViewSet(APIViewSet):
    """The supervisor moves an order to another workshop, with a reason (recorded in the order's history)."""

    serializer_class = s.MoveInputSerializer

    @extend_schema(request=s.MoveInputSerializer, responses=responses({200: s.HandoverSerializer,
                                                                     204: OpenApiResponse(description=_("moved"))}),
                   summary=_("Move an order to another workshop (production supervisor, with a reason)"))
    def create(self, request, *args, **kwargs):
        serializer = s.MoveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        handover = services.move_to_workshop(user=request.user, order_id=data["order"], workshop=data["workshop"],
                                             reason=data["reason"])
        if handover is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.HandoverSerializer(handover, context=self.get_serializer_context()).data)


class WorkshopLoadViewSet(APIViewSet):
    """A workshop's load per week: ``planned`` orders against its ``capacity`` (the calendar's data)."""

    serializer_class = s.WorkshopLoadSerializer

    def get_queryset(self):
        return selectors.workshops()

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description=_("first day (default: this week's Monday)")),
            OpenApiParameter("end", OpenApiTypes.DATE, description=_("last day (default: 8 weeks on)")),
        ],
        responses=responses({200: s.WorkshopLoadSerializer}), filters=False,
        summary=_("A workshop's load per week: planned orders against capacity"),
    )
    @action(detail=True, methods=["get"])
    def load(self, request, pk=None):
        query = s.LoadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            workshop = selectors.workshops().get(pk=pk)
        except (ValueError, TypeError, OverflowError, selectors.Workshop.DoesNotExist):
            raise Http404 from None
        start = query.validated_data.get("start") or selectors.monday(timezone.localdate())
        end = query.validated_data.get("end") or start + datetime.timedelta(weeks=8) - datetime.timedelta(days=1)
        if end < start:
            end = start
        weeks = selectors.calendar(workshops_list=[workshop], start=start, end=end)[workshop.pk]
        data = {"workshop": workshop.pk, "start": start, "end": end, "weeks": weeks}
        return Response(s.WorkshopLoadSerializer(data).data)
