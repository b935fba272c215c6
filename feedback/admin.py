from django.contrib import admin

from feedback.models import Complaint, FollowUp, ReceiptConfirmation, Survey
from orderdesk import roles
from orderdesk.admin_base import ReadOnlyAdmin

# who reads feedback: the roles module's declared `feedback.view`
FEEDBACK_READERS = roles.ACTION_ROLES["feedback.view"]


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
    list_display = ("created_at", "order", "kind", "source", "status", "owner", "due_on", "handled_by",
                    "resolved_at", "closed_at")
    list_filter = ("kind", "status")
    list_select_related = ("order", "recorded_by", "handled_by", "owner")
    search_fields = ("order__number", "description", "resolution")


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    """Phone follow-ups; recorded on the order page or the API."""

    view_roles = FEEDBACK_READERS
    list_display = ("created_at", "order", "score", "recorded_by")
    list_filter = ("score",)
    list_select_related = ("order", "recorded_by")
    search_fields = ("order__number", "summary")


@admin.register(ReceiptConfirmation)
class ReceiptConfirmationAdmin(ReadOnlyAdmin):
    """Receipts confirmed by customers on the tracking page."""

    view_roles = FEEDBACK_READERS
    list_display = ("confirmed_at", "order", "inspection_passed")
    list_select_related = ("order",)
    search_fields = ("order__number",)
