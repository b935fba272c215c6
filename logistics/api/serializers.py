"""Serializers of logistics' API (R3.4, R4.4): shipments and their tracking events."""

from __future__ import annotations

from rest_framework import serializers

from logistics.models import Shipment, ShipmentEvent, ShipmentStatus


class ShipmentEventSerializer(serializers.ModelSerializer):
    recorded_by_name = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = ShipmentEvent
        fields = ("id", "shipment", "status", "location", "note", "recorded_by", "recorded_by_name", "at")
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    events = ShipmentEventSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = ("id", "order", "order_number", "carrier", "tracking_number", "expected_arrival", "status",
                  "created_by", "created_at", "events")
        read_only_fields = fields


class ShipmentInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    carrier = serializers.CharField(max_length=100)
    tracking_number = serializers.CharField(max_length=100)
    expected_arrival = serializers.DateField(required=False, allow_null=True, default=None)


class EventInputSerializer(serializers.Serializer):
    # `returned` is set by a rejected delivery only; the service refuses it (400)
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    location = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
