from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from feedback.models import Complaint, FollowUp, Survey


class SurveySerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    customer_name = serializers.CharField(source="order.customer.name", read_only=True)

    class Meta:
        model = Survey
        fields = ("id", "order", "order_number", "customer_name", "sent_at", "answered_at", "score", "quality",
                  "punctuality", "communication", "comment", "reminded_at")
        read_only_fields = fields


class ComplaintSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    recorded_by_name = serializers.CharField(source="recorded_by.username", read_only=True, default=None, allow_null=True)
    handled_by_name = serializers.CharField(source="handled_by.username", read_only=True, default=None, allow_null=True)
    owner_name = serializers.CharField(source="owner.username", read_only=True, default=None, allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = Complaint
        fields = ("id", "order", "order_number", "kind", "description", "status", "source", "recorded_by",
                  "recorded_by_name", "created_at", "owner", "owner_name", "due_on", "overdue", "handled_by",
                  "handled_by_name", "resolution", "resolved_at", "closed_at", "customer_told_at")
        read_only_fields = fields


class ComplaintInputSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=Complaint.Kind.choices)
    description = serializers.CharField(max_length=5000)


class ComplaintHandleSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Complaint.Status.choices,
                                     help_text=_("open (reopen), in_progress, resolved, closed"))
    resolution = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="",
                                       help_text=_("required when resolving; told to the customer"))
    owner = serializers.IntegerField(min_value=1, required=False, help_text=_("hand it to this user (id)"))


class FollowUpSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    recorded_by_name = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = FollowUp
        fields = ("id", "order", "order_number", "score", "summary", "recorded_by", "recorded_by_name", "created_at")
        read_only_fields = fields


class FollowUpInputSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1)
    score = serializers.IntegerField(min_value=1, max_value=5)
    summary = serializers.CharField(max_length=5000)
