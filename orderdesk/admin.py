"""The kernel's admin: the audit trail, read-only for everyone (admin included), and staff phones."""

from django.contrib import admin

from orderdesk.admin_base import ReadOnlyAdmin
from orderdesk.models import AuditEntry, StaffProfile
from orderdesk.roles import Role


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The trail (R6.1): listed and searched; never added, changed or deleted here (nor anywhere)."""

    order_field = None
    view_roles = frozenset({Role.AUDITOR, Role.SALES_MANAGER})
    list_display = ("at", "kind", "order_ref", "user", "name", "before", "after", "address")
    list_filter = ("kind",)
    search_fields = ("name", "note", "object_type")
    actions = None

    def get_actions(self, request):
        return {}


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    """A staff member's work phone, shown to the customers of their orders."""

    list_display = ("user", "phone")
    search_fields = ("user__username", "phone")

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_superuser
    )
