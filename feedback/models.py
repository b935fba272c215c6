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

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="complaints",
                              verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    description = models.TextField(_("description"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("handled by"))
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("complaint or suggestion")
        verbose_name_plural = _("complaints and suggestions")

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"
