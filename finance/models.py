"""Finance (R3.5, R4.5): payment terms, invoices drawn from them or typed by hand, credit notes, the payments
received, the deposit gate's waivers and the assistants' follow-ups of receivables."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0.00")


class Trigger(models.TextChoices):
    """The event an installment of the terms is invoiced at (DESIGN §6b)."""

    APPROVAL = "approval", _("on approval")
    BEFORE_PRODUCTION = "before_production", _("before production")
    SHIPMENT = "shipment", _("on shipment")
    ACCEPTANCE = "acceptance", _("on acceptance")


#: the installments that must be paid before production starts (the deposit gate)
DEPOSIT_TRIGGERS = (Trigger.APPROVAL, Trigger.BEFORE_PRODUCTION)
#: transition → the triggers invoiced when it runs
TRIGGERS_OF_TRANSITION = {
    "approve": (Trigger.APPROVAL, Trigger.BEFORE_PRODUCTION),
    "ship": (Trigger.SHIPMENT,),
    "accept": (Trigger.ACCEPTANCE,),
}


class PaymentTerms(models.Model):
    """A template of payment terms: installments (percent, trigger, days) summing to 100 %."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("payment terms")
        verbose_name_plural = _("payment terms")

    def __str__(self) -> str:
        return self.name

    @property
    def has_deposit(self) -> bool:
        return any(i.trigger in DEPOSIT_TRIGGERS for i in self.installments.all())


class Installment(models.Model):
    terms = models.ForeignKey(PaymentTerms, on_delete=models.CASCADE, related_name="installments")
    position = models.PositiveSmallIntegerField(_("position"))
    percent = models.DecimalField(
        _("percent"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    days = models.PositiveSmallIntegerField(_("days"), default=0)

    class Meta:
        ordering = ["terms", "position"]
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        constraints = [models.UniqueConstraint(fields=["terms", "position"], name="installment_position_unique")]

    def __str__(self) -> str:
        return f"{self.percent}% {self.get_trigger_display()} +{self.days}"


class Invoice(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", _("typed by hand")
        TERMS = "terms", _("drawn from the terms")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="invoices")
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    due_date = models.DateField(_("due date"), db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    # Kept in step by the payment service, so exposure and receivables aggregate in SQL.
    paid_amount = models.DecimalField(_("paid amount"), max_digits=16, decimal_places=2, default=ZERO)
    # Kept in step by the credit-note service (a cancelled or reduced order).
    credited_amount = models.DecimalField(_("credited amount"), max_digits=16, decimal_places=2, default=ZERO)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    # The installment of the order's terms this invoice draws (one invoice per installment and order).
    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices, blank=True)

    class Meta:
        ordering = ["issued_at", "id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            # a retried event never invoices an installment twice
            models.UniqueConstraint(
                fields=["order", "installment"],
                condition=Q(installment__isnull=False),
                name="invoice_once_per_installment",
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__lte=models.F("amount") - models.F("credited_amount")),
                name="invoice_not_overpaid",
            ),
        ]
        indexes = [models.Index(fields=["due_date", "order"], name="invoice_due_order")]

    def __str__(self) -> str:
        return f"INV-{self.pk} {self.amount}"

    @property
    def number(self) -> str:
        return f"INV-{self.pk}"

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.credited_amount

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.credited_amount - self.paid_amount

    @property
    def is_paid(self) -> bool:
        return self.paid_amount >= self.amount - self.credited_amount

    @property
    def days_overdue(self) -> int:
        """Days past the due date on the day read (``as_of``, set by the receivables selector; else today)."""
        as_of = getattr(self, "as_of", None) or timezone.localdate()
        return max((as_of - self.due_date).days, 0)


class CreditNote(models.Model):
    """A credit against an invoice's unpaid part (a cancelled or reduced order)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    reason = models.TextField(_("reason"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)

    class Meta:
        ordering = ["issued_at", "id"]
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")

    def __str__(self) -> str:
        return f"CN-{self.pk} {self.amount}"

    @property
    def number(self) -> str:
        return f"CN-{self.pk}"


class Payment(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("reference"), max_length=100)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["received_on", "id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.amount}"


class DepositWaiver(models.Model):
    """A finance manager lets production start before the deposit is paid (the reason is kept)."""

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="deposit_waiver")
    reason = models.TextField(_("reason"))
    waived_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    waived_at = models.DateTimeField(_("waived at"), default=timezone.now)

    class Meta:
        verbose_name = _("deposit waiver")
        verbose_name_plural = _("deposit waivers")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.reason[:40]}"


class FollowUp(models.Model):
    """An assistant's follow-up of an open receivable with the customer (R4.5)."""

    class Channel(models.TextChoices):
        CALL = "call", _("call")
        EMAIL = "email", _("e-mail")
        VISIT = "visit", _("visit")
        OTHER = "other", _("other")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="follow_ups")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    note = models.TextField(_("note"))
    promised_on = models.DateField(_("payment promised on"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.channel}"
