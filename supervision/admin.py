"""Admin of supervision (R6.1): the manager's periodic checks, read only, held to the roles.

Sampled checks are internal records as a whole (``orderdesk.roles.FIELD_CLASSES``); the admin shows
them to the roles that read checks (``check.view``), scoped to the orders they see.
"""

from django.contrib import admin

from orderdesk import roles
from orderdesk.admin_base import ReadOnlyAdmin, ReadOnlyInline
from supervision.models import CheckItem, LossIncident, PeriodicCheck

CHECK_READERS = roles.ACTION_ROLES["check.view"]


class CheckItemInline(ReadOnlyInline):
    model = CheckItem
    fields = ("order", "outcome", "error_description", "loss_amount", "responsible", "checked_by", "checked_at")
    show_change_link = False


@admin.register(PeriodicCheck)
class PeriodicCheckAdmin(ReadOnlyAdmin):
    """Periodic checks are drawn by the service (seeded sample); the admin reads them."""

    order_field = None
    view_roles = CHECK_READERS
    list_display = ("assistant", "period_start", "period_end", "sample_size", "population", "seed", "created_by",
                    "created_at")
    list_filter = ("assistant",)
    fields = ("assistant", "period_start", "period_end", "sample_size", "population", "seed", "created_by",
              "created_at")
    inlines = [CheckItemInline]


@admin.register(CheckItem)
class CheckItemAdmin(ReadOnlyAdmin):
    view_roles = CHECK_READERS
    list_display = ("check_run", "order", "outcome", "loss_amount", "responsible", "checked_by", "checked_at")
    list_filter = ("outcome",)
    list_select_related = ("check_run", "order", "responsible", "checked_by")


@admin.register(LossIncident)
class LossIncidentAdmin(ReadOnlyAdmin):
    """Loss incidents (R6.3): reported and decided on /supervision/losses/ or the API (services check roles)."""

    view_roles = roles.ACTION_ROLES["loss.view"]
    list_display = ("reported_at", "order", "amount", "responsible", "status", "decided_by", "decided_at")
    list_filter = ("status",)
    list_select_related = ("order", "responsible", "decided_by")
    search_fields = ("order__number", "cause", "corrective_action")
