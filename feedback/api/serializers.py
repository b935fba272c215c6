from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from feedback.models import Complaint, Survey


class SurveySerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    customer_name = serializers.CharField(source="order.customer.name", read_only=True)

    class Meta:
        model = Survey
        fields = ("id", "order", "order_number", "customer_name", "sent_at", "answered_at", "score", "comment")
        read_only_fields = fields


class ComplaintSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    recorded_by_name = serializers.CharField(source="recorded_by.username", read_only=True)
    handled_by_name = serializers.CharField(source="handled_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Complaint
        fields = ("id", "order", "order_number", "kind", "description", "status", "recorded_by",
                  "recorded_by_name", "created_at", "handled_by", "handled_by_name", "resolution", "resolved_at")
        read_only_fields = fields


class ComplaintInputSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=Complaint.Kind.choices)
    description = serializers.CharField(max_length=5000)


class ComplaintHandleSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Complaint.Status.choices)
    resolution = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="",
                                       help_text=_("required when resolving"))
