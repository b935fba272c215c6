"""The fast read path of the API serializers (issue 14) answers exactly what DRF's own path answers.

``orderdesk.api.FastReadMixin`` reads plain fields with ``getattr`` and primary-key relations from their
``_id`` column, ``RoleFieldsMixin`` builds the fields once per class and hidden set, ``ChoiceLabelField``
gives ``get_state_display()``'s label and ``Order.tracking_url`` is reversed once: for every role, in both
languages, the answers must be those of DRF's plain ``Serializer.to_representation`` with fields built
afresh.
"""

from __future__ import annotations

import functools

import pytest
from django.conf import settings
from django.core import signing
from django.test import RequestFactory
from django.utils import translation
from rest_framework import serializers as drf
from rest_framework.request import Request

from orderdesk import api
from orders.api import serializers as s
from orders.models import Order, State
from tests import factories
from tests.factories import make_order

pytestmark = pytest.mark.django_db

ROLES = [
    "sales_assistant",
    "sales_manager",
    "production_supervisor",
    "logistics_specialist",
    "finance_specialist",
    "auditor",
]


def _render(serializer_class, instance, user, *, many=False):
    request = Request(RequestFactory().get("/api/v1/orders/"))
    request.user = user
    return serializer_class(instance, many=many, context={"request": request}).data


def _same_link(a: str, b: str) -> bool:
    """Two tracking links of one order (a token is signed with its time, so two renderings may differ)."""
    head_a, _sep, token_a = a.rstrip("/").rpartition("/")
    head_b, _sep, token_b = b.rstrip("/").rpartition("/")
    loads = functools.partial(signing.loads, salt=settings.TRACKING_SALT)
    return head_a == head_b and a.endswith("/") == b.endswith("/") and loads(token_a) == loads(token_b)


def _diff(a, b, path="") -> list:
    """Where two answers differ (path, fast value, DRF value)."""
    if path.endswith(".tracking_url") and isinstance(a, str) and isinstance(b, str):
        return [] if _same_link(a, b) else [(path, a, b)]
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for key in sorted(set(a) | set(b), key=str)
            for d in _diff(a.get(key, "<missing>"), b.get(key, "<missing>"), f"{path}.{key}")
        ]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [(path, a, b)]


def _drf_own(monkeypatch):
    """DRF's own reading and field building, as before issue 14."""
    monkeypatch.setattr(
        api.FastReadMixin, "to_representation", lambda self, instance: drf.Serializer.to_representation(self, instance)
    )
    monkeypatch.setattr(api.RoleFieldsMixin, "cache_fields", False)
    monkeypatch.setattr(
        s.OrderSerializer,
        "_declared_fields",
        {
            **s.OrderSerializer._declared_fields,
            "state_display": drf.CharField(source="get_state_display", read_only=True),
        },
    )
    monkeypatch.setattr(
        s.OrderDetailSerializer,
        "_declared_fields",
        {
            **s.OrderDetailSerializer._declared_fields,
            "state_display": drf.CharField(source="get_state_display", read_only=True),
        },
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_fast_reads_answer_what_drf_answers(language, monkeypatch):
    cast = factories.Cast()
    make_order(State.SETTLED, cast=cast, products=[factories.ProductFactory(), factories.ProductFactory()])
    make_order(State.RECEIVED, cast=cast, special_terms="night delivery")
    make_order(State.SCHEDULED, cast=cast)
    orders = list(
        Order.objects.select_related("customer", "assistant", "workshop")
        .prefetch_related("lines__product")
        .order_by("pk")
    )
    with translation.override(language):
        fast = {
            role: (
                _render(s.OrderSerializer, orders, getattr(cast, role), many=True),
                [_render(s.OrderDetailSerializer, o, getattr(cast, role)) for o in orders],
            )
            for role in ROLES
        }
        _drf_own(monkeypatch)
        for role in ROLES:
            own = (
                _render(s.OrderSerializer, orders, getattr(cast, role), many=True),
                [_render(s.OrderDetailSerializer, o, getattr(cast, role)) for o in orders],
            )
            assert _diff(fast[role], own) == [], role
    # the role-hidden fields stay hidden on the fast path (DESIGN §5)
    production = fast["production_supervisor"][1][0]
    assert "total_amount" not in production and "unit_price" not in production["lines"][0]
    assert "tracking_url" not in production and "tracking_url" in fast["sales_assistant"][1][0]
    assert fast["sales_assistant"][1][0]["workshop_name"] is not None
    assert fast["sales_assistant"][1][1]["workshop_name"] is None


def test_the_field_prototypes_are_never_bound_to_a_request(sales_manager, production_supervisor):
    """A prototype is either unbound (copied for each serializer) or, for a read-only field of a plain kind,
    shared: bound once to a stand-in parent, never to a serializer of a request (whose context it would keep)."""
    from rest_framework.serializers import BaseSerializer

    order = make_order(State.RECEIVED)
    for user in (sales_manager, production_supervisor, sales_manager):
        _render(s.OrderDetailSerializer, order, user)
    prototypes = [fields for (cls, _hidden), fields in api._FIELD_PROTOTYPES.items() if cls is s.OrderDetailSerializer]
    assert len(prototypes) >= 2  # one per set of hidden fields
    shared = 0
    for fields in prototypes:
        for field in fields.values():
            parent = getattr(field, "parent", None)
            assert not isinstance(parent, BaseSerializer)
            if getattr(field, "_od_shared", False):
                shared += 1
                assert isinstance(parent, api._PrototypeParent) and field.read_only
            else:
                assert parent is None
    assert shared > 40
    # the nested lines are copied per serializer: they see the caller's context (hidden prices)
    production = _render(s.OrderDetailSerializer, order, production_supervisor)
    assert "unit_price" not in production["lines"][0]
    assert "unit_price" in _render(s.OrderDetailSerializer, order, sales_manager)["lines"][0]


def test_state_label_follows_the_language():
    field = api.ChoiceLabelField(choices=State.choices, source="state")
    with translation.override("en"):
        assert field.to_representation("settled") == "Settled"
    with translation.override("zh-hans"):
        assert field.to_representation("settled") == str(State.SETTLED.label)
    assert field.to_representation("unknown") == "unknown"
