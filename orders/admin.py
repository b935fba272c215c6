"""Admin of the order desk (customers, products, orders and their records), held to the roles (DESIGN §3, §5).

See :mod:`orderdesk.admin_base` for how scope, permissions and hidden fields work.

Orders in the admin:

* They are not added here: orders are entered through the intake page or the API
  (:func:`orders.services.create_order`), so add is disabled for everyone.
* While an order is ``received``, its owner or a sales manager may edit its plain
  fields and its lines; the change goes through :func:`orders.services.update_order`
  (which records the field history and withdraws a submission). Lines may be
  changed and added, never deleted here (the intake page and the API replace lines).
  A sales manager may reassign the assistant in any state
  (:func:`orders.services.reassign_order`). Every other field, ``state`` included,
  is read-only everywhere.
* States change only through the transition buttons of the change page, each a
  form posting to ``<id>/transitions/<name>/``, which calls
  :func:`orders.services.run_transition` (role, state and conditions checked there;
  each unmet condition is shown). Only the transitions
  :func:`orders.services.available_transitions` allows the caller get a button.
* The change page shows the order's history: its transitions (django-fsm-log) and
  its field changes (:class:`orders.models.OrderChange`).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import construct_change_message, flatten_fieldsets, unquote
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, F, OuterRef, Subquery, TextField, Value, When
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, gettext_lazy as _, pgettext
from django_fsm_log.models import StateLog

from orderdesk import roles
from orderdesk.admin_base import (
    HIDDEN_VALUE,
    FieldVisibilityMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    RoleScopedAdmin,
    date_input,
    service_error_messages,
)
from orderdesk.errors import ServiceError
from orders import lifecycle, services
from orders.forms import transition_form_class
from orders.models import (
    Alert,
    Clarification,
    Communication,
    Customer,
    Escalation,
    ImportJob,
    Order,
    OrderChange,
    OrderLine,
    OrderNumberSequence,
    Product,
    Signoff,
    State,
)
from orders.selectors import customers_with_exposure, joint_review_pending_q, joint_review_status, visible_orders

User = get_user_model()

admin.site.site_header = _("OrderDesk administration")
admin.site.site_title = _("OrderDesk admin")
admin.site.index_title = _("Administration")


def state_label(value) -> str:
    if value is None:
        return "—"
    try:
        return str(State(value).label)
    except ValueError:
        return str(value)


def person(user) -> str:
    """A user's name as people write it: 李娜 (family name first) for Chinese names, else Django's full name."""
    if user is None:
        return "—"
    first, last = user.first_name.strip(), user.last_name.strip()
    if first and last and any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"
    return user.get_full_name() or user.get_username()


def field_label(name: str) -> str:
    if name == "lines":
        return str(_("lines"))
    try:
        return str(Order._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a recorded name that is no model field
        return name


# --- master data -----------------------------------------------------------------------
@admin.register(Customer)
class CustomerAdmin(RoleScopedAdmin):
    order_field = None
    view_roles = roles.SALES | roles.FINANCE | {roles.Role.AUDITOR}
    superuser_manages = True
    list_display = (
        "code",
        "name",
        "is_key_account",
        "credit_limit",
        "open_exposure",
        "contact_name",
        "contact_phone",
        "language",
    )
    list_filter = ("is_key_account", "language")
    search_fields = ("code", "name", "contact_name", "contact_phone", "email")
    readonly_fields = ("open_exposure", "created_at")
    fields = (
        "code",
        "name",
        "is_key_account",
        "language",
        "contact_name",
        "contact_phone",
        "email",
        "address",
        "credit_limit",
        "open_exposure",
        "payment_terms",
        "created_at",
    )
    def get_queryset(self, request):
        qs = customers_with_exposure()
        return qs if self.has_view_permission(request) else qs.none()

    @admin.display(description=_("open exposure"), ordering="open_exposure")
    def open_exposure(self, obj):
        value = getattr(obj, "open_exposure", None)
        if value is None and obj.pk:
            from orders.selectors import customer_open_exposure

            value = customer_open_exposure(customer=obj)
        return value


@admin.register(Product)
class ProductAdmin(RoleScopedAdmin):
    order_field = None
    superuser_manages = True
    list_display = ("sku", "name", "specification", "unit", "standard_price", "lead_time_days", "is_active")
    list_filter = ("is_active",)
    search_fields = ("sku", "name", "specification")


# --- orders ---------------------------------------------------------------------------
class OrderLineInline(FieldVisibilityMixin, admin.TabularInline):
    """The order's lines: editable (not deletable) while the order is received and the user may edit it."""

    model = OrderLine
    extra = 0
    can_delete = False
    fields = ("position", "product", "specification", "quantity", "unit_price", "line_total")
    readonly_fields = ("position", "line_total")

    def _editable(self, request, obj) -> bool:
        return obj is not None and obj.state == State.RECEIVED and roles.may(request.user, "order.edit", obj)

    def has_view_permission(self, request, obj=None):
        return True  # the order's admin decided the user sees the order

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "product":
            kwargs["queryset"] = Product.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("line total"))
    def line_total(self, obj):
        return obj.line_total if obj.pk else ""


class ClarificationInline(ReadOnlyInline):
    model = Clarification
    fields = ("question", "raised_by", "raised_at", "resolution", "resolved_at")


class SignoffInline(ReadOnlyInline):
    model = Signoff
    fields = ("review_round", "department", "decision", "comment", "user", "created_at")


class OrderAdminForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = (*services.EDITABLE_FIELDS, "assistant")

    def clean_requested_delivery_date(self):
        value = self.cleaned_data.get("requested_delivery_date")
        if "requested_delivery_date" in self.changed_data and value and value < timezone.localdate():
            raise forms.ValidationError(_("The requested delivery date may not be in the past."))
        return value


@admin.register(Order)
class OrderAdmin(RoleScopedAdmin):
    """Orders: read-only but for received orders' plain fields and lines; states change by transition buttons."""

    form = OrderAdminForm
    order_field = None  # the queryset is visible_orders itself
    change_form_template = "admin/orders/order/change_form.html"
    list_display = (
        "number",
        "customer",
        "state",
        "assistant",
        "promised_delivery_date",
        "total_amount",
        "overdue",
        "created_at",
    )
    list_filter = (
        "state",
        "channel",
        ("assistant", RelatedOnlyFieldListFilter),
        ("customer", RelatedOnlyFieldListFilter),
    )
    list_select_related = ("customer", "assistant")
    search_fields = ("number", "customer__name", "customer__code", "contact_name", "contact_phone")
    inlines = (OrderLineInline, ClarificationInline, SignoffInline)
    fieldsets = (
        (
            None,
            {"fields": ("number", "state", "customer", "channel", "assistant", "created_by", "created_at", "overdue")},
        ),
        (
            _("Contact and delivery"),
            {
                "fields": (
                    "contact_name",
                    "contact_phone",
                    "delivery_address",
                    "requested_delivery_date",
                    "promised_delivery_date",
                    "special_terms",
                    "tracking_link",
                )
            },
        ),
        (
            _("Review"),
            {
                "fields": (
                    "total_amount",
                    "submitted_at",
                    "review_round",
                    "joint_review",
                    "approved_by",
                    "approved_at",
                    "credit_override_reason",
                )
            },
        ),
        (_("Production"), {"fields": ("workshop", "schedule_delay_reason")}),
        (
            _("Delivery and settlement"),
            {
                "fields": (
                    "receipt_signed_by",
                    "receipt_signed_on",
                    "receipt_reference",
                    "receipt_scan",
                    "accepted_at",
                    "settled_at",
                    "cancelled_at",
                )
            },
        ),
    )

    # --- scope and fields ---------------------------------------------------------------
    def uses_services(self) -> bool:
        return False  # the generic service hooks are not used: see save_related

    def get_queryset(self, request):
        if not self.has_view_permission(request):
            return Order.objects.none()
        return visible_orders(request.user).select_related("customer", "assistant", "workshop")

    def get_inlines(self, request, obj):
        # the read-only record inlines only when there is something to show
        inlines = [OrderLineInline]
        if obj is not None and obj.clarifications.exists():
            inlines.append(ClarificationInline)
        if obj is not None and obj.signoffs.exists():
            inlines.append(SignoffInline)
        return inlines

    def extra_hidden_fields(self, request):
        return frozenset() if roles.sees_tracking_url(request.user) else frozenset({"tracking_link"})

    def editable_fields(self, request, obj) -> set[str]:
        if obj is None:
            return set()
        editable = set()
        if obj.state == State.RECEIVED and roles.may(request.user, "order.edit", obj):
            editable.update(services.EDITABLE_FIELDS)
        if roles.may(request.user, "order.reassign", obj):
            editable.add("assistant")
        return editable

    def get_readonly_fields(self, request, obj=None):
        editable = self.editable_fields(request, obj)
        return self._without_hidden(request, [f for f in flatten_fieldsets(self.fieldsets) if f not in editable])

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assistant":
            kwargs["queryset"] = User.objects.filter(is_active=True, groups__name=roles.Role.SALES_ASSISTANT).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- permissions -----------------------------------------------------------------
    def has_add_permission(self, request):
        return False  # orders are entered through the intake page or the API (create_order)

    def has_change_permission(self, request, obj=None):
        if not self.has_role_access(request):
            return False
        if obj is None:
            return roles.may(request.user, "order.edit") or roles.may(request.user, "order.reassign")
        return bool(self.editable_fields(request, obj))

    def has_delete_permission(self, request, obj=None):
        return False

    # --- computed columns -------------------------------------------------------------
    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    @admin.display(description=_("customer tracking link"))
    def tracking_link(self, obj):
        if not obj.pk:
            return "—"
        return format_html('<a href="{0}" target="_blank" rel="noopener">{0}</a>', obj.tracking_url)

    @admin.display(description=_("joint review"))
    def joint_review(self, obj):
        if not obj.pk or not obj.requires_joint_review:
            return _("not required")
        status = joint_review_status(obj)
        labels = dict(Signoff.Department.choices)
        decisions = dict(Signoff.Decision.choices)
        return pgettext("list separator", "; ").join(
            gettext("%(field)s: %(error)s") % {
                "field": labels[dept],
                "error": decisions.get(decision, gettext("pending")) if decision else gettext("pending"),
            }
            for dept, decision in status.items()
        )

    # --- writes through the services ------------------------------------------------------
    def save_model(self, request, obj, form, change):
        """Nothing is saved here: :meth:`save_related` runs the services once the lines are validated too."""

    def save_related(self, request, form, formsets, change):
        order = form.instance
        data = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.changed_data}
        for formset in formsets:
            if formset.model is OrderLine and formset.has_changed():
                data["lines"] = self._lines_of(formset)
        if data:
            services.update_order(user=request.user, order_id=order.pk, data=data)
        if "assistant" in form.changed_data:
            services.reassign_order(user=request.user, order_id=order.pk, assistant=form.cleaned_data["assistant"])

    def construct_change_message(self, request, form, formsets, add=False):
        message = construct_change_message(form, [], add)
        if any(formset.model is OrderLine and formset.has_changed() for formset in formsets):
            message.append({"changed": {"fields": [str(OrderLine._meta.verbose_name_plural)]}})
        return message

    @staticmethod
    def _lines_of(formset) -> list[dict]:
        lines = []
        for line_form in formset.forms:
            if line_form.instance.pk is None and not line_form.has_changed():
                continue  # an empty extra row
            line = line_form.instance  # holds the validated values
            lines.append(
                {
                    "product": line.product,
                    "specification": line.specification,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                }
            )
        return lines

    # --- transitions -------------------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "<path:object_id>/transitions/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_transition",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request, object_id, name):
        """Run one transition for the user (a button of the change page) and go back to the order."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self.get_object(request, unquote(object_id))
        if order is None or not self.has_view_permission(request, order):
            raise Http404
        prefix = f"{name}-"
        data = {key[len(prefix) :]: value for key, value in request.POST.items() if key.startswith(prefix)}
        files = {key[len(prefix) :]: value for key, value in request.FILES.items() if key.startswith(prefix)}
        comment = data.pop("comment", "")
        label = lifecycle.label(name)
        try:
            order = services.run_transition(
                user=request.user, order_id=order.pk, name=name, comment=comment, data=data, files=files
            )
        except ServiceError as exc:
            for line in service_error_messages(exc):
                messages.error(request, line)
        else:
            self.log_change(request, order, gettext("Transition “%(name)s”.") % {"name": name})
            messages.success(
                request,
                gettext("“%(transition)s” done: order %(number)s is now %(state)s.")
                % {"transition": label, "number": order.number, "state": order.get_state_display()},
            )
        return HttpResponseRedirect(
            reverse("admin:orders_order_change", args=[order.pk], current_app=self.admin_site.name)
        )

    def transition_forms(self, request, order) -> list[dict]:
        result = []
        for item in services.available_transitions(user=request.user, order=order):
            if not item["allowed"]:
                continue
            name = item["name"]
            result.append(
                {
                    "name": name,
                    "label": lifecycle.label(name),
                    "target": state_label(item["target"]),
                    "dangerous": lifecycle.TRANSITIONS[name].danger,
                    # the same button defaults as the order page (lifecycle registry)
                    "form": date_input(transition_form_class(name)(prefix=name, initial=lifecycle.initial(name, order))),
                    "url": reverse(
                        "admin:orders_order_transition", args=[order.pk, name], current_app=self.admin_site.name
                    ),
                }
            )
        return result

    # --- history and related records -----------------------------------------------------
    def state_history(self, request, order) -> list[dict]:
        override = bool(order.credit_override_reason)
        logs = (
            StateLog.objects.filter(content_type=ContentType.objects.get_for_model(Order), object_id=order.pk)
            .select_related("by")
            .order_by("timestamp", "id")
        )
        return [
            {
                "when": log.timestamp,
                "who": person(log.by),
                "transition": lifecycle.label(log.transition),
                "source": state_label(log.source_state),
                "target": state_label(log.state),
                "comment": roles.transition_comment_for(request.user, log.transition, log.description,
                                                        credit_override=override),
            }
            for log in logs
        ]

    def field_changes(self, request, order) -> list[dict]:
        rows = []
        hidden_names = roles.hidden_history_fields(request.user)
        for change in order.changes.select_related("user").order_by("at", "id"):
            hidden = change.field in hidden_names
            rows.append(
                {
                    "when": change.at,
                    "who": person(change.user),
                    "field": field_label(change.field),
                    "old": HIDDEN_VALUE if hidden else change.old_value,
                    "new": HIDDEN_VALUE if hidden else change.new_value,
                }
            )
        return rows

    #: the models linked from an order's change page, by label: the departments' models are looked up by
    #: name (`orders` imports no department); one that is not installed is skipped
    RELATED_MODELS = (
        "orders.Clarification", "orders.Signoff", "production.ProductionPlan", "production.ProgressReport",
        "production.ProductionIssue", "logistics.Shipment", "logistics.ShipmentEvent", "finance.Invoice",
        "finance.Payment", "orders.OrderChange", "django_fsm_log.StateLog", "orders.Alert",
    )

    def related_links(self, request, order) -> list[dict]:
        from django.apps import apps

        links = []
        for label in self.RELATED_MODELS:
            try:
                model = apps.get_model(label)
            except LookupError:
                continue
            model_admin = self.admin_site._registry.get(model)
            if model_admin is None or not model_admin.has_view_permission(request):
                continue
            prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            try:
                url = reverse(f"{prefix}_changelist", current_app=self.admin_site.name)
                add_url = reverse(f"{prefix}_add", current_app=self.admin_site.name)
            except NoReverseMatch:
                continue
            can_add = (
                "order" in getattr(model_admin, "add_fields", ())
                and model_admin.has_add_permission(request)
                and model_admin.order_choices(request).filter(pk=order.pk).exists()
            )
            links.append(
                {
                    "label": model._meta.verbose_name_plural,
                    "url": f"{url}?{urlencode({'q': order.number})}",
                    "add_url": f"{add_url}?{urlencode({'order': order.pk})}" if can_add else None,
                }
            )
        return links

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        order = self.get_object(request, unquote(object_id))
        if order is not None:
            extra_context.update(
                transition_forms=self.transition_forms(request, order),
                state_history=self.state_history(request, order),
                field_changes=self.field_changes(request, order),
                related_links=self.related_links(request, order),
            )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = ("order", "position", "product", "specification", "quantity", "unit_price", "line_total")
    list_select_related = ("order", "product")
    search_fields = ("order__number", "product__sku", "specification")
    fields = ("order", "position", "product", "specification", "quantity", "unit_price", "line_total")
    readonly_fields = ("line_total",)

    @admin.display(description=_("line total"))
    def line_total(self, obj):
        return obj.line_total


# --- review (R4.2) --------------------------------------------------------------------
@admin.register(Clarification)
class ClarificationAdmin(RoleScopedAdmin):
    """Doubtful points clarified with the customer: raised and resolved through the services."""

    add_action = change_action = "clarification.manage"
    add_fields = ("order", "question")
    change_fields = ("resolution",)
    order_choice_states = (State.RECEIVED,)
    list_display = ("order", "question", "raised_by", "raised_at", "is_open", "resolved_at")
    list_filter = (("raised_by", RelatedOnlyFieldListFilter),)
    list_select_related = ("order", "raised_by")
    search_fields = ("order__number", "question", "resolution")
    fields = ("order", "question", "raised_by", "raised_at", "resolution", "resolved_at")

    def is_changeable(self, obj):
        return obj.resolved_at is None

    @admin.display(description=_("open"), boolean=True)
    def is_open(self, obj):
        return obj.is_open

    def add_via_service(self, request, data):
        return services.open_clarification(user=request.user, order_id=data["order"].pk, question=data["question"])

    def change_via_service(self, request, obj, data, changed):
        return services.resolve_clarification(
            user=request.user, clarification_id=obj.pk, resolution=data.get("resolution") or ""
        )


@admin.register(Signoff)
class SignoffAdmin(RoleScopedAdmin):
    """Joint-review sign-offs: a finance manager or production supervisor records one for a submitted order."""

    add_action = "signoff"
    add_fields = ("order", "decision", "comment")
    list_display = ("order", "review_round", "department", "decision", "user", "created_at")
    list_filter = ("department", "decision")
    list_select_related = ("order", "user")
    search_fields = ("order__number", "comment")
    fields = ("order", "review_round", "department", "decision", "comment", "user", "created_at")

    def order_choices(self, request):
        return super().order_choices(request).filter(joint_review_pending_q())

    def add_via_service(self, request, data):
        return services.record_signoff(
            user=request.user, order_id=data["order"].pk, decision=data["decision"], comment=data.get("comment") or ""
        )


# --- records nobody edits --------------------------------------------------------------
@admin.register(OrderChange)
class OrderChangeAdmin(ReadOnlyAdmin):
    """Field history of orders; values of fields hidden from the user are masked."""

    list_display = ("at", "order", "user", "field", "old", "new")
    list_filter = ("field",)
    list_select_related = ("order", "user")
    search_fields = ("order__number", "field")
    fields = ("order", "user", "field", "old", "new", "at")
    readonly_fields = ("old", "new")

    def get_queryset(self, request):
        # the mask is computed per request in SQL (the admin instance is shared between requests)
        masked = sorted(roles.hidden_history_fields(request.user))
        hidden = Value(str(HIDDEN_VALUE))
        return (
            super()
            .get_queryset(request)
            .annotate(
                old_shown=Case(When(field__in=masked, then=hidden), default=F("old_value"), output_field=TextField()),
                new_shown=Case(When(field__in=masked, then=hidden), default=F("new_value"), output_field=TextField()),
            )
        )

    @admin.display(description=_("old value"))
    def old(self, obj):
        return getattr(obj, "old_shown", HIDDEN_VALUE)

    @admin.display(description=_("new value"))
    def new(self, obj):
        return getattr(obj, "new_shown", HIDDEN_VALUE)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("fired_at", "order", "kind", "resolved_at")
    list_filter = ("kind",)
    list_select_related = ("order",)
    search_fields = ("order__number",)


@admin.register(Communication)
class CommunicationAdmin(ReadOnlyAdmin):
    """Talks with the customer (R4.2), recorded on the order page; what a customer said is sales data."""

    view_roles = roles.SALES | roles.FINANCE | {roles.Role.AUDITOR}
    list_display = ("at", "order", "channel", "with_whom", "recorded_by")
    list_filter = ("channel",)
    list_select_related = ("order", "recorded_by")
    search_fields = ("order__number", "with_whom", "summary")


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    """Problems an assistant escalated to the manager (R5.1); resolved on the order page."""

    view_roles = roles.SALES | roles.FINANCE | {roles.Role.AUDITOR}
    list_display = ("raised_at", "order", "raised_by", "resolved_at", "resolved_by")
    list_select_related = ("order", "raised_by", "resolved_by")
    search_fields = ("order__number", "reason", "resolution")


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    """Order imports (R4.1 other channels); each user sees their own, superusers all."""

    order_field = None
    view_roles = roles.SALES | {roles.Role.AUDITOR}
    list_display = ("created_at", "user", "filename", "status", "total_rows", "processed_rows", "finished_at")
    list_filter = ("status",)
    list_select_related = ("user",)
    exclude = ("file",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser or roles.has_role(request.user, roles.Role.AUDITOR):
            return qs
        return qs.filter(user=request.user)


@admin.register(OrderNumberSequence)
class OrderNumberSequenceAdmin(ReadOnlyAdmin):
    order_field = None
    view_roles = frozenset()  # superusers only
    list_display = ("year", "last")


@admin.register(StateLog)
class StateLogAdmin(ReadOnlyAdmin):
    """Every recorded transition (django-fsm-log), of the orders the user may see."""

    order_field = None
    # the raw `description` is classed (FIELD_CLASSES: it may carry an internal or credit comment);
    # `comment` shows each row's comment as the user may read it
    list_display = ("timestamp", "order_link", "transition", "source", "target", "by", "comment")
    list_filter = ("transition", "state")
    search_fields = ("order_number", "description")
    fields = ("timestamp", "order_link", "transition", "source", "target", "by", "comment")
    readonly_fields = ("order_link", "source", "target", "comment")
    ordering = ("-timestamp", "-id")

    @admin.display(description=_("comment"))
    def comment(self, obj):
        return getattr(obj, "comment_shown", "")

    def get_queryset(self, request):
        if not self.has_view_permission(request):
            return StateLog.objects.none()
        order_ct = ContentType.objects.get_for_model(Order)
        # the mask is computed per request in SQL (the admin instance is shared between requests)
        masked = [name for name in roles.TRANSITION_ROLES if roles.hidden_transition_comment(request.user, name)]
        qs = StateLog.objects.select_related("by").annotate(
            order_number=Subquery(Order.objects.filter(pk=OuterRef("object_id")).values("number")[:1]),
            comment_shown=Case(When(transition__in=masked, then=Value("")), default=F("description"),
                               output_field=TextField()),
        )
        if not request.user.is_superuser:
            qs = qs.filter(content_type=order_ct, object_id__in=visible_orders(request.user).values("pk"))
        return qs

    @admin.display(description=_("order"), ordering="order_number")
    def order_link(self, obj):
        number = getattr(obj, "order_number", None)
        if not number:
            return "—"
        url = reverse("admin:orders_order_change", args=[obj.object_id], current_app=self.admin_site.name)
        return format_html('<a href="{}">{}</a>', url, number)

    @admin.display(description=_("from"), ordering="source_state")
    def source(self, obj):
        return state_label(obj.source_state)

    @admin.display(description=_("to"), ordering="state")
    def target(self, obj):
        return state_label(obj.state)
