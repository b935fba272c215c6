"""Endpoints of logistics (DESIGN §6, §6b): shipments with their line quantities, their tracking events, and
the workspace's order lists.

Thin views over :mod:`logistics.services` (writes, permission, scope and state)
and :mod:`logistics.selectors` (reads scoped to the orders the caller sees).
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, extend_schema_field
from rest_framework import mixins, serializers as drf, status
from rest_framework.decorators import action
from rest_framework.response import Response

from logistics import selectors, services
from logistics.api import serializers as s
from logistics.models import CLOSED_STATUSES, Shipment, ShipmentStatus
from orderdesk import roles
from orderdesk.api import RoleFieldsMixin
from orderdesk.errors import Forbidden, InvalidInput
from orderdesk.viewsets import APIViewSet
from orders.models import Order
from orders.selectors import get_visible_order


class ShipmentFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("order (id)"))
    status = django_filters.ChoiceFilter(choices=ShipmentStatus.choices, label=_("status"))
    open = django_filters.BooleanFilter(method="filter_open", label=_("still on its way (not delivered, not returned)"))

    class Meta:
        model = Shipment
        fields = ()

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(status__in=CLOSED_STATUSES) if value else queryset.filter(status__in=CLOSED_STATUSES)


class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = s.ShipmentSerializer
    filterset_class = ShipmentFilter

    def get_queryset(self):
        return selectors.visible_shipments(self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        request=s.ShipmentInputSerializer,
        responses={201: s.ShipmentSerializer},
        summary=_("Record a shipment: lines with quantities (none: all that remains), carrier, vehicle, driver"),
    )
    def create(self, request, *args, **kwargs):
        order_id = request.data.get("order") if isinstance(request.data, dict) else None
        if isinstance(order_id, int) or (isinstance(order_id, str) and order_id.isdigit()):
            # 404 (scope), 403 (role), 409 (state) before any value is read, as on the page
            services.check_shipment(request.user, get_visible_order(request.user, order_id))
        serializer = s.ShipmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["lines"] = [dict(line) for line in data.get("lines") or []]
        shipment = services.create_shipment(user=request.user, order_id=data.pop("order"), **data)
        shipment = selectors.visible_shipments(request.user).get(pk=shipment.pk)
        return Response(s.ShipmentSerializer(shipment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.EventInputSerializer, filters=False,
        responses={201: s.ShipmentEventSerializer},
        summary=_("Record the shipment's current status (R4.4); `delivered` closes the shipment"),
    )
    @action(detail=True, methods=["post"])
    def events(self, request, pk=None):
        serializer = s.EventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.add_event(user=request.user, shipment_id=pk, **serializer.validated_data)
        return Response(s.ShipmentEventSerializer(event).data, status=status.HTTP_201_CREATED)


class ShippingOrderSerializer(RoleFieldsMixin, drf.ModelSerializer):
    """An order as the logistics workspace lists it: no price ever; contact only where the caller sees it."""

    customer_name = drf.CharField(source="customer.name", read_only=True)
    state_display = drf.CharField(source="get_state_display", read_only=True)
    lines = drf.SerializerMethodField()

    class Meta:
        model = Order
        fields = ("id", "number", "state", "state_display", "customer", "customer_name", "promised_delivery_date",
                  "contact_name", "contact_phone", "delivery_address", "lines")
        read_only_fields = fields

    @extend_schema_field(s.ShippingLineSerializer(many=True))
    def get_lines(self, order) -> list[dict]:
        return s.ShippingLineSerializer(selectors.shipping_lines(order), many=True).data


class ShippingOrderViewSet(mixins.ListModelMixin, APIViewSet):
    """The logistics workspace's order lists (`/logistics/`): ``?list=ready_to_ship|partly_shipped``."""

    serializer_class = ShippingOrderSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        if not roles.may(self.request.user, "logistics.workspace"):
            raise Forbidden()
        name = self.request.query_params.get("list", "ready_to_ship")
        if name not in selectors.ORDER_LISTS:
            raise InvalidInput(errors={"list": [_("Choose ready_to_ship or partly_shipped.")]}, code="invalid_list")
        return selectors.order_list(self.request.user, name)

    @extend_schema(
        parameters=[OpenApiParameter("list", OpenApiTypes.STR, enum=list(selectors.ORDER_LISTS),
                                     description=_("Which list (default ready_to_ship)."))],
        responses={200: ShippingOrderSerializer(many=True)},
        summary=_("Orders ready to ship or partly shipped, with each line's ordered, shipped and remaining quantity"),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
