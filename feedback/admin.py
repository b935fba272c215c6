from django.contrib import admin

from feedback.models import Complaint, Survey
from orderdesk import roles
from orderdesk.admin_base import ReadOnlyAdmin

FEEDBACK_READERS = roles.SALES | roles.FINANCE | {roles.Role.AUDITOR}


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    """Customers' answers; written only by the customer through the signed link."""

    view_roles = FEEDBACK_READERS
    list_display = ("sent_at", "order", "score", "answered_at")
    list_filter = ("score",)
    list_select_related = ("order",)
    search_fields = ("order__number", "comment")


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    """Complaints and suggestions; recorded and handled on the API (services check roles and states)."""

    view_roles = FEEDBACK_READERS
    list_display = ("created_at", "order", "kind", "status", "recorded_by", "handled_by", "resolved_at")
    list_filter = ("kind", "status")
    list_select_related = ("order", "recorded_by", "handled_by")
    search_fields = ("order__number", "description", "resolution")
