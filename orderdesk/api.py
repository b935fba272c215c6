"""API plumbing shared by every app: pagination and uniform JSON errors.

Every error answer is JSON with ``detail`` and a stable ``code``; validation
errors add ``errors`` (field → messages), unmet transition conditions add
``unmet`` ([{code, message}]). Service errors (:mod:`orderdesk.errors`) map to
their status; a lost race (ConcurrentTransition or a database serialization
failure) is a 409, never a 500.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Mapping

import django_filters
from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.core.paginator import Paginator as DjangoPaginator
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.functional import cached_property
from django.utils.translation import get_language, gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, fields as drf_fields, permissions, status
from rest_framework.fields import CharField, Field, SkipField
from rest_framework.pagination import PageNumberPagination
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.utils.serializer_helpers import BindingDict
from rest_framework.views import exception_handler as drf_exception_handler

from orderdesk import roles
from orderdesk.errors import ConditionsUnmet, ServiceError
from orderdesk.middleware import is_lock_timeout

logger = logging.getLogger(__name__)


_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def _check_whole_numbers(request, names) -> None:
    """A parameter the schema calls an integer is one, or the answer is a 400 (not silently ignored)."""
    errors = {}
    for name in names:
        values = request.query_params.getlist(name)
        if len(values) > 1:
            errors[name] = [_("Give this parameter once.")]
        elif values and values[0] != "" and not _WHOLE_NUMBER.fullmatch(values[0]):
            errors[name] = [_("Enter a whole number.")]
    if errors:
        raise exceptions.ValidationError(errors)


def _check_booleans(request, name) -> None:
    values = request.query_params.getlist(name)
    if len(values) > 1 or (values and values[0] not in _BOOLEANS):
        raise exceptions.ValidationError({name: [_("Enter true or false.")]})


_BOOLEANS = {"", "true", "false", "True", "False", "1", "0"}


class KnownCountPaginator(DjangoPaginator):
    """Django's paginator with the number of rows given instead of counted (``SELECT COUNT(*)``)."""

    def __init__(self, *args, count: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


class Pagination(PageNumberPagination):
    """Pages of 50 (``page_size`` up to 500). A ``page_size`` that is not a whole number of at least 1
    is a 400, as the schema says (DRF would ignore it); an empty one is the default.

    A view that knows how many rows its list holds without counting them sets ``known_count`` before
    paginating (the order list of a caller who sees every order, unfiltered: the database's tallies)."""

    page_size_query_param = "page_size"
    max_page_size = 500
    known_count: int | None = None

    @property
    def django_paginator_class(self):
        if self.known_count is None:
            return DjangoPaginator
        return functools.partial(KnownCountPaginator, count=self.known_count)

    def get_page_size(self, request):
        _check_whole_numbers(request, [self.page_size_query_param, self.page_query_param])
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw and int(raw) < 1:
            raise exceptions.ValidationError({self.page_size_query_param: [_("Enter a whole number of at least 1.")]})
        return super().get_page_size(request)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend; a number filter on a whole-number field (an id) takes whole numbers only,
    a yes/no filter true or false.

    django-filter's ``NumberFilter`` reads a decimal, so ``?order=1.5`` or ``?order=1e9`` found nothing
    instead of being refused, while the schema (from the model field) says integer; ``?open=maybe``
    was no filter at all.
    """

    def filter_queryset(self, request, queryset, view):
        # One object by its id (retrieve, a transition, a sub-resource): the list's filters do not apply,
        # and building the FilterSet (a deep copy of its filters) was a third of a detail request's time.
        if getattr(view, "detail", False):
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        model = filterset._meta.model
        names = []
        for name, item in filterset.filters.items():
            if isinstance(item, django_filters.BooleanFilter):
                _check_booleans(request, name)
                continue
            if type(item) is not django_filters.NumberFilter:
                continue
            try:
                field = model._meta.get_field(item.field_name.split("__")[0])
            except Exception:  # noqa: BLE001 - not a model field: leave it to its own validation
                continue
            if field.get_internal_type() in _INTEGER_FIELDS or field.is_relation:
                names.append(name)
        _check_whole_numbers(request, names)
        # django-filter's own `filter_queryset`, on the FilterSet built above (it would build a second one)
        if not filterset.is_valid() and self.raise_exception:
            raise translate_validation(filterset.errors)
        return filterset.qs


_INTEGER_FIELDS = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
                   "SmallIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
                   "PositiveBigIntegerField", "ForeignKey"}


def _first_code(detail) -> str:
    codes = detail
    while isinstance(codes, (list, dict)):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes) if codes else "invalid"


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        body = {"detail": str(exc.detail), "code": exc.code}
        if exc.errors:
            body["errors"] = exc.errors
        if isinstance(exc, ConditionsUnmet):
            body["unmet"] = exc.unmet
        return Response(body, status=exc.status)
    if isinstance(exc, (ConcurrentTransition, TransitionNotAllowed)):
        return Response({"detail": str(_("The order changed meanwhile; reload and try again.")), "code": "conflict"},
                        status=status.HTTP_409_CONFLICT)
    if is_lock_timeout(exc):
        logger.warning("lost a database race: %s", exc)
        return Response({"detail": str(_("The order is busy; try again.")), "code": "conflict"},
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": str(_("Invalid input.")), "code": "invalid", "errors": response.data}
        return response
    data = response.data if isinstance(response.data, dict) else {"detail": response.data}
    detail = data.get("detail", "")
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    response.data = {**data, "detail": str(detail), "code": str(code)}
    return response


# --- shared pieces of every endpoint -------------------------------------------------
class NotReadOnlyRole(permissions.BasePermission):
    """Read-only roles (the auditor) may read everything and change nothing (DESIGN §3, §5).

    The services refuse such writes too; this answers 403 before any input is looked at.
    """

    message = _("Your role is read-only.")

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return not roles.is_read_only(request.user)


#: The permissions of every OrderDesk endpoint but the token endpoint.
API_PERMISSIONS = [permissions.IsAuthenticated, NotReadOnlyRole]


#: Built fields per (serializer class, hidden names): a ModelSerializer introspects its model and builds
#: every field on each instance; these prototypes are built once per class and role set and copied for each
#: serializer, never bound themselves.
_FIELD_PROTOTYPES: dict[tuple[type, frozenset[str] | None], dict] = {}

_PLAIN = object()  # a field read by a plain attribute chain
_PK = object()  # a primary-key related field read from its ``<name>_id`` column


def _reader(field):
    """How :meth:`FastReadMixin.to_representation` reads a field: the attribute chain of a plain field, the
    ``_id`` column of a primary-key relation, or None (DRF's own ``get_attribute``)."""
    if type(field).get_attribute is Field.get_attribute and field.source_attrs:
        return _PLAIN, tuple(field.source_attrs)
    if (type(field) is PrimaryKeyRelatedField and field.pk_field is None and len(field.source_attrs) == 1
            and field.source_attrs[0] != "pk"):
        return _PK, f"{field.source_attrs[0]}_id"
    return None


class SharedQuerysetMixin:
    """A related field whose copies share its ``queryset``. DRF deep-copies every declared field for each
    serializer, re-making it from deep copies of its arguments: a queryset's deep copy copies its whole ``Query``
    (four of them per order intake: a fifth of validating it). The queryset is never changed by the field — DRF's
    ``get_queryset`` takes ``.all()`` of it, a fresh clone — so one object serves every copy."""

    def __deepcopy__(self, memo):
        args = [copy.deepcopy(item, memo) if not isinstance(item, re.Pattern) else item for item in self._args]
        kwargs = {key: value if key in ("validators", "regex", "queryset") else copy.deepcopy(value, memo)
                  for key, value in self._kwargs.items()}
        return self.__class__(*args, **kwargs)


class SharedQuerysetPrimaryKeyRelatedField(SharedQuerysetMixin, PrimaryKeyRelatedField):
    """DRF's ``PrimaryKeyRelatedField`` whose copies share its queryset (:class:`SharedQuerysetMixin`)."""


class PreparedPrimaryKeyRelatedField(SharedQuerysetMixin, PrimaryKeyRelatedField):
    """DRF's ``PrimaryKeyRelatedField`` whose lookup is a prepared read (:mod:`orderdesk.prepared`): the queryset
    filtered by the key, compiled once per process under ``name``. The same answers and errors as DRF's."""

    _reads: dict = {}

    def __init__(self, *, name: str, **kwargs):
        super().__init__(**kwargs)
        if name not in self._reads:
            from orderdesk.prepared import PreparedQuery

            queryset = kwargs["queryset"]
            self._reads[name] = PreparedQuery(name, lambda shape, *, pk, qs=queryset: qs.filter(pk=pk),
                                              params={"pk": queryset.model._meta.pk})
        self.read = self._reads[name]

    def to_internal_value(self, data):
        if self.pk_field is not None:
            data = self.pk_field.to_internal_value(data)
        try:
            if isinstance(data, bool):
                raise TypeError
            found = self.read.fetch(pk=data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not found:
            self.fail("does_not_exist", pk_value=data)
        return found[0]


def _is_foreign_key(model, name: str) -> bool:
    try:
        model_field = model._meta.get_field(name) if model is not None else None
    except Exception:  # noqa: BLE001 - FieldDoesNotExist: a property or a reverse relation
        return False
    return bool(model_field is not None and model_field.many_to_one and model_field.concrete
                and model_field.target_field.primary_key)


class ChoiceLabelField(CharField):
    """A choice's label in the active language (``get_<field>_display()`` without its per-row cost).

    ``ChoiceLabelField(choices=State.choices, source="state")``: the labels are made strings once per
    language; an unknown value is shown as itself, as ``get_FOO_display`` does.
    """

    def __init__(self, *, choices, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)
        self._choice_pairs = tuple(choices)
        self._labels: dict[str, dict] = {}

    def to_representation(self, value):
        language = get_language()
        labels = self._labels.get(language)
        if labels is None:
            labels = self._labels[language] = {key: str(label) for key, label in self._choice_pairs}
        label = labels.get(value)
        return label if label is not None else str(value)


class FastReadMixin:
    """The same output as DRF's ``Serializer.to_representation``, without its generic per-field cost.

    DRF reads every field through ``get_attribute``: a ``Mapping`` check and an ``inspect.signature`` of each
    value (is it a callable to call?) per field and row — most of a list's time. Here a plain field's
    attribute chain is read with ``getattr`` and a primary-key relation from its ``_id`` column; whenever a
    value is callable, missing (``AttributeError``, ``ObjectDoesNotExist``) or the instance is a mapping, the
    field falls back to DRF's own ``get_attribute`` (defaults, ``allow_null``, ``SkipField`` unchanged).
    """

    def _fast_plan(self):
        plan = self.__dict__.get("_fast_read_plan")
        if plan is None:
            model = getattr(getattr(self, "Meta", None), "model", None)
            plan = []
            for field in self._readable_fields:
                reader = _reader(field)
                if reader is not None and reader[0] is _PK and not _is_foreign_key(model, field.source_attrs[0]):
                    reader = None
                plan.append((field, field.field_name, reader))
            self.__dict__["_fast_read_plan"] = plan
        return plan

    def to_representation(self, instance):
        if isinstance(instance, Mapping):
            return super().to_representation(instance)
        ret = {}
        for field, name, reader in self._fast_plan():
            attribute = _MISSING
            if reader is not None:
                kind, path = reader
                try:
                    if kind is _PK:
                        value = getattr(instance, path)
                        ret[name] = value  # what PrimaryKeyRelatedField.to_representation gives (pk_field None)
                        continue
                    value = instance
                    for attr in path:
                        value = getattr(value, attr)
                        if callable(value):
                            break
                    else:
                        attribute = value
                except Exception:  # noqa: BLE001 - DRF's own read below decides (defaults, errors)
                    attribute = _MISSING
            if attribute is _MISSING:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
                check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                if check is None:
                    ret[name] = None
                    continue
            elif attribute is None:
                ret[name] = None
                continue
            ret[name] = field.to_representation(attribute)
        return ret


_MISSING = object()


class RoleFieldsMixin(FastReadMixin):
    """Drops the fields a caller's roles may not see (R5.2, DESIGN §5) from a serializer.

    Which fields those are is :data:`orderdesk.roles.FIELD_CLASSES`' business, read through
    :func:`orderdesk.roles.hidden_fields` for the serializer's model (``Meta.model``, or
    ``field_label`` for a plain serializer); nothing is declared here. Nested serializers read the
    caller from the root serializer's context. Without a request (internal use) or while the
    OpenAPI schema is generated, every field stays (the schema marks them not required, see
    :func:`schema_hidden_fields_not_required`).

    The fields are built once per serializer class and set of hidden names and copied for each
    serializer (``cache_fields = False`` for a serializer whose ``get_fields`` depends on more than
    the caller's hidden fields).
    """

    #: the FIELD_CLASSES label of a serializer without ``Meta.model``
    field_label: str | None = None
    #: shown only to roles that see the customer's tracking link (not a field class)
    tracking_fields: tuple[str, ...] = ()
    #: build the fields once per class and hidden set (see the class docstring)
    cache_fields: bool = True

    @classmethod
    def classed_label(cls) -> str | None:
        meta = getattr(cls, "Meta", None)
        model = getattr(meta, "model", None)
        return cls.field_label or (model._meta.label if model is not None else None)

    @classmethod
    def maybe_hidden_fields(cls) -> frozenset[str]:
        """Every field name some role may not see (what the schema never marks required)."""
        label = cls.classed_label()
        names = frozenset(roles.FIELD_CLASSES.get(label, {})) if label else frozenset()
        return names | frozenset(cls.tracking_fields)

    def hidden_field_names(self, user) -> frozenset[str]:
        label = self.classed_label()
        hidden = roles.hidden_fields(user, label) if label else frozenset()
        if not roles.sees_tracking_url(user):
            hidden |= frozenset(self.tracking_fields)
        return hidden

    def _hidden_for_context(self) -> frozenset[str] | None:
        view = self.context.get("view")
        request = self.context.get("request")
        if request is None or getattr(view, "swagger_fake_view", False):
            return None  # every field stays
        return self.hidden_field_names(getattr(request, "user", None))

    def get_fields(self):
        return dict(self._fields_to_bind())

    @cached_property
    def fields(self):
        # DRF's ``Serializer.fields`` (a BindingDict binding each field to this serializer), but the read-only
        # fields of the plain kinds (:data:`_SHARED_KINDS`) are the prototypes themselves, bound once: copying
        # and binding ~45 fields per request was half of rendering one order, and these fields read neither
        # their parent nor the request (to_representation of a value). Everything else — nested serializers,
        # method fields, writable fields — is copied and bound to this serializer, as DRF does.
        fields = BindingDict(self)
        for name, field in self._fields_to_bind():
            if getattr(field, "_od_shared", False):
                fields.fields[name] = field  # bound already (to its prototype parent)
            else:
                fields[name] = field
        return fields

    def _fields_to_bind(self):
        hidden = self._hidden_for_context()
        if not self.cache_fields:
            return list(self._build_fields(hidden).items())
        key = (type(self), hidden)
        prototypes = _FIELD_PROTOTYPES.get(key)
        if prototypes is None:
            prototypes = self._build_fields(hidden)
            if hidden is not None:  # no request (the OpenAPI schema reads each field's parent): nothing shared
                prototypes = _share_plain_fields(prototypes)
            _FIELD_PROTOTYPES[key] = prototypes
        # A plain field is copied shallowly (binding sets only its own attributes: name, parent, source); a
        # nested serializer is copied whole, so that its fields and child are its own and see this context.
        return [(name, field if getattr(field, "_od_shared", False)
                 else copy.deepcopy(field) if isinstance(field, BaseSerializer) else copy.copy(field))
                for name, field in prototypes.items()]

    def _build_fields(self, hidden):
        fields = super().get_fields()
        for name in hidden or ():
            fields.pop(name, None)
        return fields


#: Field kinds whose ``to_representation`` reads only the value (never the parent, the root or the request):
#: read-only ones are shared between serializers (RoleFieldsMixin.fields). Exact types: a subclass may read more.
_SHARED_KINDS = frozenset({
    CharField, ChoiceLabelField, drf_fields.DecimalField, drf_fields.DateTimeField, drf_fields.DateField,
    drf_fields.BooleanField, drf_fields.IntegerField, drf_fields.FloatField, drf_fields.ChoiceField,
    drf_fields.EmailField, drf_fields.URLField, drf_fields.ReadOnlyField, drf_fields.UUIDField, PrimaryKeyRelatedField,
})


class _PrototypeParent:
    """What shared prototype fields are bound to: no serializer, no context (they never ask)."""

    parent = None
    _context: dict = {}
    partial = False


def _share_plain_fields(fields: dict) -> dict:
    """Bind the read-only fields of the shared kinds once, to a stand-in parent, and mark them shared."""
    for name, field in fields.items():
        if type(field) in _SHARED_KINDS and field.read_only and not isinstance(field, BaseSerializer):
            field.bind(name, _PrototypeParent())
            field._od_shared = True
    return fields


class RoleFilterSetMixin:
    """Drops the filters and orderings on fields the caller may not see (DESIGN §5) from a FilterSet.

    Which fields those are is :func:`orderdesk.roles.hidden_fields`' answer for the FilterSet's model;
    a dropped filter is ignored, a dropped ordering is an invalid choice (400), so neither tells
    anything about the hidden values. The OpenAPI schema lists every filter.
    """

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        hidden = roles.hidden_fields(getattr(request, "user", None), self._meta.model)
        if not hidden:
            return
        for name, item in list(self.filters.items()):
            if isinstance(item, django_filters.OrderingFilter):
                item.param_map = {p: f for p, f in item.param_map.items() if f.split("__")[0] not in hidden}
                item.extra = {**item.extra, "choices": [
                    (value, label) for value, label in item.extra["choices"] if value.lstrip("-") in item.param_map
                ]}
                item.__dict__.pop("_field", None)  # a form field built before (e.g. by the schema) has all choices
            elif item.field_name and item.field_name.split("__")[0] in hidden:
                del self.filters[name]


def schema_hidden_fields_not_required(result, generator, request, public):
    """drf-spectacular hook: a field hidden from some role is never required in its component (DESIGN §5).

    The components keep their names and properties; only ``required`` loses the role-hidden names.
    A record hidden as a whole (an invoice from production) is absent, not partial: its list is
    empty for that role, so its component keeps its required fields but for the classed ones.
    """
    schemas = result.get("components", {}).get("schemas", {})
    # the registry has no public iteration; its components know the serializer behind each name,
    # which is exact where guessing names from class names is not (ref_name, split request/response)
    for component in generator.registry._components.values():
        serializer = component.object
        if component.type != "schemas" or not isinstance(serializer, RoleFieldsMixin):
            continue
        schema = schemas.get(component.name)
        if not schema or "required" not in schema:
            continue
        maybe_hidden = type(serializer).maybe_hidden_fields()
        schema["required"] = [name for name in schema["required"] if name not in maybe_hidden]
        if not schema["required"]:
            del schema["required"]
    return result


@csrf_exempt  # a POST with a session cookie to an unknown path is a JSON 404, not Django's CSRF page
def api_not_found(request, *args, **kwargs):
    """Unknown paths under the API answer JSON like every other error.

    A GET that only lacks its trailing slash is redirected, as Django's APPEND_SLASH would.
    """
    if request.method in ("GET", "HEAD") and not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
    return JsonResponse({"detail": str(_("Not found.")), "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
