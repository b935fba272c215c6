"""The Django admin, held to the same roles and scope as the API and the pages (DESIGN §3, §5; R5.2).

Demo role users are staff, so the admin is one more door into the data; every
model admin of OrderDesk derives from :class:`RoleScopedAdmin` (or uses
:class:`FieldVisibilityMixin` for inlines), which

* shows only what the user may see: ``get_queryset`` starts from the orders the
  user may see (related rows through their order), so an order outside the user's
  scope is "not found", as in the API. That door is :func:`orders.selectors.visible_orders`,
  handed in by the orders app (:func:`set_order_scope`, from its ``ready()``): this
  module is the shared kernel and imports no app;
* reads every permission from :mod:`orderdesk.roles` instead of Django's model
  permissions: who may view a model (``view_roles``), add to it or change it
  (``add_action`` / ``change_action``, names of :data:`orderdesk.roles.ACTION_ROLES`);
  the auditor only views; nobody deletes order data (orders, lines, history,
  invoices, payments...); master data (customers, products, workshops) is managed
  by superusers only (``superuser_manages``);
* hides the fields :data:`orderdesk.roles.FIELD_CLASSES` classes for the model (price, credit,
  contact, internal) from users whose roles may not see them, through
  :func:`orderdesk.roles.hidden_fields` and nothing else: from forms, change pages, list columns,
  filters, search, sorting and URL lookups (a lookup through a relation, ``order__contact_phone``,
  is checked against the related model's fields); a record that is hidden as a whole (escalations,
  invoices, sampled checks...) is not shown at all;
* writes only through the services: an add or change form is validated by running
  its service in a savepoint that is rolled back (so service errors show on the
  form, field by field), and saved by running the service for real
  (``add_via_service`` / ``change_via_service``). A service error on the real run
  (a race) is shown as a message on the reloaded page, with nothing saved.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from orderdesk import roles
from orderdesk.errors import ConditionsUnmet, ServiceError

HIDDEN_VALUE = _("(hidden)")

# The order model and the scope function of the orders app, set by `orders.apps.OrdersConfig.ready()`.
_order_scope: dict = {}


def set_order_scope(*, model, visible_orders) -> None:
    """Hand the admin the order model and the function giving the orders a user may see."""
    _order_scope.update(model=model, visible_orders=visible_orders)


def _visible_orders(user):
    return _order_scope["visible_orders"](user)


class _DryRun(Exception):
    """Raised to roll back a service run that only validated a form."""


def service_error_messages(exc: ServiceError) -> list[str]:
    """The lines a user reads for a service error: its detail, each unmet condition, each field error."""
    lines = [str(exc.detail)]
    if isinstance(exc, ConditionsUnmet):
        lines.extend(str(item["message"]) for item in exc.unmet)
    for name, errors in (exc.errors or {}).items():
        for error in errors if isinstance(errors, list | tuple) else [errors]:
            text = str(error["message"]) if isinstance(error, dict) else str(error)
            lines.append(text if name in ("__all__", "non_field_errors") else f"{name}: {text}")
    return lines


def _error_text(error) -> str:
    return str(error["message"]) if isinstance(error, dict) else str(error)


def _mentions(name, hidden_of, model) -> bool:
    """Whether a field reference (``"-total_amount"``, ``"order__contact_phone"``, ``("x", Filter)``) is hidden.

    ``hidden_of(model)`` gives the hidden names of a model; the path is followed through relations.
    """
    if isinstance(name, list | tuple):
        name = name[0] if name else ""
    if not isinstance(name, str):
        return False
    for part in name.lstrip("^=@-").split("__"):
        if model is None:
            return False
        if part in hidden_of(model):
            return True
        try:
            field = model._meta.get_field(part)
        except Exception:  # noqa: BLE001 - a method, an annotation or a lookup (`icontains`)
            return False
        model = field.related_model if field.is_relation else None
    return False


class FieldVisibilityMixin:
    """Hides the fields of DESIGN §5's classes that the user's roles may not see (``orderdesk.roles``)."""

    def extra_hidden_fields(self, request) -> frozenset[str]:
        """Names beyond the field classes an admin hides (e.g. the customer's tracking link)."""
        return frozenset()

    def hidden_fields(self, request) -> frozenset[str]:
        return roles.hidden_fields(request.user, self.model) | self.extra_hidden_fields(request)

    def _mentions(self, request, name) -> bool:
        own = self.hidden_fields(request)

        def hidden_of(model):
            return own if model is self.model else roles.hidden_fields(request.user, model)

        return _mentions(name, hidden_of, self.model)

    def _without_hidden(self, request, names):
        if not roles.hidden_classes(request.user) and not self.extra_hidden_fields(request):
            return names
        kept = []
        for name in names:
            if isinstance(name, list | tuple) and name and all(isinstance(n, str) for n in name):
                # a row of fields shown on one line
                row = tuple(n for n in name if not self._mentions(request, n))
                if row:
                    kept.append(row)
            elif not self._mentions(request, name):
                kept.append(name)
        return kept

    def get_fields(self, request, obj=None):
        return self._without_hidden(request, list(super().get_fields(request, obj)))

    def get_fieldsets(self, request, obj=None):
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            fields = self._without_hidden(request, list(options.get("fields", ())))
            if fields:
                fieldsets.append((name, {**options, "fields": fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self._without_hidden(request, list(super().get_readonly_fields(request, obj)))

    def get_exclude(self, request, obj=None):
        hidden = self.hidden_fields(request)
        excluded = super().get_exclude(request, obj)
        if not hidden:
            return excluded
        return [*(excluded or ()), *sorted(hidden - {roles.RECORD})]


class RoleScopedAdmin(FieldVisibilityMixin, admin.ModelAdmin):
    """A model admin whose scope and permissions come from :mod:`orderdesk.roles` (see module docstring)."""

    #: lookup path from the model to its order (``"order"``, ``"plan__order"``); None: not scoped by order
    order_field: str | None = "order"
    #: roles that may view the model; None: any role; an empty set: superusers only
    view_roles: frozenset[str] | None = None
    #: master data: superusers add, change and delete it; everyone else at most views it
    superuser_manages: bool = False
    #: ACTION_ROLES names allowing add / change (through the service hooks below)
    add_action: str | None = None
    change_action: str | None = None
    #: the fields of the add form; the change form edits ``change_fields`` only
    add_fields: tuple[str, ...] = ()
    change_fields: tuple[str, ...] = ()
    #: states of the orders offered in an add form's order choice (None: any visible order)
    order_choice_states: tuple[str, ...] | None = None

    # --- scope ---------------------------------------------------------------------
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not self.has_view_permission(request):
            return qs.none()
        if self.order_field is not None and not request.user.is_superuser:
            qs = qs.filter(**{f"{self.order_field}__in": _visible_orders(request.user).values("pk")})
        return qs

    def order_of(self, obj):
        """The order an object belongs to (follows ``order_field``)."""
        if obj is None or self.order_field is None:
            return None
        for part in self.order_field.split("__"):
            obj = getattr(obj, part)
        return obj

    def order_choices(self, request):
        """The orders an add form offers: visible to the user and in a state the service accepts."""
        qs = _visible_orders(request.user)
        if self.order_choice_states is not None:
            qs = qs.filter(state__in=self.order_choice_states)
        return qs.order_by("-created_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is _order_scope.get("model"):
            kwargs["queryset"] = self.order_choices(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- permissions (orderdesk.roles, not Django's model permissions) ---------------------
    def has_role_access(self, request) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        if roles.is_record_hidden(user, self.model):
            return False  # the whole record is of a class the user may not see
        user_roles = roles.roles_of(user)
        return bool(user_roles) if self.view_roles is None else bool(user_roles & self.view_roles)

    def has_module_permission(self, request):
        return self.has_role_access(request)

    def has_view_permission(self, request, obj=None):
        return self.has_role_access(request)

    def has_add_permission(self, request):
        if self.superuser_manages:
            return request.user.is_active and request.user.is_superuser
        return bool(self.add_action and self.has_role_access(request) and roles.may(request.user, self.add_action))

    def is_changeable(self, obj) -> bool:
        """Whether the object is still in a condition its change service accepts."""
        return True

    def has_change_permission(self, request, obj=None):
        if self.superuser_manages:
            return request.user.is_active and request.user.is_superuser
        if not self.change_action or not self.has_role_access(request):
            return False
        if obj is not None and not self.is_changeable(obj):
            return False
        return roles.may(request.user, self.change_action, self.order_of(obj))

    def has_delete_permission(self, request, obj=None):
        return self.superuser_manages and request.user.is_active and request.user.is_superuser

    # --- hidden fields beyond forms: lists, filters, search, lookups ------------------------
    def get_list_display(self, request):
        return self._without_hidden(request, list(super().get_list_display(request)))

    def get_list_filter(self, request):
        return self._without_hidden(request, list(super().get_list_filter(request)))

    def get_search_fields(self, request):
        return self._without_hidden(request, list(super().get_search_fields(request)))

    def get_sortable_by(self, request):
        return self._without_hidden(request, list(super().get_sortable_by(request)))

    def lookup_allowed(self, lookup, value, request=None):
        if request is not None and self._mentions(request, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    # --- fields of the service-backed forms ------------------------------------------------
    def uses_services(self) -> bool:
        return not self.superuser_manages

    def get_fields(self, request, obj=None):
        if obj is None and self.add_fields and self.uses_services():
            return self._without_hidden(request, list(self.add_fields))
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and self.uses_services():
            # everything on a change page is read-only but the fields its service changes
            names = [f.name for f in self.model._meta.fields]
            readonly += [f for f in names if f not in self.change_fields and f not in readonly]
        return self._without_hidden(request, readonly)

    def get_inlines(self, request, obj):
        # the inlines show an object's records; an add form has none
        return super().get_inlines(request, obj) if obj is not None else []

    # --- writes through services -----------------------------------------------------------
    def add_via_service(self, request, data: dict):
        """Create the object through its service; returns it. Raise ServiceError on refusal."""
        raise NotImplementedError

    def change_via_service(self, request, obj, data: dict, changed: list[str]):
        """Change the object through its service; returns it. Raise ServiceError on refusal."""
        raise NotImplementedError

    def _run_service(self, request, obj, data, changed):
        if obj is None:
            return self.add_via_service(request, data)
        return self.change_via_service(request, obj, data, changed)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        if not self.uses_services():
            return form_class
        model_admin = self

        class ServiceForm(form_class):
            def clean(self):
                cleaned = super().clean()
                if self._errors:
                    return cleaned
                try:
                    with transaction.atomic():
                        model_admin._run_service(request, obj, dict(cleaned), list(self.changed_data))
                        raise _DryRun
                except _DryRun:
                    pass
                except ServiceError as exc:
                    self._add_service_error(exc)
                return cleaned

            def _add_service_error(self, exc):
                lines = [str(exc.detail)]
                if isinstance(exc, ConditionsUnmet):
                    lines.extend(str(item["message"]) for item in exc.unmet)
                for name, errors in (exc.errors or {}).items():
                    errors = errors if isinstance(errors, list | tuple) else [errors]
                    if name in self.fields:
                        self.add_error(name, [_error_text(e) for e in errors])
                    else:
                        lines.extend(_error_text(e) for e in errors)
                self.add_error(None, ValidationError(lines))

        ServiceForm.__name__ = form_class.__name__
        return ServiceForm

    def save_model(self, request, obj, form, change):
        if not self.uses_services():
            return super().save_model(request, obj, form, change)
        result = self._run_service(request, obj if change else None, dict(form.cleaned_data), list(form.changed_data))
        if result is not None and result is not obj:
            # the admin goes on with `obj` (log entry, redirect): give it the saved row's values
            for field in obj._meta.concrete_fields:
                setattr(obj, field.attname, getattr(result, field.attname))
            obj._state.adding = False
            obj._state.db = result._state.db
        return None

    def save_related(self, request, form, formsets, change):
        if not self.uses_services():
            return super().save_related(request, form, formsets, change)
        return None  # the service wrote everything; related rows are read-only here

    def construct_change_message(self, request, form, formsets, add=False):
        if not self.uses_services():
            return super().construct_change_message(request, form, formsets, add)
        return construct_change_message(form, [], add)  # the inlines are read-only: nothing saved there

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            # refused on the real run (e.g. the order changed meanwhile): nothing was saved
            for line in service_error_messages(exc):
                messages.error(request, line)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyAdmin(RoleScopedAdmin):
    """A record nobody edits in the admin (history, notifications, alerts)."""

    def uses_services(self) -> bool:
        return False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(FieldVisibilityMixin, admin.TabularInline):
    """Related rows shown on a parent's page, never edited there."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_view_permission(self, request, obj=None):
        # the parent's admin already decided the user may see it; a record of a hidden class stays hidden
        return not roles.is_record_hidden(request.user, self.model)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def date_input(form: forms.BaseForm) -> forms.BaseForm:
    """Render a form's date fields as ``<input type="date">`` (ISO values, whatever the language)."""
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return form
