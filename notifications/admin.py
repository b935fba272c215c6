from django.contrib import admin, messages
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from notifications import services
from notifications.models import EmailOutbox, LanguagePreference, Notification, NotificationPreference, Reminder
from orderdesk import roles
from orderdesk.admin_base import ReadOnlyAdmin, service_error_messages
from orderdesk.errors import ServiceError


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Each user's own notifications (superusers: everyone's), in the reader's language."""

    order_field = None
    list_display = ("created_at", "user", "kind", "order", "text", "read")
    list_filter = ("kind", "read")
    list_select_related = ("user", "order")
    search_fields = ("message", "order__number")
    actions = ("mark_read",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    @admin.display(description=_("message"))
    def text(self, obj):
        return obj.text

    @admin.action(description=_("Mark selected notifications as read"))
    def mark_read(self, request, queryset):
        try:
            count = services.mark_read(user=request.user, ids=list(queryset.values_list("pk", flat=True)))
        except ServiceError as exc:
            for line in service_error_messages(exc):
                messages.error(request, line)
            return
        messages.success(request, gettext("%(count)s notifications marked as read.") % {"count": count})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if roles.is_read_only(request.user):
            actions.pop("mark_read", None)
        return actions


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


@admin.register(LanguagePreference)
class LanguagePreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "language")
    list_filter = ("language",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("key", "sent_at")
    search_fields = ("key",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
