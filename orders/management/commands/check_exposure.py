"""`python manage.py check_exposure [--repair]`: compare each customer's open exposure as the database keeps it
(:class:`orders.models.CustomerExposure`, kept by triggers) with the figure added up from the orders and their
invoices (:func:`orders.selectors.live_open_exposure`); ``--repair`` replaces a differing customer's entries with
the live figure. Exits with status 1 when a difference is found and not repaired (for a monitoring job)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from orders import selectors
from orders.models import Customer, CustomerExposure


class Command(BaseCommand):
    help = "Compare the kept open exposure of every customer with the live figure (--repair fixes differences)."

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="replace differing entries with the live figure")

    def handle(self, *args, repair=False, **options):
        differing = 0
        for customer in Customer.objects.order_by("code").iterator():
            with transaction.atomic():
                if repair:  # no order of the customer changes while its figure is rewritten
                    list(customer.orders.select_for_update().values_list("pk", flat=True))
                kept = selectors.credit_position_of(customer_id=customer.pk)[1]
                live = selectors.live_open_exposure(customer=customer)
                if kept == live:
                    continue
                differing += 1
                self.stdout.write(f"{customer.code}: kept {kept}, live {live}")
                if repair:
                    CustomerExposure.objects.filter(customer=customer).delete()
                    if live:
                        CustomerExposure.objects.create(customer=customer, amount=live)
        if differing and not repair:
            self.stderr.write(f"{differing} customer(s) differ; run with --repair to rewrite them")
            raise SystemExit(1)
        self.stdout.write(f"checked; {differing} repaired" if repair else "checked; no difference")
