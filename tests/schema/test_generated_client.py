"""A client generated from the live schema runs the whole lifecycle, each step as its role (issue 9).

openapi-python-client makes a package from /api/v1/schema/ into a temporary directory, offline (a
local file, no post hooks: nothing is fetched or formatted); the test imports it and drives one
order from intake to settled through it alone, each call with the token of the role DESIGN §4
names for the step, got from POST /api/v1/auth/token/. Every module of the package imports
(the issue found 18 of 55 operations that did not), and reads by production, logistics and
finance parse although role-hidden fields are absent.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import days, today
from tests.schema.conftest import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "orderdesk_client"


def generate_client(schema: dict, where: Path):
    (where / "schema.json").write_text(json.dumps(schema))
    # no post hooks (ruff/black), our own package name; `--meta none` writes the bare package
    (where / "config.yaml").write_text(
        f"post_hooks: []\nproject_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\n"
    )
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(where / "schema.json"),
            "--config",
            str(where / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(where / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=where,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # the generator warns on stdout about every part of the schema it could not make code of
    assert "Warning" not in result.stdout and "Error" not in result.stdout, result.stdout
    sys.path.insert(0, str(where))
    try:
        for name in [m for m in list(sys.modules) if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
        package = importlib.import_module(PACKAGE)
        modules = [
            importlib.import_module(info.name) for info in pkgutil.walk_packages(package.__path__, prefix=f"{PACKAGE}.")
        ]
    finally:
        sys.path.remove(str(where))
    return package, modules


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response.parsed is not None
    return response.parsed


def test_a_generated_client_runs_the_lifecycle_as_each_role(live_world, live_schema, tmp_path):
    package, modules = generate_client(live_schema, tmp_path)
    operations = [m for m in modules if ".api." in m.__name__ and hasattr(m, "sync_detailed")]
    assert len(operations) >= 50  # every operation imports

    from orderdesk_client import AuthenticatedClient, Client, models as m  # generated just now
    from orderdesk_client.api.auth import auth_token_create

    url = live_world["url"]
    assert package.__name__ == PACKAGE
    # the token endpoint through the generated client itself
    token = ok(
        auth_token_create.sync_detailed(
            client=Client(base_url=url), body=m.AuthTokenInputRequest(username="sales_assistant", password="wrong")
        ),
        400,
    )
    assert isinstance(token, m.Error) and token.code
    clients = {
        role: AuthenticatedClient(base_url=url, token=login(url, role), prefix="Token", raise_on_unexpected_status=True)
        for role in live_world["users"]
    }
    try:
        run_lifecycle(live_world, clients, m)
    finally:  # no keep-alive connection left to the live server (its thread holds a database connection)
        for client in clients.values():
            client.get_httpx_client().close()


def run_lifecycle(live_world, clients, m):
    from orderdesk_client.api.customers import customers_list
    from orderdesk_client.api.finance import finance_invoices_create, finance_payments_create
    from orderdesk_client.api.logistics import logistics_shipments_create, logistics_shipments_events_create
    from orderdesk_client.api.orders import (
        orders_create,
        orders_history_list,
        orders_retrieve,
        orders_transitions_create,
    )
    from orderdesk_client.api.production import (
        production_plans_create,
        production_plans_partial_update,
        production_progress_create,
    )
    from orderdesk_client.api.users import users_list

    def transition(role, order_id, name, **data):
        return ok(
            orders_transitions_create.sync_detailed(
                order_id,
                m.OrdersTransitionsCreateName(name),
                client=clients[role],
                body=m.TransitionInputRequest(**data),
            )
        )

    # intake (R4.1) — sales_assistant
    sales = clients["sales_assistant"]
    customer = next(
        c for c in ok(customers_list.sync_detailed(client=sales)).results if c.name == "Shanghai Precision Parts"
    )
    products = live_world["products"]
    order = ok(
        orders_create.sync_detailed(
            client=sales,
            body=m.OrderWriteRequest(
                customer=customer.id,
                channel=m.ChannelEnum.EMAIL,
                contact_name="Ms. Wang",
                contact_phone="+86 21 1234 5678",
                delivery_address="88 Harbour Road, Shanghai",
                requested_delivery_date=days(40),
                lines=[
                    m.OrderLineInputRequest(product=p.pk, specification=f"spec {i}", quantity="10", unit_price="100.00")
                    for i, p in enumerate(products)
                ],
            ),
        ),
        201,
    )
    assert order.state == m.OrderStateEnum.RECEIVED

    # review (R4.2) — the assistant submits, the sales manager approves
    transition("sales_assistant", order.id, "submit", comment="checked")
    approved = transition("sales_manager", order.id, "approve", comment="fine", promised_delivery_date=days(60))
    assert approved.state == m.OrderStateEnum.REVIEWED

    # scheduling (R4.3) — production_supervisor; the reads parse without the hidden price fields
    production = clients["production_supervisor"]
    seen = ok(orders_retrieve.sync_detailed(order.id, client=production))
    assert seen.state == m.OrderStateEnum.REVIEWED
    workers = ok(users_list.sync_detailed(client=production, role=m.UsersListRole("production_worker"))).results
    assert [u.username for u in workers] == ["production_worker"]
    worker_id = workers[0].id
    plan = ok(
        production_plans_create.sync_detailed(
            client=production,
            body=m.PlanInputRequest(
                order=order.id,
                workshop=live_world["workshop"].pk,
                milestones=[m.MilestoneInputRequest(name="Assembly", due_date=days(30), responsible=worker_id)],
            ),
        ),
        201,
    )
    transition("production_supervisor", order.id, "schedule", comment="planned")
    ok(
        production_plans_partial_update.sync_detailed(
            plan.id, client=production, body=m.PatchedReadinessInputRequest(materials_ready=True, equipment_ready=True)
        )
    )
    transition("production_supervisor", order.id, "start_production", comment="go")

    # execution (R4.4) — production_worker reports, logistics ships
    ok(
        production_progress_create.sync_detailed(
            client=clients["production_worker"],
            body=m.ProgressInputRequest(order=order.id, percent_complete=100, note="done"),
        ),
        201,
    )
    logistics = clients["logistics_specialist"]
    shipment = ok(
        logistics_shipments_create.sync_detailed(
            client=logistics,
            body=m.ShipmentInputRequest(
                order=order.id, carrier="SF Express", tracking_number="SF123456789", expected_arrival=days(3)
            ),
        ),
        201,
    )
    transition("logistics_supervisor", order.id, "ship", comment="on its way")
    ok(
        logistics_shipments_events_create.sync_detailed(
            shipment.id, client=logistics, body=m.EventInputRequest(status=m.ShipmentStatusEnum.DELIVERED)
        ),
        201,
    )
    assert ok(orders_retrieve.sync_detailed(order.id, client=clients["logistics_supervisor"])).state == "shipped"

    # delivery and settlement (R4.5) — the assistant accepts, finance invoices, is paid, settles
    transition(
        "sales_assistant",
        order.id,
        "accept",
        comment="inspected",
        signed_by="Ms. Wang",
        signed_on=today(),
        receipt_reference="SIGNED-42",
        inspection_passed=True,
    )
    finance = clients["finance_specialist"]
    invoice = ok(
        finance_invoices_create.sync_detailed(
            client=finance, body=m.InvoiceInputRequest(order=order.id, amount="2000.00", due_date=days(30))
        ),
        201,
    )
    ok(
        finance_payments_create.sync_detailed(
            client=finance,
            body=m.PaymentInputRequest(invoice=invoice.id, amount="2000.00", received_on=today(), reference="BANK-1"),
        ),
        201,
    )
    settled = transition("finance_manager", order.id, "settle", comment="paid in full")
    assert settled.state == m.OrderStateEnum.SETTLED

    history = ok(orders_history_list.sync_detailed(order.id, client=clients["auditor"]))
    steps = [(e.transition, e.by) for e in history if e.kind == m.HistoryKindEnum.TRANSITION]
    assert steps == [
        ("submit", "sales_assistant"),
        ("approve", "sales_manager"),
        ("schedule", "production_supervisor"),
        ("start_production", "production_supervisor"),
        ("ship", "logistics_supervisor"),
        ("accept", "sales_assistant"),
        ("settle", "finance_manager"),
    ]
    # and the auditor, read-only, is refused a write with the documented error body
    refused = orders_transitions_create.sync_detailed(
        order.id,
        m.OrdersTransitionsCreateName("cancel"),
        client=clients["auditor"],
        body=m.TransitionInputRequest(comment="no"),
    )
    assert refused.status_code == 403 and isinstance(refused.parsed, m.Error)
