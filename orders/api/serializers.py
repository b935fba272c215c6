"""Serializers of the order desk's API (DESIGN §6).

They check the shape of the input and render the output; every write and every
permission or state check is the services' (:mod:`orders.services`). What a
caller may not see (R5.2) is dropped by :class:`orderdesk.api.RoleFieldsMixin`.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orderdesk.api import (
    ChoiceLabelField,
    PreparedPrimaryKeyRelatedField,
    RoleFieldsMixin,
    SharedQuerysetMixin,
    SharedQuerysetPrimaryKeyRelatedField,
)
from orderdesk.prepared import Many, PreparedQuery
from orderdesk.roles import ROLES
from orders.models import Channel, Clarification, Customer, Order, OrderLine, Product, PromiseChange, Signoff, State
from orders.selectors import products

User = get_user_model()


# --- reference data --------------------------------------------------------------
class CustomerSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    open_exposure = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Customer
        fields = ("id", "code", "name", "is_key_account", "language", "contact_name", "contact_phone", "email",
                  "address", "credit_limit", "open_exposure")
        read_only_fields = fields


class ProductSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ("id", "sku", "name", "specification", "unit", "lead_time_days", "standard_price", "is_active")
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "username", "full_name", "roles")
        read_only_fields = fields

    def get_full_name(self, user) -> str:
        return user.get_full_name() or user.username

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ROLES)))
    def get_roles(self, user) -> list[str]:
        # the groups are prefetched by orders.selectors.users_directory
        return sorted(group.name for group in user.groups.all())


# --- orders -----------------------------------------------------------------------
class OrderLineSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    product_sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)
    line_total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = OrderLine
        fields = ("id", "position", "product", "product_sku", "product_name", "unit", "specification", "quantity",
                  "unit_price", "line_total")
        read_only_fields = fields


def _greater_than_zero(value):
    if value <= 0:
        raise serializers.ValidationError(_("The quantity must be greater than zero."))


class LineProductField(SharedQuerysetMixin, serializers.PrimaryKeyRelatedField):
    """A line's product, looked up with every other line's in one query (not one query per line).

    The first line read fetches the active products of all the lines the request names (``initial_data``
    of the root serializer) and keeps them on the root; a value that is no plain id, or an id not among
    them, goes through DRF's own lookup (so the errors are DRF's: incorrect type, does not exist).
    """

    def to_internal_value(self, data):
        known = self._known_products()
        key = data if isinstance(data, int) and not isinstance(data, bool) else None
        if isinstance(data, str) and data.isdigit():
            key = int(data)
        if key is not None and key in known:
            return known[key]
        return super().to_internal_value(data)

    def _known_products(self) -> dict:
        root = self.root
        known = getattr(root, "_line_products", None)
        if known is None:
            ids = set()
            lines = root.initial_data.get("lines") if isinstance(getattr(root, "initial_data", None), dict) else None
            for line in lines if isinstance(lines, list) else ():
                value = line.get("product") if isinstance(line, dict) else None
                if isinstance(value, str) and value.isdigit() and len(value) < 19:
                    value = int(value)
                if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
                    ids.add(value)
            known = {p.pk: p for p in _LINE_PRODUCTS.fetch(ids=sorted(ids))} if ids else {}
            root._line_products = known
        return known


# the active products an order's lines name, read in one prepared query (orderdesk.prepared)
_LINE_PRODUCTS = PreparedQuery("active products by id", lambda shape, *, ids: products().filter(pk__in=ids),
                               params={"ids": Many(Product._meta.pk)})


# The intake's serializers take RoleFieldsMixin for its fields built once per class (nothing is hidden from an
# intake: only who may record an order writes one): DRF deep-copies every declared field of a serializer, and of
# the nested line serializer, at each request.
class OrderLineInputSerializer(RoleFieldsMixin, serializers.Serializer):
    product = LineProductField(queryset=products())
    specification = serializers.CharField(max_length=300)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, validators=[_greater_than_zero])
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))


class OrderSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    """An order as the caller may see it (list rows leave out the lines)."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    state_display = ChoiceLabelField(choices=State.choices, source="state")
    assistant_name = serializers.CharField(source="assistant.username", read_only=True)
    workshop_name = serializers.CharField(source="workshop.name", read_only=True, default=None, allow_null=True)
    requires_joint_review = serializers.BooleanField(read_only=True)
    is_submitted = serializers.BooleanField(read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    tracking_url = serializers.CharField(read_only=True)

    tracking_fields = ("tracking_url",)

    class Meta:
        model = Order
        fields = (
            "id", "number", "state", "state_display", "customer", "customer_name", "channel", "contact_name",
            "contact_phone", "delivery_address", "requested_delivery_date", "promised_delivery_date",
            "special_terms", "payment_terms", "total_amount", "assistant", "assistant_name", "created_by", "workshop",
            "workshop_name", "submitted_at", "is_submitted", "review_round", "requires_joint_review", "is_overdue",
            "approved_by", "approved_at", "credit_override_reason", "schedule_delay_reason", "receipt_signed_by",
            "receipt_signed_on", "receipt_reference", "accepted_at", "settled_at", "cancelled_at", "created_at",
            "updated_at", "tracking_url",
        )
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = (*OrderSerializer.Meta.fields, "lines")
        read_only_fields = fields


class OrderWriteSerializer(RoleFieldsMixin, serializers.Serializer):
    """The create fields of DESIGN §6; a PATCH sends any of them."""

    customer = PreparedPrimaryKeyRelatedField(queryset=Customer.objects.all(), name="customer by id")
    channel = serializers.ChoiceField(choices=Channel.choices)
    contact_name = serializers.CharField(max_length=100)
    contact_phone = serializers.CharField(max_length=50)
    delivery_address = serializers.CharField(max_length=300)
    requested_delivery_date = serializers.DateField()
    special_terms = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    # finance's payment terms (DESIGN §6b): default the customer's
    payment_terms = SharedQuerysetPrimaryKeyRelatedField(
        queryset=Order._meta.get_field("payment_terms").related_model.objects.filter(is_active=True),
        required=False, allow_null=True,
        help_text=_("Payment terms (id); by default the customer's."),
    )
    lines = OrderLineInputSerializer(many=True, allow_empty=False)
    # Who owns the order (create only; later changes go through `reassign/`). Default: the creator.
    assistant = SharedQuerysetPrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False,
        help_text=_("The owning sales assistant (create only; defaults to the creator)."),
    )

    def validate(self, attrs):
        if self.partial and "assistant" in attrs:
            raise serializers.ValidationError({"assistant": [_("Use reassign/ to change the owner.")]})
        return attrs

    def validate_requested_delivery_date(self, value):
        if value < timezone.localdate():
            raise serializers.ValidationError(_("The requested delivery date may not be in the past."))
        return value

    def validate_lines(self, value):
        # In a PATCH (partial) the nested lines would skip missing fields: a line is always whole.
        required = ("product", "specification", "quantity", "unit_price")
        errors = {}
        for i, line in enumerate(value):
            missing = [name for name in required if name not in line]
            if missing:
                errors[i] = {name: [_("This field is required.")] for name in missing}
        if errors:
            raise serializers.ValidationError([errors.get(i, {}) for i in range(len(value))])
        return value

    def to_service(self) -> dict:
        """The validated data as the services take it (plain dicts, model instances for ids)."""
        data = dict(self.validated_data)
        if "lines" in data:
            data["lines"] = [dict(line) for line in data["lines"]]
        return data


class TransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    target = serializers.CharField()
    allowed = serializers.BooleanField()


class TransitionInputSerializer(serializers.Serializer):
    """Documents the transition data of DESIGN §6; the transition's own form validates it."""

    comment = serializers.CharField(required=False, allow_blank=True)
    promised_delivery_date = serializers.DateField(required=False, help_text=_("approve"))
    override_credit = serializers.BooleanField(required=False, help_text=_("approve (needs a comment)"))
    acknowledge_delay = serializers.BooleanField(required=False, help_text=_("schedule (needs a comment)"))
    signed_by = serializers.CharField(required=False, help_text=_("accept"))
    signed_on = serializers.DateField(required=False, help_text=_("accept"))
    receipt_reference = serializers.CharField(required=False, help_text=_("accept"))
    inspection_passed = serializers.BooleanField(required=False, allow_null=True, help_text=_("accept"))


class TransitionUploadSerializer(TransitionInputSerializer):
    """The same as a multipart body with the signed receipt's scan (accept): its own component, so a
    generated client tells a JSON body from an upload by its type."""

    receipt_scan = serializers.FileField(help_text=_("accept (multipart)"))


HISTORY_KINDS = [("transition", _("Transition")), ("change", pgettext_lazy("history entry kind", "Change"))]


class HistoryEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=HISTORY_KINDS)
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_null=True)
    transition = serializers.CharField(required=False)
    source_state = serializers.CharField(required=False)
    state = serializers.CharField(required=False)
    comment = serializers.CharField(required=False, allow_null=True)
    field = serializers.CharField(required=False)
    old_value = serializers.CharField(required=False)
    new_value = serializers.CharField(required=False)


class SignoffSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Signoff
        fields = ("id", "order", "review_round", "department", "decision", "comment", "user", "user_name",
                  "created_at")
        read_only_fields = fields


class SignoffInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Signoff.Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ClarificationSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    raised_by_name = serializers.CharField(source="raised_by.username", read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Clarification
        fields = ("id", "order", "question", "raised_by", "raised_by_name", "raised_at", "resolution",
                  "resolved_at", "is_open")
        read_only_fields = fields


class ClarificationInputSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=5000)


class ResolutionInputSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=5000)


class ReassignInputSerializer(serializers.Serializer):
    assistant = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))




class TrackingLinkSerializer(serializers.Serializer):
    """A newly issued customer tracking link (R5.3) and when it expires (null until the order is settled)."""

    tracking_url = serializers.CharField(read_only=True)
    tracking_issued_at = serializers.DateTimeField(read_only=True)
    tracking_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
class PromiseChangeSerializer(serializers.ModelSerializer):
    """A revision of the promised delivery date (R5.3)."""

    changed_by_name = serializers.CharField(source="changed_by.username", read_only=True)

    class Meta:
        model = PromiseChange
        fields = ("id", "order", "old_date", "new_date", "reason", "changed_by", "changed_by_name", "at")
        read_only_fields = fields


class PromiseInputSerializer(serializers.Serializer):
    promised_delivery_date = serializers.DateField(help_text=_("The new promised delivery date (not in the past)."))
    reason = serializers.CharField(max_length=2000, help_text=_("Why it changes; the customer reads it."))
