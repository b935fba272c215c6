"""Serializers of production's API (R4.3, R4.4): plans with milestones, progress reports, issues."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from production.models import Milestone, ProductionIssue, ProductionPlan, ProgressReport, Workshop

User = get_user_model()


class WorkshopSerializer(serializers.ModelSerializer):
    supervisor_name = serializers.CharField(source="supervisor.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Workshop
        fields = ("id", "code", "name", "supervisor", "supervisor_name", "capacity", "is_active")
        read_only_fields = fields


class MilestoneSerializer(serializers.ModelSerializer):
    responsible_name = serializers.CharField(source="responsible.username", read_only=True)

    class Meta:
        model = Milestone
        fields = ("id", "name", "due_date", "responsible", "responsible_name", "done_at")
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    workshop_name = serializers.CharField(source="workshop.name", read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = ProductionPlan
        fields = ("id", "order", "order_number", "workshop", "workshop_name", "materials_ready", "equipment_ready",
                  "milestones", "created_by", "created_at", "updated_at")
        read_only_fields = fields


class MilestoneInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    due_date = serializers.DateField()
    responsible = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))


class PlanInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    workshop = serializers.PrimaryKeyRelatedField(queryset=Workshop.objects.all())
    milestones = MilestoneInputSerializer(many=True, allow_empty=False)


class ReadinessInputSerializer(serializers.Serializer):
    materials_ready = serializers.BooleanField(required=False)
    equipment_ready = serializers.BooleanField(required=False)


class ProgressSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    reported_by_name = serializers.CharField(source="reported_by.username", read_only=True)

    class Meta:
        model = ProgressReport
        fields = ("id", "order", "order_number", "percent_complete", "note", "reported_by", "reported_by_name",
                  "reported_at")
        read_only_fields = fields


class ProgressInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    percent_complete = serializers.IntegerField(min_value=0, max_value=100)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class IssueSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    opened_by_name = serializers.CharField(source="opened_by.username", read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = ProductionIssue
        fields = ("id", "order", "order_number", "kind", "description", "opened_by", "opened_by_name", "opened_at",
                  "resolution", "resolved_by", "resolved_at", "is_open")
        read_only_fields = fields


class IssueInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ProductionIssue.Kind.choices)
    description = serializers.CharField(max_length=5000)

