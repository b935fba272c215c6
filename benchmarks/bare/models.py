from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone


class BenchOrder(models.Model):
    """About the width of an order row: a number, a state, a customer, contacts, dates, an amount."""

    number = models.CharField(max_length=32, unique=True)
    state = models.CharField(max_length=20, default="received", db_index=True)
    customer_name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=100)
    contact_phone = models.CharField(max_length=50)
    delivery_address = models.CharField(max_length=300)
    requested_delivery_date = models.DateField()
    promised_delivery_date = models.DateField(null=True, blank=True)
    total_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "bare"  # explicit: OrderDesk's benchmark command reads the table without installing the app
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number
