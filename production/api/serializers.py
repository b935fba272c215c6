"""Serializers of production's API (R4.3, R4.4): plans with milestones, progress reports, issues."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from orderdesk.api import RoleFieldsMixin
from production.models import (
    Handover,
    Milestone,
    PreparationTask,
    ProductionIssue,
    ProductionPlan,
    ProgressReport,
    Workshop,
)

User = get_user_model()


class WorkshopSerializer(serializers.ModelSerializer):
    supervisor_name = serializers.CharField(source="supervisor.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Workshop
        fields = ("id", "code", "name", "supervisor", "supervisor_name", "capacity", "is_active")
        read_only_fields = fields


class MilestoneSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    responsible_name = serializers.CharField(source="responsible.username", read_only=True)
    done_by_name = serializers.CharField(source="done_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Milestone
        fields = ("id", "name", "due_date", "quantity", "responsible", "responsible_name", "done_at", "done_by",
                  "done_by_name", "done_note")
        read_only_fields = fields


class MilestoneListSerializer(MilestoneSerializer):
    """A milestone with its order (the worker's list)."""

    order = serializers.IntegerField(source="plan.order_id", read_only=True)
    order_number = serializers.CharField(source="plan.order.number", read_only=True)
    order_state = serializers.CharField(source="plan.order.state", read_only=True)

    class Meta(MilestoneSerializer.Meta):
        fields = ("id", "order", "order_number", "order_state", *MilestoneSerializer.Meta.fields[1:])
        read_only_fields = fields


class MilestoneCompleteInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class PlanSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    workshop_name = serializers.CharField(source="workshop.name", read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = ProductionPlan
        fields = ("id", "order", "order_number", "workshop", "workshop_name", "start_date", "materials_ready",
                  "equipment_ready", "milestones", "capacity_reason", "created_by", "created_at", "updated_at")
        read_only_fields = fields


class MilestoneInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    due_date = serializers.DateField()
    responsible = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True,
                                        min_value=0)


class PlanInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    workshop = serializers.PrimaryKeyRelatedField(queryset=Workshop.objects.all())
    start_date = serializers.DateField(required=False, allow_null=True)
    milestones = MilestoneInputSerializer(many=True, allow_empty=False)


class ReadinessInputSerializer(serializers.Serializer):
    materials_ready = serializers.BooleanField(required=False)
    equipment_ready = serializers.BooleanField(required=False)


class ProgressSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    reported_by_name = serializers.CharField(source="reported_by.username", read_only=True)
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = ProgressReport
        fields = ("id", "order", "order_number", "milestone", "percent_complete", "quantity_done", "note",
                  "photo_url", "reported_by", "reported_by_name", "reported_at")
        read_only_fields = fields

    def get_photo_url(self, obj) -> str | None:
        return obj.photo.url if obj.photo else None


class ProgressInputSerializer(serializers.Serializer):
    """JSON, or multipart when a ``photo`` is uploaded. Against a ``milestone`` the ``order`` may be left out
    and ``percent_complete`` defaults to the order's roll-up from its milestones."""

    order = serializers.IntegerField(required=False, allow_null=True)
    milestone = serializers.IntegerField(required=False, allow_null=True)
    percent_complete = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True)
    quantity_done = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    photo = serializers.FileField(required=False, allow_null=True, allow_empty_file=False)

    def validate(self, attrs):
        if attrs.get("order") is None and attrs.get("milestone") is None:
            raise serializers.ValidationError({"order": [_("Give the order or the milestone.")]})
        if attrs.get("percent_complete") is None and attrs.get("milestone") is None:
            raise serializers.ValidationError({"percent_complete": [_("This field is required.")]})
        return attrs


class IssueSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    opened_by_name = serializers.CharField(source="opened_by.username", read_only=True)
    owner_name = serializers.CharField(source="owner.username", read_only=True, default=None, allow_null=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = ProductionIssue
        fields = ("id", "order", "order_number", "kind", "description", "expected_date", "disposition", "owner",
                  "owner_name", "opened_by", "opened_by_name", "opened_at", "resolution", "resolved_by",
                  "resolved_at", "is_open", "customer_message", "message_state", "message_sent_at",
                  "message_sent_by")
        read_only_fields = fields


class IssueInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ProductionIssue.Kind.choices)
    description = serializers.CharField(max_length=5000)
    expected_date = serializers.DateField(required=False, allow_null=True,
                                          help_text=_("delay: the new expected finish of production"))
    disposition = serializers.ChoiceField(choices=ProductionIssue.Disposition.choices, required=False,
                                          allow_blank=True, default="")
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                               allow_null=True)


class IssueResolutionInputSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=5000)
    disposition = serializers.ChoiceField(choices=ProductionIssue.Disposition.choices, required=False,
                                          allow_blank=True, default="")


class CustomerMessageInputSerializer(serializers.Serializer):
    customer_message = serializers.CharField(max_length=5000)


class CustomerMessageSendInputSerializer(serializers.Serializer):
    customer_message = serializers.CharField(max_length=5000, required=False,
                                             help_text=_("the reviewed text (default: the draft as it stands)"))


class PreparationSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    owner_name = serializers.CharField(source="owner.username", read_only=True)
    is_ready = serializers.BooleanField(read_only=True)

    class Meta:
        model = PreparationTask
        fields = ("id", "order", "order_number", "kind", "description", "owner", "owner_name", "due_date",
                  "is_ready", "ready_at", "ready_by", "created_by", "created_at")
        read_only_fields = fields


class PreparationInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PreparationTask.Kind.choices)
    description = serializers.CharField(max_length=300)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    due_date = serializers.DateField()


class HandoverSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    workshop_name = serializers.CharField(source="workshop.name", read_only=True)

    class Meta:
        model = Handover
        fields = ("id", "order", "order_number", "workshop", "workshop_name", "note", "assigned_by", "assigned_at",
                  "moved_reason")
        read_only_fields = fields


class HandoverInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    workshop = serializers.PrimaryKeyRelatedField(queryset=Workshop.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000,
                                 help_text=_("the note on priorities for production"))


class MoveInputSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    workshop = serializers.PrimaryKeyRelatedField(queryset=Workshop.objects.all())
    reason = serializers.CharField(max_length=5000)


class LoadOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()


class LoadWeekSerializer(serializers.Serializer):
    week = serializers.DateField(help_text=_("the Monday of the week"))
    planned = serializers.IntegerField(help_text=_("orders planned in the workshop that week"))
    capacity = serializers.IntegerField(help_text=_("orders the workshop can carry that week"))
    orders = LoadOrderSerializer(many=True)


class WorkshopLoadSerializer(serializers.Serializer):
    workshop = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    weeks = LoadWeekSerializer(many=True)


class LoadQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs):
        from production.selectors import MAX_WEEKS

        start, end = attrs.get("start"), attrs.get("end")
        if start and end:
            if end < start:
                raise serializers.ValidationError({"end": [_("The end may not be before the start.")]})
            if (end - start).days > MAX_WEEKS * 7:
                raise serializers.ValidationError({"end": [_("At most 53 weeks at a time.")]})
        return attrs

