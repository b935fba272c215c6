"""The manager's periodic check of an assistant's work (R6.1), feeding the accuracy rate (R6.3).

A :class:`PeriodicCheck` is a random sample of an assistant's recent orders; the
seed of the draw is stored, so the same sample can be drawn again and shown to
be unbiased. Each sampled order is a :class:`CheckItem` with its outcome: correct,
or an error found (what it was), and optionally a loss amount recorded against
the person responsible (R6.3).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PeriodicCheck(models.Model):
    assistant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="periodic_checks",
        verbose_name=_("assistant"),
    )
    period_start = models.DateField(_("orders from"))
    period_end = models.DateField(_("orders until"))
    sample_size = models.PositiveIntegerField(_("sample size"))
    seed = models.BigIntegerField(_("random seed"))
    population = models.PositiveIntegerField(_("orders in the period"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("periodic check")
        verbose_name_plural = _("periodic checks")

    def __str__(self) -> str:
        return f"{self.assistant} {self.period_start}–{self.period_end}"


class CheckItem(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", _("To verify")
        CORRECT = "correct", _("Correct")
        ERROR = "error", _("Error found")

    check_run = models.ForeignKey(PeriodicCheck, on_delete=models.CASCADE, related_name="items",
                                  verbose_name=_("periodic check"))
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="check_items",
                              verbose_name=_("order"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING,
                               db_index=True)
    error_description = models.TextField(_("error found"), blank=True)
    loss_amount = models.DecimalField(_("loss amount"), max_digits=16, decimal_places=2, default=Decimal("0.00"),
                                      validators=[MinValueValidator(Decimal("0.00"))])
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="recorded_losses",
        verbose_name=_("person responsible"),
    )
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("checked by"))
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    class Meta:
        ordering = ["check_run", "id"]
        verbose_name = _("checked order")
        verbose_name_plural = _("checked orders")
        constraints = [models.UniqueConstraint(fields=["check_run", "order"], name="check_item_once_per_order")]

    def __str__(self) -> str:
        return f"{self.check_run_id} {self.order_id} {self.outcome}"


class LossIncident(models.Model):
    """A loss on an order caused by a person's error (R6.3): cause, amount, who is responsible and what is done
    so it does not happen again. A sales manager confirms it (it then counts in that person's KPIs,
    ``recorded_loss``) or dismisses it."""

    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="loss_incidents",
                              verbose_name=_("order"))
    cause = models.TextField(_("cause"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="loss_incidents",
                                    verbose_name=_("person responsible"))
    corrective_action = models.TextField(_("corrective action"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REPORTED,
                              db_index=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("reported by"))
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, db_index=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("loss incident")
        verbose_name_plural = _("loss incidents")

    def __str__(self) -> str:
        return f"{self.order_id} {self.amount} {self.status}"


# --- the KPI rollup (issue 14): see supervision.kpi_rollup -----------------------------------------------------------
# Bookkeeping tables, not records anyone edits: their names are not translated (no admin, no page shows them).
class KpiOrderMark(models.Model):
    """An order whose KPI contribution may have changed: appended by database triggers (migration
    ``supervision/0003``) on every write to the orders, the state log, the field history and the check items
    that can change what the order counts for; deleted (``DELETE … RETURNING``) when folded into the rollup."""

    order_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"order {self.order_id}"


class KpiOrderFact(models.Model):
    """What one order counts for in the KPI cohorts as of the last fold (:func:`supervision.kpi_rollup.fold`):
    the row the fold subtracts from :class:`KpiDay` before it adds the order's new one. Local days
    (``settings.TIME_ZONE``). No foreign key: a deleted order's fact must outlive it until it is folded."""

    order_id = models.BigIntegerField(primary_key=True)
    assistant_id = models.BigIntegerField()
    # accuracy: the local day of the first submission (None: never submitted)
    submitted_on = models.DateField(null=True)
    decided = models.BooleanField(default=False)
    accurate = models.BooleanField(default=False)
    returned = models.BooleanField(default=False)
    corrected = models.BooleanField(default=False)
    # delivery: the promised date of an order not cancelled (None: no promise, or cancelled)
    promised_on = models.DateField(null=True)
    accepted = models.BooleanField(default=False)
    on_time = models.BooleanField(default=False)
    on_time_in_full = models.BooleanField(default=False)
    # review turnaround: the local day of the approval of a submitted order, and how long it waited (µs)
    approved_on = models.DateField(null=True)
    turnaround_us = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"order {self.order_id}"


class KpiDay(models.Model):
    """The KPI cohorts' counts per assistant and local day: the sums of :class:`KpiOrderFact` (accuracy counts
    on the day of first submission, delivery counts on the promised day, turnaround on the day of approval)."""

    assistant_id = models.BigIntegerField()
    day = models.DateField()
    submitted = models.IntegerField(default=0)
    decided = models.IntegerField(default=0)
    accurate = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    corrected = models.IntegerField(default=0)
    promised = models.IntegerField(default=0)  # not cancelled, promised on this day
    accepted = models.IntegerField(default=0)  # … and accepted
    on_time = models.IntegerField(default=0)
    on_time_in_full = models.IntegerField(default=0)
    approved = models.IntegerField(default=0)
    turnaround_us = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "assistant_id"], name="kpi_day_once")]

    def __str__(self) -> str:
        return f"{self.assistant_id} {self.day}"


class KpiRollupZone(models.Model):
    """The time zone whose local days the facts and the rollup hold (one row). When ``settings.TIME_ZONE``
    differs (checked after every ``migrate``), every order is marked and the next fold moves it to the new days."""

    name = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.name
