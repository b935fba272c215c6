"""Filters of the order desk's lists (DESIGN §6: state, customer, number, overdue, search)."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orderdesk.api import RoleFilterSetMixin
from orderdesk.roles import ROLES
from orders.models import Channel, Customer, Order, Product, State
from orders.selectors import overdue_q

User = get_user_model()


class OrderFilter(RoleFilterSetMixin, django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=State.choices, label=_("state"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("customer (id)"))
    number = django_filters.CharFilter(field_name="number", lookup_expr="iexact", label=_("order number"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))
    search = django_filters.CharFilter(method="filter_search", label=_("order number or customer name contains"))
    assistant = django_filters.NumberFilter(field_name="assistant_id", label=_("assistant (user id)"))
    workshop = django_filters.NumberFilter(field_name="workshop_id", label=_("workshop (id)"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte",
                                              label=_("created on or after"))
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte",
                                               label=_("created on or before"))
    # By amount only for roles that see prices (RoleFilterSetMixin drops it for the others, R5.2).
    ordering = django_filters.OrderingFilter(
        fields=("created_at", "number", "state", "requested_delivery_date", "promised_delivery_date",
                "total_amount"),
        label=_("ordering"),
    )

    class Meta:
        model = Order
        fields = ()

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        q = overdue_q(timezone.localdate())
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(customer__name__icontains=value))


class CustomerFilter(RoleFilterSetMixin, django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label=_("code or name contains"))
    is_key_account = django_filters.BooleanFilter(label=_("key account"))

    class Meta:
        model = Customer
        fields = ()

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class ProductFilter(RoleFilterSetMixin, django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label=_("SKU or name contains"))

    class Meta:
        model = Product
        fields = ()

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(sku__icontains=value) | Q(name__icontains=value))


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(field_name="groups__name", choices=[(r, r) for r in ROLES],
                                       label=_("role (group name)"))

    class Meta:
        model = User
        fields = ()
