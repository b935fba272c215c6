"""Endpoints of customer feedback (DESIGN §6): survey answers and complaints with their handling states.

Thin views over :mod:`feedback.services` (writes, permission, scope) and
:mod:`feedback.selectors` (production and logistics read no feedback).
"""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from feedback import selectors, services
from feedback.api import serializers as s
from feedback.models import Complaint, FollowUp, Survey
from orderdesk.viewsets import APIViewSet


class SurveyFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("order (id)"))
    answered = django_filters.BooleanFilter(field_name="answered_at", lookup_expr="isnull", exclude=True,
                                            label=_("answered"))

    class Meta:
        model = Survey
        fields = ()


class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """Answers of the customers' questionnaires (score 1–5)."""

    serializer_class = s.SurveySerializer
    filterset_class = SurveyFilter

    def get_queryset(self):
        return selectors.visible_surveys(self.request.user).order_by("-sent_at", "-id")


class ComplaintFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("order (id)"))
    kind = django_filters.ChoiceFilter(choices=Complaint.Kind.choices, label=_("kind"))
    status = django_filters.ChoiceFilter(choices=Complaint.Status.choices, label=_("status"))

    class Meta:
        model = Complaint
        fields = ()


class ComplaintViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = s.ComplaintSerializer
    filterset_class = ComplaintFilter

    def get_queryset(self):
        return selectors.visible_complaints(self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=s.ComplaintInputSerializer, responses={201: s.ComplaintSerializer},
                   summary=_("Record a complaint or suggestion (R6.2)"))
    def create(self, request, *args, **kwargs):
        serializer = s.ComplaintInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        complaint = services.record_complaint(user=request.user, order_id=data["order"], kind=data["kind"],
                                              description=data["description"])
        return Response(s.ComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ComplaintHandleSerializer, responses={200: s.ComplaintSerializer}, filters=False,
                   summary=_("Move a complaint on: in progress, resolved (the customer is told), closed, or open again"))
    @action(detail=True, methods=["post"])
    def handle(self, request, pk=None):
        serializer = s.ComplaintHandleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "owner" in data:
            owner = get_user_model().objects.filter(pk=data["owner"], is_active=True).first()
            if owner is None:
                raise ValidationError({"owner": [_("No active user has this id.")]})
            data["owner"] = owner
        complaint = services.handle_complaint(user=request.user, complaint_id=pk, **data)
        return Response(s.ComplaintSerializer(complaint).data)


class FollowUpFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("order (id)"))

    class Meta:
        model = FollowUp
        fields = ()


class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """Phone follow-ups with the customer's score (R6.2), recorded by the order's assistant or a sales manager."""

    serializer_class = s.FollowUpSerializer
    filterset_class = FollowUpFilter

    def get_queryset(self):
        return selectors.visible_followups(self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=s.FollowUpInputSerializer, responses={201: s.FollowUpSerializer},
                   summary=_("Record a phone follow-up with the customer's score 1-5 (R6.2)"))
    def create(self, request, *args, **kwargs):
        serializer = s.FollowUpInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        followup = services.record_followup(user=request.user, order_id=data["order"], score=data["score"],
                                            summary=data["summary"])
        return Response(s.FollowUpSerializer(followup).data, status=status.HTTP_201_CREATED)
