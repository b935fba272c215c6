import datetime

import pytest
from django.utils import timezone

from orders.models import Order


def shift(order, **fields):
    """Set dates of an already-built order for a known data set (test setup only; never `state`)."""
    Order.objects.filter(pk=order.pk).update(**fields)
    return Order.objects.get(pk=order.pk)


def hours_ago(n: float):
    return timezone.now() - datetime.timedelta(hours=n)


@pytest.fixture
def kpi_url():
    return "/api/v1/kpis/"
