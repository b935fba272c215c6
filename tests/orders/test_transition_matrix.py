"""THE matrix: every actor × every transition × every state (DESIGN §4, §5, §6).

For each combination an order is in that state with the transition's conditions
met (where the state allows it), and the transition is run through the API
(``POST /api/v1/orders/{id}/transitions/{name}/``) and, to tell a broken API from a
broken service, through :func:`orders.services.run_transition`:

- out of the actor's scope (DESIGN §5) → 404, whatever else;
- the auditor → 403 (read-only, sees everything);
- role not allowed (``roles.TRANSITION_ROLES`` with the owner rule) → 403;
- allowed role, state not a source → 409;
- otherwise → 200, the order in the target state and exactly one new StateLog
  (by, source, target, transition, description = comment).

Every refusal leaves the order row and its log exactly as they were.

Speed: the orders (one per state and prepared transition) are built once, through
the services, inside a module-wide transaction; every test runs in a savepoint
rolled back after it, so each test still starts from the same untouched order.
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
from tests.spec import ACTORS, LIFECYCLE, OTHER_ASSISTANT, OWNER_ASSISTANT, SUPERUSER, expected_status
from tests.utils import module_data

STATES = [s.value for s in State]
TRANSITIONS = list(TRANSITION_METHODS)


def test_spec_covers_the_declared_lifecycle():
    """The matrix is complete: the spec table, the model and the role table name the same transitions."""
    assert set(LIFECYCLE) == set(TRANSITION_METHODS) == set(TRANSITION_ROLES)
    assert {s for sources, target in LIFECYCLE.values() for s in (*sources, target)} <= set(STATES)
    assert set(ROLES) - {"sales_assistant"} <= set(ACTORS)


@pytest.mark.django_db
def test_declared_sources_and_targets_match_design():
    """The model's transitions have exactly DESIGN §4's sources and targets."""
    order = Order()
    for name, method_name in TRANSITION_METHODS.items():
        meta = getattr(order, method_name)._django_fsm
        sources, target = LIFECYCLE[name]
        declared = {str(t.source): str(t.target) for t in meta.transitions.values()}
        assert set(declared) == set(sources), name
        assert set(declared.values()) == {target}, name


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
    for state in STATES:
        for name in TRANSITIONS:
            sources, _target = LIFECYCLE[name]
            ready_for = name if state in sources else None
            orders[(state, name)] = factories.make_order(state, cast=cast, ready_for=ready_for).pk
    return {"actors": actors, "orders": orders}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Users and one order per (state, transition), built once through the services, rolled back at the end."""
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
        target = LIFECYCLE[name][1]
        order = Order.objects.get(pk=order_id)
        assert order.state == target
        new_logs = list(_logs(order_id).exclude(pk__in=before_logs))
        assert len(new_logs) == 1, new_logs
        log = new_logs[0]
        assert log.by_id == user.pk
        assert log.source_state == state
        assert log.state == target
        assert log.transition == name
        assert log.description == _comment(name)
        if body is not None:
            assert body["state"] == target
            assert body["id"] == order_id
    else:
        assert _row(order_id) == before_row, "a refused transition changed the order"
        assert set(_logs(order_id).values_list("pk", flat=True)) == before_logs


@pytest.mark.django_db
@pytest.mark.parametrize(("actor", "name", "state"), CASES)
def test_transition_via_api(world, api_client_for, actor, name, state):
    order_id = world["orders"][(state, name)]
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
    order_id = world["orders"][(state, name)]
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
        order = Order.objects.get(pk=world["orders"][(state, "cancel")])
        listed = {t["name"]: t for t in services.available_transitions(user=user, order=order)}
        assert set(listed) == set(TRANSITIONS)
        for name in TRANSITIONS:
            assert listed[name]["target"] == LIFECYCLE[name][1], (name, listed[name])
            allowed = expected_status(actor, name, state) == 200
            # out-of-scope orders never reach this list, so only judge the visible ones
            if expected_status(actor, name, state) != 404:
                assert listed[name]["allowed"] is allowed, (actor, name, state)
