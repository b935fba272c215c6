"""Endpoints of logistics (DESIGN §6): shipments and their tracking events.

Thin views over :mod:`logistics.services` (writes, permission, scope and state)
and :mod:`logistics.selectors` (reads scoped to the orders the caller sees).
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from logistics import selectors, services
from logistics.api import serializers as s
from logistics.models import Shipment, ShipmentStatus
from orderdesk.viewsets import APIViewSet


class ShipmentFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("order (id)"))
    status = django_filters.ChoiceFilter(choices=ShipmentStatus.choices, label=_("status"))

    class Meta:
        model = Shipment
        fields = ()


class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = s.ShipmentSerializer
    filterset_class = ShipmentFilter

    def get_queryset(self):
        return selectors.visible_shipments(self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=s.ShipmentInputSerializer, responses={201: s.ShipmentSerializer},
                   summary=_("Record a shipment with carrier and tracking number"))
    def create(self, request, *args, **kwargs):
        serializer = s.ShipmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        shipment = services.create_shipment(user=request.user, order_id=data["order"], carrier=data["carrier"],
                                            tracking_number=data["tracking_number"],
                                            expected_arrival=data["expected_arrival"])
        shipment = selectors.visible_shipments(request.user).get(pk=shipment.pk)
        return Response(s.ShipmentSerializer(shipment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.EventInputSerializer, responses={201: s.ShipmentEventSerializer}, filters=False,
                   summary=_("Record the shipment's current status (R4.4)"))
    @action(detail=True, methods=["post"])
    def events(self, request, pk=None):
        serializer = s.EventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.add_event(user=request.user, shipment_id=pk, **serializer.validated_data)
        return Response(s.ShipmentEventSerializer(event).data, status=status.HTTP_201_CREATED)
