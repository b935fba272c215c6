from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _, ngettext

from notifications import services
from notifications.models import EmailOutbox, NotificationPreference


@admin.register(EmailOutbox)
class EmailOutboxAdmin(admin.ModelAdmin):
    """The outbox: failures stay visible (status, attempts, last error) and can be retried."""

    list_display = ("created_at", "recipient", "subject", "kind", "status", "attempts", "sent_at", "order")
    list_filter = ("status", "kind", "language")
    search_fields = ("recipient", "subject", "dedupe_key", "order__number")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in EmailOutbox._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry sending the selected e-mails"))
    def retry(self, request, queryset):
        count = services.retry_outbox(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d e-mail queued again.", "%(count)d e-mails queued again.", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "channel", "enabled")
    list_filter = ("channel", "enabled", "kind")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
