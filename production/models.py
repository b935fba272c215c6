"""Production (R3.3, R4.3, R4.4): workshops, plans with milestones, progress and issues."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Workshop(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("supervisor"),
    )
    # How many orders the workshop can carry at once (capable-to-promise, issue 4).
    capacity = models.PositiveIntegerField(_("parallel order capacity"), default=5)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("workshop")
        verbose_name_plural = _("workshops")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProductionPlan(models.Model):
    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="production_plan", verbose_name=_("order")
    )
    workshop = models.ForeignKey(Workshop, on_delete=models.PROTECT, related_name="plans", verbose_name=_("workshop"))
    materials_ready = models.BooleanField(_("materials ready"), default=False)
    equipment_ready = models.BooleanField(_("equipment ready"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("production plan")
        verbose_name_plural = _("production plans")

    def __str__(self) -> str:
        return f"{self.order} @ {self.workshop.code}"


class Milestone(models.Model):
    plan = models.ForeignKey(ProductionPlan, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(_("name"), max_length=100)
    due_date = models.DateField(_("due date"))
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="milestones", verbose_name=_("responsible")
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")

    def __str__(self) -> str:
        return self.name


class ProgressReport(models.Model):
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="progress_reports")
    percent_complete = models.PositiveSmallIntegerField(
        _("percent complete"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    note = models.TextField(_("note"), blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["reported_at", "id"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")

    def __str__(self) -> str:
        return f"{self.order_id} {self.percent_complete}%"


class ProductionIssue(models.Model):
    class Kind(models.TextChoices):
        DELAY = "delay", _("Delay")
        QUALITY = "quality", _("Quality")

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="production_issues")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    description = models.TextField(_("description"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        verbose_name = _("production issue")
        verbose_name_plural = _("production issues")

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
