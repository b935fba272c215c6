"""Endpoints of the order desk (DESIGN §6): reference data, orders and their lifecycle, notifications.

Thin views: a serializer checks the shape of the input, a service in
:mod:`orders.services` does the write with its permission, scope and state
checks (403/404/409/400), and the result is serialized for the caller.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import UploadedFile
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django_fsm_log.models import StateLog
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from orderdesk import roles
from orderdesk.input_guards import upload_parsers
from orderdesk.viewsets import APIViewSet
from orders import selectors, services
from orders.api import filters, serializers as s
from orders.models import Clarification, Customer, Order, OrderChange


# --- reference data ---------------------------------------------------------------
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """Customers; `credit_limit` and `open_exposure` only for sales, finance and audit."""

    serializer_class = s.CustomerSerializer
    filterset_class = filters.CustomerFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or roles.is_hidden(self.request.user, Customer, "open_exposure"):
            return Customer.objects.order_by("name")
        return selectors.customers_with_exposure()


class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = s.ProductSerializer
    filterset_class = filters.ProductFilter

    def get_queryset(self):
        return selectors.products()


class UserViewSet(mixins.ListModelMixin, APIViewSet):
    """The staff directory: `?role=<group>` lists the holders of one role."""

    serializer_class = s.UserSerializer
    filterset_class = filters.UserFilter

    def get_queryset(self):
        return selectors.users_directory()


# --- orders --------------------------------------------------------------------------
def _plain_data(data) -> dict:
    """Request data as a plain dict of single values, as the transition service takes it."""
    if hasattr(data, "dict"):  # QueryDict (form or multipart)
        data = data.dict()
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("Expected a JSON object.")]})
    plain, errors = {}, {}
    for key, value in data.items():
        if isinstance(value, UploadedFile):
            continue  # files go to the service as `files`
        if isinstance(value, (dict, list)):
            errors[key] = [_("Expected a single value.")]
        elif value is None or isinstance(value, str):
            plain[key] = value
        elif isinstance(value, bool):
            plain[key] = "true" if value else "false"  # what the transition forms read from a page
        else:
            plain[key] = str(value)
    if errors:
        raise ValidationError(errors)
    return plain


def _history(order: Order, user) -> list[dict]:
    """Transitions and field changes, with what the user may not see left out (orderdesk.roles.FIELD_CLASSES)."""
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), object_id=order.pk
    ).select_related("by")
    override = bool(order.credit_override_reason)
    entries = [
        (log.timestamp, 0, log.pk, {
            "kind": "transition", "transition": log.transition, "source_state": log.source_state,
            "state": log.state, "by": log.by.username if log.by else None, "at": log.timestamp,
            "comment": roles.transition_comment_for(user, log.transition, log.description, credit_override=override),
        })
        for log in logs
    ]
    hidden = roles.hidden_history_fields(user)
    changes = (
        OrderChange.objects.filter(order=order).exclude(field__in=hidden).select_related("user")
        .annotate(reason=F("promise__reason"))  # a revised promise carries its reason (R5.3)
    )
    entries += [
        (change.at, 1, change.pk, {
            "kind": "change", "field": change.field, "old_value": change.old_value, "new_value": change.new_value,
            "by": change.user.username if change.user else None, "at": change.at,
            **({"comment": change.reason} if change.reason else {}),
        })
        for change in changes
    ]
    return [entry for *_key, entry in sorted(entries, key=lambda e: e[:3])]


@extend_schema_view(
    list=extend_schema(summary=_("The caller's orders (filter: state, customer, number, overdue, search)")),
    retrieve=extend_schema(summary=_("One order, with its lines")),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """Orders within the caller's scope (DESIGN §5); any other order answers 404."""

    filterset_class = filters.OrderFilter

    def get_queryset(self):
        if self.action == "list":
            return selectors.order_list(self.request.user)
        return selectors.order_detail_queryset(self.request.user)

    def get_serializer_class(self):
        return s.OrderSerializer if self.action == "list" else s.OrderDetailSerializer

    def paginate_queryset(self, queryset):
        # Every order, unfiltered (a caller who sees them all): the count is the database's running tally of
        # orders by state (orders.OrderStateTally, exact in every transaction), not a count of the whole table.
        if (self.action == "list" and selectors.order_scope_q(self.request.user) is None
                and not any(self.request.query_params.get(name) for name in filters.OrderFilter.base_filters
                            if name != "ordering")):
            self.paginator.known_count = selectors.order_total()
        return super().paginate_queryset(queryset)

    def _order(self) -> Order:
        return selectors.get_visible_order(self.request.user, self.kwargs["pk"])

    def get_object(self) -> Order:
        # the detail's order through the selector's prepared reads (the same scope and rows as get_queryset)
        order = self._order()
        self.check_object_permissions(self.request, order)
        return order

    def _render(self, order_id, *, status_code=status.HTTP_200_OK) -> Response:
        order = selectors.get_visible_order(self.request.user, order_id)
        return Response(s.OrderDetailSerializer(order, context=self.get_serializer_context()).data,
                        status=status_code)

    @extend_schema(request=s.OrderWriteSerializer, responses={201: s.OrderDetailSerializer},
                   summary=_("Record a new order (R4.1)"))
    def create(self, request, *args, **kwargs):
        serializer = s.OrderWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        order = services.create_order(user=request.user, **serializer.to_service())
        # Rendered from the order just written (its customer, assistant and lines are on it): the creator
        # is a sales assistant or manager, who always sees the orders they record.
        return Response(s.OrderDetailSerializer(order, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=s.OrderWriteSerializer, responses={200: s.OrderDetailSerializer},
                   summary=_("Change an order while it is received"))
    def partial_update(self, request, *args, **kwargs):
        serializer = s.OrderWriteSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        order = services.update_order(user=request.user, order_id=self.kwargs["pk"], data=serializer.to_service())
        return self._render(order.pk)

    @extend_schema(responses={200: s.TransitionSerializer(many=True)}, filters=False,
                   summary=_("The lifecycle's transitions and whether the caller may run each now"))
    @action(detail=True, methods=["get"], pagination_class=None)
    def transitions(self, request, pk=None):
        order = self._order()
        return Response(s.TransitionSerializer(services.available_transitions(user=request.user, order=order),
                                               many=True).data)

    @extend_schema(
        request={"application/json": s.TransitionInputSerializer, "multipart/form-data": s.TransitionUploadSerializer},
        responses={200: s.OrderDetailSerializer}, filters=False,
        parameters=[OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH,
                                     enum=list(services.TRANSITION_METHODS))],
        summary=_("Run a transition of the lifecycle"),
    )
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<name>[^/.]+)", url_name="run-transition",
            parser_classes=upload_parsers())  # the accept transition may carry a receipt scan
    def run_transition(self, request, pk=None, name=None):
        data = _plain_data(request.data)
        comment = data.get("comment") or ""
        order = services.run_transition(user=request.user, order_id=pk, name=name, comment=comment, data=data,
                                        files=request.FILES)
        # Rendered from the order the service locked, changed and saved (its customer, assistant and workshop
        # came with the row, its lines with the conditions), not read again: the after-effects write rows
        # beside the order, never the order's own fields. Also when the transition took the order out of
        # the caller's scope: they ran it, they are told the outcome.
        return Response(s.OrderDetailSerializer(selectors.with_lines(order), context=self.get_serializer_context()).data)

    @extend_schema(responses={200: s.HistoryEntrySerializer(many=True)}, filters=False,
                   summary=_("Transitions and field changes, oldest first"))
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, pk=None):
        order = self._order()
        return Response(s.HistoryEntrySerializer(_history(order, request.user), many=True).data)

    @extend_schema(methods=["get"], responses={200: s.SignoffSerializer(many=True)}, filters=False,
                   summary=_("The order's joint-review sign-offs"))
    @extend_schema(methods=["post"], request=s.SignoffInputSerializer, responses={201: s.SignoffSerializer},
                   filters=False, summary=_("Sign off the joint review (finance manager, production supervisor)"))
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def signoffs(self, request, pk=None):
        if request.method == "GET":
            order = self._order()
            return Response(s.SignoffSerializer(order.signoffs.select_related("user"), many=True,
                                                context=self.get_serializer_context()).data)
        serializer = s.SignoffInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signoff = services.record_signoff(user=request.user, order_id=pk, **serializer.validated_data)
        return Response(s.SignoffSerializer(signoff, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses={200: s.ClarificationSerializer(many=True)}, filters=False,
                   summary=_("The order's clarifications with the customer"))
    @extend_schema(methods=["post"], request=s.ClarificationInputSerializer,
                   responses={201: s.ClarificationSerializer}, filters=False,
                   summary=_("Open a clarification (blocks submit until resolved)"))
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def clarifications(self, request, pk=None):
        if request.method == "GET":
            order = self._order()
            if roles.is_record_hidden(request.user, Clarification):
                return Response([])  # clarifications are internal (DESIGN §5)
            return Response(s.ClarificationSerializer(order.clarifications.select_related("raised_by"),
                                                      many=True, context=self.get_serializer_context()).data)
        serializer = s.ClarificationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        clarification = services.open_clarification(user=request.user, order_id=pk, **serializer.validated_data)
        return Response(s.ClarificationSerializer(clarification).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.TrackingLinkSerializer}, filters=False,
                   summary=_("Issue a new customer tracking link; the previous one answers 404 from now on"))
    @action(detail=True, methods=["post"], url_path="tracking-link", url_name="tracking-link")
    def tracking_link(self, request, pk=None):
        order = services.issue_tracking_link(user=request.user, order_id=pk)
        return Response(s.TrackingLinkSerializer(order).data)

    @extend_schema(request=s.ReassignInputSerializer, responses={200: s.OrderDetailSerializer}, filters=False,
                   summary=_("Give the order to another assistant (sales manager)"))
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        serializer = s.ReassignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.reassign_order(user=request.user, order_id=pk, **serializer.validated_data)
        return self._render(order.pk)


    @extend_schema(methods=["get"], responses={200: s.PromiseChangeSerializer(many=True)},
                   filters=False, summary=_("The revisions of the order's promised delivery date, oldest first"))
    @extend_schema(
        methods=["post"], request=s.PromiseInputSerializer, filters=False,
        responses={201: s.PromiseChangeSerializer},
        summary=_("Revise the promised delivery date with its reason (R5.3); the customer is told"),
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def promise(self, request, pk=None):
        if request.method == "GET":
            order = self._order()
            return Response(s.PromiseChangeSerializer(order.promise_changes.select_related("changed_by"),
                                                      many=True).data)
        services.check_promise(request.user, self._order())  # 404, 403, 409 before any value is read
        serializer = s.PromiseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        promise = services.revise_promise(user=request.user, order_id=pk, **serializer.validated_data)
        return Response(s.PromiseChangeSerializer(promise).data, status=status.HTTP_201_CREATED)


class ClarificationViewSet(APIViewSet):
    serializer_class = s.ClarificationSerializer

    def get_queryset(self):
        # only the action below is routed; it reads through the service, which scopes the order
        return Clarification.objects.none()

    @extend_schema(request=s.ResolutionInputSerializer, responses={200: s.ClarificationSerializer},
                   summary=_("Record the customer's answer to a clarification"))
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        serializer = s.ResolutionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        clarification = services.resolve_clarification(user=request.user, clarification_id=pk,
                                                        **serializer.validated_data)
        return Response(s.ClarificationSerializer(clarification).data)
