"""Serializers of logistics' API (R3.4, R4.4): shipments with their line quantities, and tracking events."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from logistics.models import Shipment, ShipmentEvent, ShipmentLine, ShipmentStatus


class ShipmentEventSerializer(serializers.ModelSerializer):
    recorded_by_name = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = ShipmentEvent
        fields = ("id", "shipment", "status", "location", "note", "recorded_by", "recorded_by_name", "at")
        read_only_fields = fields


class ShipmentLineSerializer(serializers.ModelSerializer):
    position = serializers.IntegerField(source="order_line.position", read_only=True)
    product_sku = serializers.CharField(source="order_line.product.sku", read_only=True)
    product_name = serializers.CharField(source="order_line.product.name", read_only=True)
    unit = serializers.CharField(source="order_line.product.unit", read_only=True)

    class Meta:
        model = ShipmentLine
        fields = ("order_line", "position", "product_sku", "product_name", "unit", "quantity")
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    lines = ShipmentLineSerializer(many=True, read_only=True)
    events = ShipmentEventSerializer(many=True, read_only=True)
    # the carrier's http(s) address, or "" when none was given (a URLField would promise a uri always)
    tracking_link = serializers.CharField(read_only=True)

    class Meta:
        model = Shipment
        fields = ("id", "order", "order_number", "carrier", "tracking_number", "expected_arrival", "vehicle",
                  "driver", "warehouse", "tracking_link", "status", "created_by", "created_at", "delivered_at",
                  "lines", "events")
        read_only_fields = fields


class ShipmentLineInputSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(help_text=_("An order line (id) of the shipment's order."))
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3,
                                        help_text=_("At most what remains of the line."))


class ShipmentInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    carrier = serializers.CharField(max_length=100)
    tracking_number = serializers.CharField(max_length=100)
    expected_arrival = serializers.DateField(required=False, allow_null=True, default=None)
    lines = ShipmentLineInputSerializer(
        many=True, required=False, default=list,
        help_text=_("What the shipment carries; none: everything that remains of the order."),
    )
    vehicle = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    driver = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    warehouse = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    tracking_link = serializers.CharField(required=False, allow_blank=True, default="", max_length=500,
                                          help_text=_("The carrier's tracking page (http or https)."))


class EventInputSerializer(serializers.Serializer):
    # `returned` is set by a rejected delivery only; the service refuses it (400)
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    location = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ShippingLineSerializer(serializers.Serializer):
    """One order line as logistics sees it: what was ordered, what is on shipments, what remains."""

    order_line = serializers.IntegerField(source="line.pk")
    position = serializers.IntegerField(source="line.position")
    product_sku = serializers.CharField(source="line.product.sku")
    specification = serializers.CharField(source="line.specification")
    ordered = serializers.DecimalField(max_digits=12, decimal_places=3)
    shipped = serializers.DecimalField(max_digits=12, decimal_places=3)
    remaining = serializers.DecimalField(max_digits=12, decimal_places=3)
