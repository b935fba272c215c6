from django.contrib import admin

from supervision.models import CheckItem, PeriodicCheck


class CheckItemInline(admin.TabularInline):
    model = CheckItem
    extra = 0
    raw_id_fields = ("order", "responsible", "checked_by")
    readonly_fields = ("checked_by", "checked_at")


@admin.register(PeriodicCheck)
class PeriodicCheckAdmin(admin.ModelAdmin):
    """Periodic checks are drawn by the service (seeded sample); the admin reads them."""

    list_display = ("assistant", "period_start", "period_end", "sample_size", "population", "seed", "created_by",
                    "created_at")
    list_filter = ("assistant",)
    readonly_fields = ("assistant", "period_start", "period_end", "sample_size", "population", "seed",
                       "created_by", "created_at")
    inlines = [CheckItemInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CheckItem)
class CheckItemAdmin(admin.ModelAdmin):
    list_display = ("check_run", "order", "outcome", "loss_amount", "responsible", "checked_by", "checked_at")
    list_filter = ("outcome",)
    raw_id_fields = ("order", "responsible", "checked_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
