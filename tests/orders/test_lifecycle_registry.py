"""The lifecycle registry (orders.lifecycle): one entry per transition, read by every layer.

What is declared there is what runs: after-effects, button defaults, the review
desk's actions, the work queues; each condition is evaluated once per run and the
permission asked once.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from feedback.models import Survey
from logistics.models import ShipmentStatus
from orderdesk import roles
from orderdesk.errors import ConditionsUnmet
from orders import conditions, lifecycle, services
from orders.models import TRANSITION_METHODS, Order, State
from production.models import ProductionIssue
from tests import factories
from tests.factories import Cast, make_order

pytestmark = pytest.mark.django_db


# --- the table itself -------------------------------------------------------------------------
def test_every_transition_has_one_entry_and_its_hooks_resolve():
    assert set(lifecycle.TRANSITIONS) == set(TRANSITION_METHODS) == set(roles.TRANSITION_ROLES)
    for name, entry in lifecycle.TRANSITIONS.items():
        for hook in entry.after:
            assert callable(lifecycle.resolve(hook)), (name, hook)
        if entry.desk:
            assert lifecycle.resolve(entry.desk.form).base_fields, name
        if entry.queue and entry.queue.where:
            assert callable(lifecycle.resolve(entry.queue.where)), name
        for field_name in (*entry.initial, *entry.page_hidden):
            assert field_name in lifecycle.form_class(name).base_fields, (name, field_name)
    keys = [e.queue.key for e in lifecycle.TRANSITIONS.values() if e.queue] + [
        q.key for q in lifecycle.ACTIVITY_QUEUES
    ]
    assert len(keys) == len(set(keys))


def test_after_effects_are_owned_by_the_department_that_writes_the_rows():
    assert set(lifecycle.TRANSITIONS["accept"].after) == {
        "feedback.services.open_survey_on_acceptance", "logistics.services.close_open_shipments",
        "finance.services.invoice_on_acceptance",
    }
    # issue 10: a settled order never has a shipment in transit
    assert lifecycle.TRANSITIONS["settle"].after == ("logistics.services.close_open_shipments",)
    assert set(lifecycle.TRANSITIONS["reject_delivery"].after) == {
        "production.services.open_rework_issue", "logistics.services.mark_shipments_returned",
    }
    # issue 10: an acknowledged capacity overload is kept on production's plan
    assert lifecycle.TRANSITIONS["schedule"].after == ("production.services.record_capacity_acknowledgement",)
    # finance draws the invoices of the terms (issue 11) and credits a cancelled order's
    assert lifecycle.TRANSITIONS["approve"].after == ("finance.services.invoice_on_approval",)
    assert lifecycle.TRANSITIONS["ship"].after == ("finance.services.invoice_on_shipment",)
    assert lifecycle.TRANSITIONS["cancel"].after == ("finance.services.credit_on_cancel",)
    others = {name for name, entry in lifecycle.TRANSITIONS.items() if entry.after} - {
        "accept", "reject_delivery", "schedule", "settle", "approve", "ship", "cancel"}
    assert others == set()


def test_the_model_declares_states_the_registry_reads():
    assert lifecycle.sources("cancel") == ("received", "reviewed", "scheduled")
    assert lifecycle.target("approve") == "reviewed"
    assert {name for name in lifecycle.TRANSITIONS if lifecycle.keeps_state(name)} == {"submit", "return"}


# --- after-effects run inside the transition ------------------------------------------------------
def test_reject_delivery_opens_a_rework_issue_and_returns_the_shipments(sales_manager):
    cast = Cast(sales_manager=sales_manager)
    order = make_order("shipped", cast=cast)
    services.run_transition(user=sales_manager, order_id=order.pk, name="reject_delivery", comment="pins too long")
    issue = ProductionIssue.objects.get(order=order)
    assert (issue.kind, issue.description, issue.opened_by) == (ProductionIssue.Kind.QUALITY, "pins too long",
                                                                sales_manager)
    assert set(order.shipments.values_list("status", flat=True)) == {ShipmentStatus.RETURNED}


def test_accept_opens_the_survey_once(sales_assistant):
    order = make_order("shipped", cast=Cast(owner=sales_assistant))
    assert not Survey.objects.filter(order=order).exists()
    factories.run(order, "accept", sales_assistant, comment="ok", **factories.receipt_data())
    assert Survey.objects.filter(order=order).count() == 1


def test_a_failing_after_effect_rolls_the_transition_back(sales_manager, monkeypatch):
    order = make_order("shipped", cast=Cast(sales_manager=sales_manager))

    def broken(**kwargs):
        raise RuntimeError("logistics is down")

    monkeypatch.setattr("logistics.services.mark_shipments_returned", broken)
    with pytest.raises(RuntimeError):
        services.run_transition(user=sales_manager, order_id=order.pk, name="reject_delivery", comment="bad")
    order.refresh_from_db()
    assert order.state == State.SHIPPED
    assert not ProductionIssue.objects.filter(order=order).exists()


# --- each condition once, the permission once -------------------------------------------------------
def _count_calls(monkeypatch, name: str, state: str) -> dict:
    """Count the evaluations of each condition of transition `name` from `state`."""
    spec = getattr(Order, TRANSITION_METHODS[name])._django_fsm.transitions[state]
    calls = {cond.code: 0 for cond in spec.conditions}
    for cond in spec.conditions:
        real = cond.__wrapped__

        def counting(order, _real=real, _code=cond.code):
            calls[_code] += 1
            return _real(order)

        monkeypatch.setattr(cond, "__wrapped__", counting)
    return calls


def test_each_condition_of_approve_runs_once(monkeypatch, sales_manager):
    order = make_order("received", cast=Cast(sales_manager=sales_manager), submitted=True)
    calls = _count_calls(monkeypatch, "approve", "received")
    services.run_transition(user=sales_manager, order_id=order.pk, name="approve", comment="ok",
                            data={"promised_delivery_date": order.requested_delivery_date})
    assert Order.objects.get(pk=order.pk).state == State.REVIEWED
    assert calls == dict.fromkeys(calls, 1)
    assert set(calls) >= {"credit_limit_exceeded", "joint_review_incomplete", "self_approval"}


def test_each_condition_of_schedule_runs_once(monkeypatch, production_supervisor):
    cast = Cast(production_supervisor=production_supervisor)
    order = make_order("reviewed", cast=cast, ready_for="schedule")
    calls = _count_calls(monkeypatch, "schedule", "reviewed")
    services.run_transition(user=production_supervisor, order_id=order.pk, name="schedule", comment="planned")
    assert Order.objects.get(pk=order.pk).state == State.SCHEDULED
    assert calls == dict.fromkeys(calls, 1)
    assert set(calls) == {"no_workshop", "no_plan", "milestone_incomplete", "plan_late", "capacity_exceeded"}


def test_an_unmet_condition_is_still_named_once_and_nothing_runs(monkeypatch, production_supervisor):
    order = make_order("reviewed", cast=Cast(production_supervisor=production_supervisor))  # no plan
    calls = _count_calls(monkeypatch, "schedule", "reviewed")
    with pytest.raises(ConditionsUnmet) as exc:
        services.run_transition(user=production_supervisor, order_id=order.pk, name="schedule", comment="x")
    assert {u["code"] for u in exc.value.unmet} == {"no_workshop", "no_plan"}
    assert calls == dict.fromkeys(calls, 1)


def test_without_a_run_a_condition_evaluates_afresh(sales_manager):
    order = make_order("received", cast=Cast(sales_manager=sales_manager))
    assert order._ctx is None
    assert conditions.is_submitted(order) is False
    order.submitted_at = timezone.now()
    assert conditions.is_submitted(order) is True


def test_the_permission_is_asked_once(monkeypatch, sales_manager):
    order = make_order("received", cast=Cast(sales_manager=sales_manager), submitted=True)
    asked = []
    real = roles.may_transition

    def counting(user, name, order=None):
        asked.append(name)
        return real(user, name, order)

    monkeypatch.setattr(roles, "may_transition", counting)
    listed = services.available_transitions(user=sales_manager, order=order)
    # only the transitions the state allows are asked, each once
    assert sorted(asked) == sorted(n for n in TRANSITION_METHODS if "received" in lifecycle.sources(n))
    assert {t["name"] for t in listed if t["allowed"]} == {"return", "approve", "cancel"}
    asked.clear()
    services.run_transition(user=sales_manager, order_id=order.pk, name="approve", comment="ok")
    assert asked == ["approve"]


# --- what the pages read ------------------------------------------------------------------------------
def test_the_page_buttons_carry_the_registry_defaults(client, sales_assistant, sales_manager):
    cast = Cast(owner=sales_assistant, sales_manager=sales_manager)
    submitted = make_order("received", cast=cast, submitted=True)
    client.force_login(sales_manager)
    page = client.get(f"/orders/{submitted.pk}/").content.decode()
    assert f'name="promised_delivery_date" value="{submitted.requested_delivery_date.isoformat()}"' in page
    shipped = make_order("shipped", cast=cast)
    client.force_login(sales_assistant)
    page = client.get(f"/orders/{shipped.pk}/").content.decode()
    assert f'name="signed_on" value="{timezone.localdate().isoformat()}"' in page
    assert 'name="inspection_passed"' not in page


def test_the_done_message_names_the_new_state_only_where_it_changes(client, sales_assistant):
    order = make_order("received", cast=Cast(owner=sales_assistant))
    client.force_login(sales_assistant)
    response = client.post(f"/orders/{order.pk}/transitions/submit/", {"comment": "ready"}, follow=True)
    assert "Submit for review: done." in response.content.decode()
    assert "The order is now" not in response.content.decode()


def test_the_review_desk_offers_the_registry_desk_actions(client, sales_manager):
    from supervision import views

    assert views.REVIEW_ACTIONS == ("return", "approve", "cancel")
    order = make_order("received", cast=Cast(sales_manager=sales_manager), submitted=True)
    client.force_login(sales_manager)
    response = client.post(f"/supervision/review/{order.pk}/return/", {"comment": "fix the address"}, follow=True)
    assert f"{order.number} is returned to the assistant." in response.content.decode()
    assert client.post(f"/supervision/review/{order.pk}/ship/", {}).status_code == 404
