"""The roles are declared once (DESIGN §3): groups from the migration, tables read by every layer."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django_celery_beat.models import PeriodicTask

from orderdesk import roles
from orderdesk.roles import OWNER, ROLES, TRANSITION_ROLES
from orders.models import TRANSITION_METHODS
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_migration_creates_exactly_the_role_groups():
    # Non-transactional tests run before transactional ones (pytest-django), so this sees the migrated data.
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
    assert set(ROLES) == {
        "sales_assistant",
        "sales_manager",
        "production_supervisor",
        "production_worker",
        "logistics_supervisor",
        "logistics_specialist",
        "finance_manager",
        "finance_specialist",
        "auditor",
    }


def test_the_overdue_check_is_scheduled_in_beat():
    task = PeriodicTask.objects.get(name="check_overdue")
    assert task.task == "orders.tasks.check_overdue" and task.enabled


def test_every_transition_has_roles_and_only_known_ones():
    assert set(TRANSITION_ROLES) == set(TRANSITION_METHODS)
    for name, allowed in TRANSITION_ROLES.items():
        assert allowed, name
        assert allowed <= set(ROLES) | {OWNER}, name
    assert Group.objects.filter(name__in=ROLES).count() == len(ROLES)


def test_roles_of_users_and_superuser():
    manager = factories.user_with_role("sales_manager")
    admin = factories.superuser()
    auditor = factories.user_with_role("auditor")
    assert roles.roles_of(manager) == {"sales_manager"}
    assert roles.roles_of(admin) == set(ROLES)
    assert roles.is_read_only(auditor) and not roles.is_read_only(admin) and not roles.is_read_only(manager)
    assert roles.roles_of(None) == frozenset()
    assert not roles.may(auditor, "invoice.create") and roles.may(auditor, "audit.view")


def test_the_owner_rule_needs_the_assistant_role_and_the_ownership():
    owner = factories.user_with_role("sales_assistant")
    other = factories.user_with_role("sales_assistant", "sales_assistant2")
    order = factories.make_order("received", assistant=owner)
    assert roles.may_transition(owner, "submit", order)
    assert not roles.may_transition(other, "submit", order)
    # a manager to whom an order belongs is still not "the order's assistant"
    manager = factories.user_with_role("sales_manager")
    order.assistant = manager
    assert not roles.may_transition(manager, "submit", order)
