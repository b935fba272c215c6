"""seed_demo with payment terms (issue 11): the first customer by code has none (the §6 walk types invoices by
hand); C007's orders carry invoices drawn from its terms, and its scheduled order waits for the deposit."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from finance.models import Invoice, PaymentTerms
from orders.models import Customer, Order

pytestmark = pytest.mark.django_db


def test_seed_demo_draws_invoices_from_terms(mailoutbox):
    call_command("seed_demo", stdout=StringIO())
    assert Customer.objects.order_by("code").first().payment_terms is None
    assert PaymentTerms.objects.count() >= 3
    c007 = Customer.objects.get(code="C007")
    assert c007.payment_terms is not None
    orders = {o.state: o for o in Order.objects.filter(customer=c007)}
    assert set(orders) == {"scheduled", "accepted"}
    assert list(orders["scheduled"].invoices.values_list("trigger", "paid_amount")) == [("approval", 0)]
    drawn = {i.trigger: i for i in orders["accepted"].invoices.all()}
    assert set(drawn) == {"approval", "acceptance"} and drawn["approval"].is_paid
    assert 0 < drawn["acceptance"].paid_amount < drawn["acceptance"].amount
    assert Invoice.objects.filter(source="terms").count() == 3
    call_command("seed_demo", stdout=StringIO())  # idempotent
    assert PaymentTerms.objects.count() == 3 and Invoice.objects.filter(source="terms").count() == 3
