"""Endpoints of the notification system (DESIGN §6): the caller's list and mark-read."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications import selectors, services
from notifications.api import serializers as s
from notifications.models import Notification
from orderdesk.viewsets import APIViewSet


class NotificationFilter(django_filters.FilterSet):
    read = django_filters.BooleanFilter(label=_("read"))
    kind = django_filters.ChoiceFilter(choices=Notification.Kind.choices, label=_("kind"))

    class Meta:
        model = Notification
        fields = ()


class NotificationViewSet(mixins.ListModelMixin, APIViewSet):
    """The caller's notifications, newest first."""

    serializer_class = s.NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notifications_of(self.request.user)

    @extend_schema(request=s.MarkReadInputSerializer, responses={200: s.MarkedSerializer}, filters=False,
                   summary=_("Mark the caller's notifications read (all, or those in `ids`)"))
    @action(detail=False, methods=["post"], url_path="read", url_name="read")
    def mark_read(self, request):
        serializer = s.MarkReadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = services.mark_read(user=request.user, ids=serializer.validated_data.get("ids"))
        return Response({"marked": marked})
