"""Customer feedback (R6.2): the satisfaction questionnaire and complaints or suggestions.

A :class:`Survey` is opened when the customer accepts the delivery (the invitation
e-mail carries its signed link, ``/survey/<token>/``) and answered once, without an
account. A :class:`Complaint` is recorded by sales from a phone follow-up or any other
channel and handled by the sales manager through its own states. Both feed the KPIs of
:mod:`supervision.selectors.kpis` (satisfaction, response rate, complaint count).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Survey(models.Model):
    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="survey",
                                 verbose_name=_("order"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # the questions besides the overall rating (``score``), each 1-5, optional for the customer
    quality = models.PositiveSmallIntegerField(
        _("product quality"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    punctuality = models.PositiveSmallIntegerField(
        _("punctuality"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    communication = models.PositiveSmallIntegerField(
        _("communication"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    # the one reminder to a customer who has not answered after SURVEY_REMINDER_DAYS
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.score or '-'}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class Complaint(models.Model):
    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        SUGGESTION = "suggestion", _("Suggestion")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        STAFF = "staff", _("Recorded by staff")
        CUSTOMER = "customer", _("Filed by the customer")

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="complaints",
                              verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    description = models.TextField(_("description"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.STAFF)
    # None when the customer filed it on the tracking page
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    null=True, blank=True, verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="owned_complaints", verbose_name=_("owner"))
    due_on = models.DateField(_("due on"), null=True, blank=True, db_index=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("handled by"))
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    customer_told_at = models.DateTimeField(_("customer told at"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue reported at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("complaint or suggestion")
        verbose_name_plural = _("complaints and suggestions")

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.RESOLVED, self.Status.CLOSED)

    @property
    def is_overdue(self) -> bool:
        return not self.is_done and self.due_on is not None and self.due_on < timezone.localdate()


class FollowUp(models.Model):
    """A phone follow-up with the customer (R6.2 "电话回访"): the assistant's record and the customer's score."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="followups",
                              verbose_name=_("order"))
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    summary = models.TextField(_("summary"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("phone follow-up")
        verbose_name_plural = _("phone follow-ups")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.score}"


class ReceiptConfirmation(models.Model):
    """The customer's confirmation, on the tracking page after shipment, that the goods arrived and how their
    inspection went (R4.5); the assistant reads it on the order page before running `accept`."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="receipt_confirmation",
                                 verbose_name=_("order"))
    received_by = models.CharField(_("received by"), max_length=100)
    inspection_passed = models.BooleanField(_("inspection passed"))
    note = models.TextField(_("note"), blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), default=timezone.now)

    class Meta:
        verbose_name = _("receipt confirmed by the customer")
        verbose_name_plural = _("receipts confirmed by customers")

    def __str__(self) -> str:
        return f"{self.order_id}: {'ok' if self.inspection_passed else 'failed'}"
