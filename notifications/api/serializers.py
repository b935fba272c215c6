"""Serializers of the notification endpoints (DESIGN §6); ``message`` is rendered for the reader."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True, default=None, allow_null=True)
    message = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ("id", "kind", "order", "order_number", "message", "read", "created_at")
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_message(self, obj) -> str:
        """The text in the request's language (``Accept-Language``; LocaleMiddleware activates it)."""
        return obj.text


class MarkReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False, allow_empty=True)


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
