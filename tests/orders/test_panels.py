"""The departments' panels on the order page (issue 8): each department registers its own panel, and the
panel offers a form exactly when the POST behind it would pass the same role-and-state rule (the rule is
written once, in the department's services)."""

from __future__ import annotations

import pytest
from django.template.loader import get_template
from django.urls import reverse

from finance import services as finance
from logistics import services as logistics
from orderdesk.errors import Conflict, Forbidden
from orders import panels
from orders.models import State
from production import services as production
from tests import factories

pytestmark = pytest.mark.django_db

# (form id on the page, URL name, the department's check)
ACTIONS = [
    ("plan-form", "plan_save", production.check_plan),
    ("progress-form", "progress_add", production.check_progress),
    ("issue-form", "issue_add", production.check_open_issue),
    ("shipment-form", "shipment_add", logistics.check_shipment),
    ("invoice-form", "invoice_add", finance.check_invoice),
]
ROLES = ["production_supervisor", "production_worker", "logistics_specialist", "finance_specialist",
         "sales_manager"]
STATES = [State.REVIEWED, State.PRODUCING, State.SETTLED]


def test_each_department_registers_its_panel():
    registered = {p.key: p for p in panels.panels()}
    assert set(registered) == {"production", "logistics", "finance", "feedback", "promise"}
    for panel in registered.values():
        # the template is the department's own (the promise is the order desk's own panel, R5.3)
        assert panel.template.startswith("orders/" if panel.key == "promise" else f"{panel.key}/")
        get_template(panel.template)
    assert [p.key for p in panels.panels(panels.ASIDE)] == ["promise", "feedback"]


def _expected_status(check, user, order) -> int:
    try:
        check(user, order)
    except Forbidden:
        return 403
    except Conflict:
        return 409
    return 400  # the rule passes; the empty form does not


@pytest.mark.parametrize("state", STATES)
def test_a_panel_offers_a_form_exactly_when_its_post_passes_the_rule(client, state):
    order = factories.make_order(state)
    users = {role: factories.user_with_role(role) for role in ROLES}
    offered = 0
    for role, user in users.items():
        client.force_login(user)
        page = client.get(reverse("orders:detail", args=[order.pk]))
        if page.status_code == 404:  # outside the role's scope: no panel, and the POST is a 404 too
            for _form_id, name, _check in ACTIONS:
                assert client.post(reverse(f"orders:{name}", args=[order.pk]), {}).status_code == 404
            continue
        html = page.content.decode()
        for form_id, name, check in ACTIONS:
            expected = _expected_status(check, user, order)
            assert (f'id="{form_id}"' in html) == (expected == 400), (role, state, form_id)
            offered += expected == 400
            response = client.post(reverse(f"orders:{name}", args=[order.pk]), {})
            assert response.status_code == expected, (role, state, name)
    if state == State.SETTLED:
        assert offered == 0  # a settled order takes no more plans, progress, issues, shipments or invoices
    else:
        assert offered, "no role was offered any form in this state: the test would prove nothing"
