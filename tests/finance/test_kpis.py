"""KPIs gain days sales outstanding and the overdue amount per assistant (issue 11)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from finance import services
from tests import factories
from tests.factories import Cast, make_order
from tests.utils import call

pytestmark = pytest.mark.django_db


def test_dso_and_overdue_per_assistant(api_client_for):
    cast = Cast()
    other = factories.user_with_role("sales_assistant", "sales_assistant2")
    start = timezone.localtime().replace(hour=12)
    with time_machine.travel(start, tick=False):
        mine = make_order("accepted", cast=cast)
        theirs = make_order("accepted", cast=Cast(owner=other))
        today = timezone.localdate()
        a = services.create_invoice(
            user=cast.finance_specialist,
            order_id=mine.pk,
            amount=Decimal("600"),
            due_date=today + datetime.timedelta(days=5),
        )
        services.create_invoice(
            user=cast.finance_specialist,
            order_id=theirs.pk,
            amount=Decimal("1000"),
            due_date=today + datetime.timedelta(days=40),
        )
        services.record_payment(
            user=cast.finance_specialist, invoice_id=a.pk, amount=Decimal("200"), received_on=today, reference="B"
        )
    with time_machine.travel(start + datetime.timedelta(days=20), tick=False):
        end = timezone.localdate()
        begin = end - datetime.timedelta(days=29)
        body = call(
            api_client_for(cast.sales_manager), "get", "/kpis/", {"start": str(begin), "end": str(end)}, expect=200
        )
        rows = {r["username"]: r for r in body["by_assistant"]}
        # mine: 400 open of 600 invoiced over 30 days → 20 days; overdue (due 5 days in) 400
        assert (rows["sales_assistant"]["dso_days"], rows["sales_assistant"]["overdue_amount"]) == (20.0, "400.00")
        assert (rows["sales_assistant2"]["dso_days"], rows["sales_assistant2"]["overdue_amount"]) == (30.0, "0.00")
        assert (body["dso_days"], body["overdue_amount"]) == (26.2, "400.00")  # 1400 / 1600 × 30
        own = call(api_client_for(cast.sales_assistant), "get", "/kpis/", {"start": str(begin), "end": str(end)})
        assert own["overdue_amount"] == "400.00"
