from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from supervision.models import CheckItem, LossIncident, PeriodicCheck


class KpiQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    assistant = serializers.IntegerField(required=False, min_value=1)
    series = serializers.ChoiceField(choices=["month", "week"], required=False, default="month")

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError({"start": [_("The start is after the end.")]})
        return attrs


class CheckItemSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)

    class Meta:
        model = CheckItem
        fields = ["id", "order", "order_number", "outcome", "error_description", "loss_amount", "responsible",
                  "checked_by", "checked_at"]


class PeriodicCheckSerializer(serializers.ModelSerializer):
    items = CheckItemSerializer(many=True, read_only=True)

    class Meta:
        model = PeriodicCheck
        fields = ["id", "assistant", "period_start", "period_end", "sample_size", "seed", "population",
                  "created_by", "created_at", "items"]


class PeriodicCheckCreateSerializer(serializers.Serializer):
    assistant = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    sample_size = serializers.IntegerField(min_value=1, max_value=200)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)


class CheckOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[CheckItem.Outcome.CORRECT, CheckItem.Outcome.ERROR])
    error_description = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    loss_amount = serializers.DecimalField(required=False, max_digits=16, decimal_places=2, min_value=0)
    responsible = serializers.IntegerField(required=False, allow_null=True)


class ViolationQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    rule = serializers.ChoiceField(required=False, choices=())

    def __init__(self, *args, **kwargs):
        from supervision.selectors.violations import RULES

        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = list(RULES)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": [_("The start is after the end.")]})
        return attrs


class ViolationSerializer(serializers.Serializer):
    rule = serializers.CharField()
    order = serializers.IntegerField()
    number = serializers.CharField()
    user = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()
    detail = serializers.CharField()


class LossIncidentSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    responsible_name = serializers.CharField(source="responsible.username", read_only=True)

    class Meta:
        model = LossIncident
        fields = ("id", "order", "order_number", "cause", "amount", "responsible", "responsible_name",
                  "corrective_action", "status", "reported_by", "reported_at", "decided_by", "decided_at",
                  "decision_note")
        read_only_fields = fields


class LossIncidentInputSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1)
    cause = serializers.CharField(max_length=5000)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    responsible = serializers.IntegerField(min_value=1)
    corrective_action = serializers.CharField(max_length=5000)


class LossDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="",
                                 help_text=_("required when dismissing"))
