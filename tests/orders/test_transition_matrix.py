"""THE matrix: every actor × every transition × every state (DESIGN §4, §5, §6).

The expectations are DESIGN §4's table, written out below (:data:`DESIGN_4`: who,
from → to), not read from ``orderdesk.roles.TRANSITION_ROLES`` or the model, so a
wrong entry in either makes this test fail. Who sees which order (404) is DESIGN §5
(``tests.spec.sees``).

For each combination an order is in that state with the transition's conditions
met (where the state allows it), and the transition is run through the API
(``POST /api/v1/orders/{id}/transitions/{name}/``) and, to tell a broken API from a
broken service, through :func:`orders.services.run_transition`:

- out of the actor's scope (DESIGN §5) → 404, whatever else;
- the auditor → 403 (read-only, sees everything);
- not one of the transition's "who" (the order's assistant: its own assistant only) → 403;
- allowed, state not a source → 409;
- otherwise → 200, the order in the target state and exactly one new StateLog
  (by, source, target, transition, description = comment).

Every refusal leaves the order row and its log exactly as they were.

Speed: the orders are built once, through the services, inside a module-wide
transaction: one per state, prepared for every transition leaving it, and a second
`received` one already submitted (for return and approve) — 9 orders, not one per
(state, transition). Every test runs in a savepoint rolled back after it, so each
still starts from the same untouched order.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django_fsm_log.models import StateLog

from orderdesk.errors import ServiceError
from orderdesk.roles import ROLES, TRANSITION_ROLES
from orders import services
from orders.models import TRANSITION_METHODS, Order, State
from tests import factories
from tests.spec import ACTORS, OTHER_ASSISTANT, OWNER_ASSISTANT, SUPERUSER, actor_roles, sees
from tests.utils import module_data

# DESIGN §4, copied: transition → (who, from, to). "assistant" is the order's own assistant.
DESIGN_4: dict[str, tuple[frozenset[str], frozenset[str], str]] = {
    "submit": (frozenset({"assistant"}), frozenset({"received"}), "received"),
    "return": (frozenset({"sales_manager"}), frozenset({"received"}), "received"),
    "approve": (frozenset({"sales_manager"}), frozenset({"received"}), "reviewed"),
    "schedule": (frozenset({"production_supervisor"}), frozenset({"reviewed"}), "scheduled"),
    "start_production": (frozenset({"production_supervisor"}), frozenset({"scheduled"}), "producing"),
    "ship": (frozenset({"logistics_supervisor", "logistics_specialist"}), frozenset({"producing"}), "shipped"),
    "accept": (frozenset({"assistant"}), frozenset({"shipped"}), "accepted"),
    "reject_delivery": (frozenset({"assistant", "sales_manager"}), frozenset({"shipped"}), "producing"),
    "settle": (frozenset({"finance_specialist", "finance_manager"}), frozenset({"accepted"}), "settled"),
    "cancel": (frozenset({"sales_manager"}), frozenset({"received", "reviewed", "scheduled"}), "cancelled"),
}

STATES = ["received", "reviewed", "scheduled", "producing", "shipped", "accepted", "settled", "cancelled"]
TRANSITIONS = list(DESIGN_4)


def who(name: str) -> frozenset[str]:
    return DESIGN_4[name][0]


def sources(name: str) -> frozenset[str]:
    return DESIGN_4[name][1]


def target(name: str) -> str:
    return DESIGN_4[name][2]


def may_run(actor: str, name: str) -> bool:
    """DESIGN §4's "who": one of the named roles, or the order's own assistant; the superuser is every role."""
    if actor == SUPERUSER:
        return True
    if actor == OWNER_ASSISTANT:
        return "assistant" in who(name)
    if actor == OTHER_ASSISTANT:
        return False  # not the order's assistant (and never sees it: 404 first)
    return bool(actor_roles(actor) & who(name))


def expected_status(actor: str, name: str, state: str) -> int:
    """What `POST /orders/{id}/transitions/{name}/` must answer, its conditions being met."""
    if not sees(actor, state):
        return 404
    if actor == "auditor":
        return 403  # read-only, whatever the state
    if not may_run(actor, name):
        return 403
    if state not in sources(name):
        return 409
    return 200


def test_the_table_names_the_declared_lifecycle():
    """The matrix is complete: DESIGN §4, the model and the role table name the same transitions and states."""
    assert set(DESIGN_4) == set(TRANSITION_METHODS) == set(TRANSITION_ROLES)
    assert set(STATES) == set(State.values)
    assert {s for _who, srcs, tgt in DESIGN_4.values() for s in (*srcs, tgt)} <= set(STATES)
    assert set(ROLES) - {"sales_assistant"} <= set(ACTORS)


def test_the_role_table_says_what_design_says():
    """roles.TRANSITION_ROLES is DESIGN §4's "who" (its `owner` is the order's assistant); a quick diagnosis
    when the matrix below fails."""
    declared = {name: {"assistant" if r == "owner" else str(r) for r in allowed}
                for name, allowed in TRANSITION_ROLES.items()}
    assert declared == {name: set(who(name)) for name in DESIGN_4}


@pytest.mark.django_db
def test_declared_sources_and_targets_match_design():
    """The model's transitions have exactly DESIGN §4's sources and targets."""
    order = Order()
    for name, method_name in TRANSITION_METHODS.items():
        meta = getattr(order, method_name)._django_fsm
        declared = {str(t.source): str(t.target) for t in meta.transitions.values()}
        assert set(declared) == set(sources(name)), name
        assert set(declared.values()) == {target(name)}, name


def _comment(name: str) -> str:
    return f"matrix: {name}"


def _data(name: str, order: Order) -> dict:
    """Valid transition data (DESIGN §6), as JSON values."""
    data: dict = {"comment": _comment(name)}
    if name == "approve":
        data["promised_delivery_date"] = order.requested_delivery_date.isoformat()
    if name == "accept":
        data.update({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in factories.receipt_data().items()})
    return data


def order_key(state: str, name: str) -> tuple[str, bool]:
    """Which of the world's orders a (state, transition) case runs on: (state, submitted)."""
    return state, state == "received" and name in ("return", "approve")


def _build_world():
    cast = factories.Cast()
    actors = {
        OWNER_ASSISTANT: cast.sales_assistant,
        OTHER_ASSISTANT: factories.user_with_role("sales_assistant", "sales_assistant2"),
        SUPERUSER: factories.superuser(),
    }
    for role in ROLES:
        if role != "sales_assistant":
            actors[role] = getattr(cast, role)
    orders = {}
    for key in sorted({order_key(state, name) for state in STATES for name in TRANSITIONS}):
        state, submitted = key
        order = factories.make_order(state, cast=cast, submitted=submitted)
        # prepared for every transition leaving the state that runs on this order
        for name in TRANSITIONS:
            if state in sources(name) and order_key(state, name) == key:
                order = factories.prepare(order, name, cast)
        orders[key] = order.pk
    return {"actors": actors, "orders": orders}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Users and the 9 orders, built once through the services, rolled back at the end."""
    with module_data(django_db_blocker) as build:
        yield build(_build_world)


def _logs(order_id):
    return StateLog.objects.filter(content_type=ContentType.objects.get_for_model(Order), object_id=order_id)


def _row(order_id) -> dict:
    return Order.objects.filter(pk=order_id).values().get()


CASES = [
    pytest.param(actor, name, state, id=f"{actor}-{name}-{state}")
    for actor in ACTORS
    for name in TRANSITIONS
    for state in STATES
]


def _check(status, *, world, actor, name, state, order_id, before_row, before_logs, body=None):
    user = world["actors"][actor]
    expected = expected_status(actor, name, state)
    assert status == expected, (actor, name, state, status, body)
    if expected == 200:
        order = Order.objects.get(pk=order_id)
        assert order.state == target(name)
        new_logs = list(_logs(order_id).exclude(pk__in=before_logs))
        assert len(new_logs) == 1, new_logs
        log = new_logs[0]
        assert log.by_id == user.pk
        assert log.source_state == state
        assert log.state == target(name)
        assert log.transition == name
        assert log.description == _comment(name)
        if body is not None:
            assert body["state"] == target(name)
            assert body["id"] == order_id
    else:
        assert _row(order_id) == before_row, "a refused transition changed the order"
        assert set(_logs(order_id).values_list("pk", flat=True)) == before_logs


@pytest.mark.django_db
@pytest.mark.parametrize(("actor", "name", "state"), CASES)
def test_transition_via_api(world, api_client_for, actor, name, state):
    order_id = world["orders"][order_key(state, name)]
    order = Order.objects.get(pk=order_id)
    before_row = _row(order_id)
    before_logs = set(_logs(order_id).values_list("pk", flat=True))
    client = api_client_for(world["actors"][actor])

    response = client.post(f"/api/v1/orders/{order_id}/transitions/{name}/", _data(name, order), format="json")

    body = response.json()
    if response.status_code != 200:
        assert body.get("detail") and body.get("code"), body
    _check(
        response.status_code,
        world=world,
        actor=actor,
        name=name,
        state=state,
        order_id=order_id,
        before_row=before_row,
        before_logs=before_logs,
        body=body if response.status_code == 200 else None,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("actor", "name", "state"), CASES)
def test_transition_via_service(world, actor, name, state):
    order_id = world["orders"][order_key(state, name)]
    order = Order.objects.get(pk=order_id)
    before_row = _row(order_id)
    before_logs = set(_logs(order_id).values_list("pk", flat=True))
    data = _data(name, order)
    comment = data.pop("comment")
    user = world["actors"][actor]

    try:
        with transaction.atomic():
            services.run_transition(user=user, order_id=order_id, name=name, comment=comment, data=data)
        status = 200
    except ServiceError as exc:
        status = exc.status

    _check(
        status,
        world=world,
        actor=actor,
        name=name,
        state=state,
        order_id=order_id,
        before_row=before_row,
        before_logs=before_logs,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_available_transitions_agree_with_the_matrix(world, actor):
    """`available_transitions` (the buttons and GET …/transitions/) says allowed exactly where a run may succeed."""
    user = world["actors"][actor]
    for state in STATES:
        order = Order.objects.get(pk=world["orders"][order_key(state, "cancel")])
        listed = {t["name"]: t for t in services.available_transitions(user=user, order=order)}
        assert set(listed) == set(TRANSITIONS)
        for name in TRANSITIONS:
            assert listed[name]["target"] == target(name), (name, listed[name])
            allowed = expected_status(actor, name, state) == 200
            # out-of-scope orders never reach this list, so only judge the visible ones
            if expected_status(actor, name, state) != 404:
                assert listed[name]["allowed"] is allowed, (actor, name, state)
