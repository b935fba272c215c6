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
    # How many orders the workshop can carry at once, i.e. in one week (capable-to-promise, issue 4;
    # the workshop calendar and the `schedule` capacity check, issue 10). A week can differ
    # (holidays, a second shift): :class:`WorkshopWeek`.
    capacity = models.PositiveIntegerField(_("weekly capacity (orders)"), default=5)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("workshop")
        verbose_name_plural = _("workshops")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class WorkshopWeek(models.Model):
    """The capacity of one workshop in one week where it differs from the workshop's usual capacity."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="weeks", verbose_name=_("workshop"))
    week = models.DateField(_("week (Monday)"))
    capacity = models.PositiveIntegerField(_("capacity (orders)"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["workshop", "week"]
        constraints = [models.UniqueConstraint(fields=["workshop", "week"], name="uniq_workshop_week")]
        verbose_name = _("workshop week")
        verbose_name_plural = _("workshop weeks")

    def __str__(self) -> str:
        return f"{self.workshop.code} {self.week}"


class Handover(models.Model):
    """R4.3: after approval the assistant hands the order over to production, to a workshop, with a note."""

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="production_handover", verbose_name=_("order")
    )
    workshop = models.ForeignKey(Workshop, on_delete=models.PROTECT, related_name="+", verbose_name=_("workshop"))
    note = models.TextField(_("note on priorities"), blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("assigned by"))
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    moved_reason = models.TextField(_("reason of the last move"), blank=True)

    class Meta:
        verbose_name = _("hand-over to production")
        verbose_name_plural = _("hand-overs to production")

    def __str__(self) -> str:
        return f"{self.order_id} → {self.workshop.code}"


class ProductionPlan(models.Model):
    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="production_plan", verbose_name=_("order")
    )
    workshop = models.ForeignKey(Workshop, on_delete=models.PROTECT, related_name="plans", verbose_name=_("workshop"))
    materials_ready = models.BooleanField(_("materials ready"), default=False)
    equipment_ready = models.BooleanField(_("equipment ready"), default=False)
    # The first day the order occupies its workshop (default: the day the plan was made).
    start_date = models.DateField(_("start date"), null=True, blank=True)
    # `schedule` over the workshop's capacity: acknowledged with a reason (DESIGN §6b).
    capacity_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    capacity_reason = models.TextField(_("reason for scheduling over capacity"), blank=True)
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
    # The quantity this milestone produces (progress reports against it count towards it); None: the
    # order's whole quantity.
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("done by"),
    )
    done_note = models.TextField(_("completion note"), blank=True)

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
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, null=True, blank=True, related_name="reports", verbose_name=_("milestone")
    )
    quantity_done = models.DecimalField(_("quantity done"), max_digits=12, decimal_places=3, null=True, blank=True)
    photo = models.FileField(_("photo"), upload_to="progress/%Y/%m/", blank=True)
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

    class Disposition(models.TextChoices):
        REWORK = "rework", _("Rework")
        SCRAP = "scrap", _("Scrap")
        CONCESSION = "concession", _("Concession")

    class MessageState(models.TextChoices):
        DRAFT = "draft", _("Draft, to be reviewed")
        SENT = "sent", _("Sent to the customer")

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="production_issues")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    description = models.TextField(_("description"))
    # delay: the new expected finish of production
    expected_date = models.DateField(_("expected finish"), null=True, blank=True)
    # quality: what happens to the goods
    disposition = models.CharField(_("disposition"), max_length=12, choices=Disposition.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("owner"),
    )
    # What the customer is told (R4.4): drafted in the customer's language, reviewed and sent by the
    # order's assistant; only a sent message reaches the customer (e-mail, tracking page).
    customer_message = models.TextField(_("message to the customer"), blank=True)
    message_state = models.CharField(_("message state"), max_length=10, choices=MessageState.choices,
                                     default=MessageState.DRAFT)
    message_sent_at = models.DateTimeField(_("message sent at"), null=True, blank=True)
    message_sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
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


class PreparationTask(models.Model):
    """Production prepares materials and equipment (R4.3): one task each, with owner, due date, readiness."""

    class Kind(models.TextChoices):
        MATERIAL = "material", _("Material")
        EQUIPMENT = "equipment", _("Equipment")

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="preparation_tasks",
                              verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="preparation_tasks",
                              verbose_name=_("owner"))
    due_date = models.DateField(_("due date"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    ready_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("preparation task")
        verbose_name_plural = _("preparation tasks")

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}: {self.description}"

    @property
    def is_ready(self) -> bool:
        return self.ready_at is not None
