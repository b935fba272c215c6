"""Every money write of finance reaches the one audit trail (issue 12, R6.1): terms, customer defaults,
invoices drawn from terms, credit notes (by hand and on cancel), payments, the deposit waiver and the
assistant's follow-ups, each with who, before/after and a note."""

from __future__ import annotations

from decimal import Decimal

import pytest

from finance import services
from orderdesk.errors import InvalidInput
from orderdesk.models import AuditEntry
from tests import factories
from tests.factories import Cast, days, make_order, prepare, run, today

pytestmark = pytest.mark.django_db

DEPOSIT_BALANCE = [
    {"percent": "30", "trigger": "approval", "days": 0},
    {"percent": "70", "trigger": "acceptance", "days": 30},
]


@pytest.fixture
def cast(db):
    return Cast()


def entries(**filters):
    return list(AuditEntry.objects.filter(**filters).order_by("at", "id"))


def test_terms_and_a_customers_default_are_in_the_trail(cast):
    t = services.create_terms(user=cast.finance_manager, name="30/70", installments=DEPOSIT_BALANCE)
    (created,) = entries(kind="payment_terms", name="create")
    assert (created.user, created.after, created.object_id) == (cast.finance_manager, "30/70", str(t.pk))
    assert "30" in created.note and "acceptance" in created.note
    customer = factories.CustomerFactory()
    services.set_customer_terms(user=cast.finance_manager, customer=customer, terms=t)
    (default,) = entries(kind="payment_terms", name="customer_default")
    assert (default.before, default.after, default.note) == ("", "30/70", customer.code)


def test_drawn_invoices_credit_on_cancel_and_the_waiver_are_in_the_trail(cast):
    t = services.create_terms(user=cast.finance_manager, name="30/70", installments=DEPOSIT_BALANCE)
    order = make_order("reviewed", cast=cast, customer=factories.CustomerFactory(payment_terms=t))
    (drawn,) = entries(order_ref=order.pk, kind="invoice", name="draw")
    assert Decimal(drawn.after) == Decimal("300.00") and drawn.note.startswith("approval")
    order = prepare(order, "start_production", cast)
    run(order, "schedule", cast.production_supervisor)
    services.waive_deposit(user=cast.finance_manager, order_id=order.pk, reason="LC received")
    (waiver,) = entries(order_ref=order.pk, kind="change", name="deposit_waiver")
    assert (waiver.user, waiver.after) == (cast.finance_manager, "LC received")
    run(order, "cancel", cast.sales_manager, comment="customer withdrew")
    (credit,) = entries(order_ref=order.pk, kind="credit_note")
    assert (Decimal(credit.before), Decimal(credit.after), credit.note) == (
        Decimal("0.00"), Decimal("300.00"), "customer withdrew")


def test_hand_invoices_credit_notes_payments_and_follow_ups_are_in_the_trail(cast):
    order = make_order("accepted", cast=cast)
    invoice = services.create_invoice(user=cast.finance_specialist, order_id=order.pk, amount=Decimal("1000"),
                                      due_date=days(10))
    services.record_payment(user=cast.finance_specialist, invoice_id=invoice.pk, amount=Decimal("600"),
                            received_on=today(), reference="BANK-1")
    services.log_follow_up(user=cast.sales_assistant, invoice_id=invoice.pk, channel="call", note="pays Friday",
                           promised_on=days(3))
    services.create_credit_note(user=cast.finance_specialist, invoice_id=invoice.pk, amount=Decimal("400"),
                                reason="2 pcs short")
    kinds = [(e.kind, e.name) for e in entries(order_ref=order.pk) if e.kind != "transition" and e.kind != "signoff"]
    assert ("invoice", "create") in kinds and ("payment", "record") in kinds
    assert kinds.index(("receivable_followup", "call")) < kinds.index(("credit_note", "create"))
    (follow_up,) = entries(order_ref=order.pk, kind="receivable_followup")
    assert (follow_up.user, follow_up.note, follow_up.after) == (cast.sales_assistant, "pays Friday",
                                                                 days(3).isoformat())
    (credit,) = entries(order_ref=order.pk, kind="credit_note")
    assert (credit.user, credit.note) == (cast.finance_specialist, "2 pcs short")


def test_a_refused_write_leaves_no_trail(cast):
    order = make_order("accepted", cast=cast)
    invoice = services.create_invoice(user=cast.finance_specialist, order_id=order.pk, amount=Decimal("1000"),
                                      due_date=days(10))
    before = AuditEntry.objects.count()
    with pytest.raises(InvalidInput):  # over the outstanding: nothing written
        services.create_credit_note(user=cast.finance_specialist, invoice_id=invoice.pk, amount=Decimal("1000.01"),
                                    reason="too much")
    assert AuditEntry.objects.count() == before
