"""Admin of production (R3.3, R4.3, R4.4), held to the roles (see :mod:`orderdesk.admin_base`).

Workshops are master data (superusers manage them). Plans are made through the
pages or the API (they need their milestones); here production sets materials and
equipment readiness (:func:`production.services.update_readiness`), reports
progress and opens and resolves issues, each through its service.
"""

from django.contrib import admin
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from orderdesk.admin_base import ReadOnlyAdmin, ReadOnlyInline, RoleScopedAdmin
from orders.models import State
from production import services
from production.models import (
    Handover,
    Milestone,
    PreparationTask,
    ProductionIssue,
    ProductionPlan,
    ProgressReport,
    Workshop,
    WorkshopWeek,
)


class WorkshopWeekInline(admin.TabularInline):
    """A week whose capacity differs from the workshop's usual one (holiday, second shift): master data."""

    model = WorkshopWeek
    extra = 1
    fields = ("week", "capacity", "note")

    def _superuser(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return self._superuser(request)

    def has_change_permission(self, request, obj=None):
        return self._superuser(request)

    def has_delete_permission(self, request, obj=None):
        return self._superuser(request)


@admin.register(Workshop)
class WorkshopAdmin(RoleScopedAdmin):
    """Workshops and their weekly capacity (the calendar and `schedule`'s capacity check read them)."""

    order_field = None
    superuser_manages = True
    list_display = ("code", "name", "supervisor", "capacity", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    inlines = (WorkshopWeekInline,)


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = ("order", "workshop", "assigned_by", "assigned_at")
    list_select_related = ("order", "workshop", "assigned_by")
    search_fields = ("order__number",)


@admin.register(PreparationTask)
class PreparationTaskAdmin(ReadOnlyAdmin):
    list_display = ("order", "kind", "description", "owner", "due_date", "ready_at")
    list_filter = ("kind",)
    list_select_related = ("order", "owner")
    search_fields = ("order__number", "description")


class MilestoneInline(ReadOnlyInline):
    model = Milestone
    fields = ("name", "due_date", "quantity", "responsible", "done_at", "done_by", "done_note")


@admin.register(ProductionPlan)
class ProductionPlanAdmin(RoleScopedAdmin):
    """Plans: readiness is changed here while the order is reviewed or scheduled."""

    change_action = "plan.manage"
    change_fields = ("materials_ready", "equipment_ready")
    list_display = ("order", "workshop", "finish", "materials_ready", "equipment_ready", "created_by", "created_at")
    list_filter = ("workshop", "materials_ready", "equipment_ready")
    list_select_related = ("order", "workshop", "created_by")
    search_fields = ("order__number",)
    fields = ("order", "workshop", "materials_ready", "equipment_ready", "created_by", "created_at", "updated_at")
    inlines = (MilestoneInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(finish_date=Max("milestones__due_date"))

    @admin.display(description=_("plan finishes"), ordering="finish_date")
    def finish(self, obj):
        return getattr(obj, "finish_date", None)

    def is_changeable(self, obj):
        return obj.order.state in services.READINESS_STATES

    def change_via_service(self, request, obj, data, changed):
        return services.update_readiness(
            user=request.user,
            plan_id=obj.pk,
            materials_ready=data["materials_ready"] if "materials_ready" in changed else None,
            equipment_ready=data["equipment_ready"] if "equipment_ready" in changed else None,
        )


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    order_field = "plan__order"
    list_display = ("plan", "name", "due_date", "responsible", "done_at")
    list_select_related = ("plan__order", "plan__workshop", "responsible")
    search_fields = ("plan__order__number", "name")


@admin.register(ProgressReport)
class ProgressReportAdmin(RoleScopedAdmin):
    """Progress reports (R4.4): added through :func:`production.services.report_progress`."""

    add_action = "progress.report"
    add_fields = ("order", "percent_complete", "note")
    order_choice_states = (State.PRODUCING,)
    list_display = ("reported_at", "order", "percent_complete", "note", "reported_by")
    list_select_related = ("order", "reported_by")
    search_fields = ("order__number", "note")
    fields = ("order", "percent_complete", "note", "reported_by", "reported_at")

    def add_via_service(self, request, data):
        return services.report_progress(
            user=request.user,
            order_id=data["order"].pk,
            percent_complete=data["percent_complete"],
            note=data.get("note") or "",
        )


@admin.register(ProductionIssue)
class ProductionIssueAdmin(RoleScopedAdmin):
    """Delays and quality problems (R4.4): opened and resolved through the services."""

    add_action = "issue.open"
    change_action = "issue.resolve"
    add_fields = ("order", "kind", "description")
    change_fields = ("resolution",)
    order_choice_states = services.ISSUE_STATES
    list_display = ("opened_at", "order", "kind", "description", "opened_by", "is_open", "resolved_at")
    list_filter = ("kind",)
    list_select_related = ("order", "opened_by")
    search_fields = ("order__number", "description", "resolution")
    fields = ("order", "kind", "description", "opened_by", "opened_at", "resolution", "resolved_by", "resolved_at")

    @admin.display(description=_("open"), boolean=True)
    def is_open(self, obj):
        return obj.is_open

    def is_changeable(self, obj):
        return obj.resolved_at is None

    def add_via_service(self, request, data):
        return services.open_issue(
            user=request.user, order_id=data["order"].pk, kind=data["kind"], description=data["description"]
        )

    def change_via_service(self, request, obj, data, changed):
        return services.resolve_issue(user=request.user, issue_id=obj.pk, resolution=data.get("resolution") or "")
