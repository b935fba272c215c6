"""Notification delivery (R3.2, R4.4, R5.3): preferences and the e-mail outbox.

The app owns the in-app rows (:class:`Notification`, kept in its original table
``orders_notification``), the preferences, each user's language and the outbox. An e-mail is
never sent inside a request: its :class:`EmailOutbox` row is written in the same
transaction as its cause, and only the *sending* is queued after commit (see
:mod:`notifications.services`).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orderdesk.choices import ChoiceLabelsMixin


class Notification(ChoiceLabelsMixin, models.Model):
    """One in-app notification of one user.

    Its text is stored as a message id with parameters (:mod:`notifications.messages`) and
    rendered in the *reader's* language when it is read (:meth:`text`); ``message`` keeps the text
    in the site's language as written, for rows older than message ids (the fallback) and for the
    admin's search."""

    class Kind(models.TextChoices):
        REVIEW_REQUESTED = "review_requested", _("Review requested")
        ORDER_APPROVED = "order_approved", _("Order approved")
        ORDER_RETURNED = "order_returned", _("Order returned")
        ORDER_SCHEDULED = "order_scheduled", _("Order scheduled")
        PRODUCTION_STARTED = "production_started", _("Production started")
        ORDER_SHIPPED = "order_shipped", _("Order shipped")
        ORDER_ACCEPTED = "order_accepted", _("Order accepted")
        DELIVERY_REJECTED = "delivery_rejected", _("Delivery rejected")
        ORDER_SETTLED = "order_settled", _("Order settled")
        ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
        SIGNOFF_REQUESTED = "signoff_requested", _("Joint review sign-off requested")
        SIGNOFF_RECORDED = "signoff_recorded", _("Joint review sign-off recorded")
        CLARIFICATION_OPENED = "clarification_opened", _("Clarification opened")
        ESCALATION = "escalation", _("Problem escalated")
        PROGRESS_REPORTED = "progress_reported", _("Progress reported")
        ISSUE_OPENED = "issue_opened", _("Production issue opened")
        SHIPMENT_UPDATED = "shipment_updated", _("Shipment updated")
        PAYMENT_RECEIVED = "payment_received", _("Payment received")
        ORDER_OVERDUE = "order_overdue", _("Order overdue")
        ORDER_AT_RISK = "order_at_risk", _("Order at risk")
        ORDER_STALE = "order_stale", _("No progress reported")
        PAYMENT_OVERDUE = "payment_overdue", _("Payment overdue")
        REVIEW_WAITING = "review_waiting", _("Review waiting too long")
        ALERT_ESCALATED = "alert_escalated", _("Unresolved alert escalated")
        COMPLAINT = "complaint", _("Complaint received")
        READY_TO_SHIP = "ready_to_ship", _("Ready to ship")
        MILESTONE_DUE = "milestone_due", _("Milestone due")
        LOW_SURVEY_SCORE = "low_survey_score", _("Low survey score")
        ORDER_REASSIGNED = "order_reassigned", _("Order reassigned")
        MILESTONE_ASSIGNED = "milestone_assigned", _("Milestone assigned")
        PREPARATION_ASSIGNED = "preparation_assigned", _("Preparation task assigned")
        HANDED_OVER = "handed_over", _("Order handed over to production")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    message = models.TextField(_("message"))
    message_id = models.CharField(_("message id"), max_length=60, blank=True, default="")
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    read = models.BooleanField(_("read"), default=False)
    # Makes delivery idempotent: a retried task never writes the same notification twice.
    dedupe_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        db_table = "orders_notification"
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "read"], name="orders_noti_user_id_5f6044_idx"),
            # a reader's newest first (dashboard, notifications page): the first rows of the index, not a sort
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"

    @property
    def text(self) -> str:
        """The message in the active language (the reader's), from its id and parameters."""
        from notifications import messages

        return messages.render(self.message_id, self.params, fallback=self.message)

    def text_in(self, language: str) -> str:
        from django.utils import translation

        with translation.override(language):
            return self.text


class LanguagePreference(models.Model):
    """The language a user reads notifications and e-mails in (no row: ``settings.LANGUAGE_CODE``);
    the site's language switch stores it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="language_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("language preference")
        verbose_name_plural = _("language preferences")

    def __str__(self) -> str:
        return f"{self.user_id} {self.language}"


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("E-mail")


class NotificationPreference(models.Model):
    """One user's choice for one kind on one channel; no row means the default
    (:data:`notifications.services.DEFAULT_EMAIL_KINDS`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=40, choices=Notification.Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="notification_pref_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.channel} {self.enabled}"


class EmailOutbox(models.Model):
    """An e-mail to send, written atomically with its cause; sent at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    recipient = models.EmailField(_("recipient"))
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    language = models.CharField(_("language"), max_length=10)
    kind = models.CharField(_("kind"), max_length=40, blank=True)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("order")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("user"),
    )
    # Makes writing idempotent: the same cause never queues the same e-mail twice.
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"


class Reminder(models.Model):
    """A reminder sent once (e.g. ``milestone:<pk>:due``): the scheduled checks skip a key stored here."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")

    def __str__(self) -> str:
        return self.key
