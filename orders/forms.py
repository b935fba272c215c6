"""Forms of the order desk.

The transition forms validate the data a transition takes (DESIGN §6 "Transition
data"); the transition service uses them whatever the caller (page, API, admin,
task), so a value is checked the same way everywhere.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import FileExtensionValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orderdesk.pages import listed_choices

RECEIPT_MAX_BYTES = 10 * 1024 * 1024
RECEIPT_EXTENSIONS = ["pdf", "png", "jpg", "jpeg", "webp"]


class TransitionForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ApproveForm(TransitionForm):
    promised_delivery_date = forms.DateField(label=_("Promised delivery date"), required=False)
    override_credit = forms.BooleanField(label=_("Override the credit limit (give the reason as comment)"),
                                         required=False)


class ScheduleForm(TransitionForm):
    acknowledge_delay = forms.BooleanField(label=_("Acknowledge that the plan finishes after the promised date"),
                                           required=False)
    acknowledge_capacity = forms.BooleanField(
        label=_("Acknowledge that the plan overloads the workshop in some week"), required=False
    )


class AcceptForm(TransitionForm):
    signed_by = forms.CharField(label=_("Signed by"), max_length=100, required=False)
    signed_on = forms.DateField(label=_("Signed on"), required=False)
    receipt_reference = forms.CharField(label=_("Receipt reference"), max_length=100, required=False)
    receipt_scan = forms.FileField(
        label=_("Receipt scan (PDF or image)"), required=False,
        validators=[FileExtensionValidator(RECEIPT_EXTENSIONS)],
    )
    inspection_passed = forms.NullBooleanField(label=_("Inspection passed"), required=False)

    def clean_signed_on(self):
        value = self.cleaned_data.get("signed_on")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The receipt cannot be signed in the future."))
        return value

    def clean_receipt_scan(self):
        scan = self.cleaned_data.get("receipt_scan")
        if scan and scan.size > RECEIPT_MAX_BYTES:
            raise forms.ValidationError(_("The scan may be at most 10 MB."))
        if scan:
            head = scan.read(8)
            scan.seek(0)
            if not (head.startswith(b"%PDF") or head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8")
                    or head[:4] == b"RIFF"):
                raise forms.ValidationError(_("The scan must be a PDF or an image."))
        return scan

    def clean(self):
        data = super().clean()
        if data.get("inspection_passed") is None:
            # Recording the receipt is the assistant's statement that the goods passed.
            data["inspection_passed"] = True
        return data


def transition_form_class(name: str) -> type[TransitionForm]:
    from orders import lifecycle

    return lifecycle.form_class(name)


# --- pages ---------------------------------------------------------------------------

def use_html5_dates(form: forms.BaseForm) -> forms.BaseForm:
    """Render the form's date fields as `<input type="date">` (ISO values, whatever the language)."""
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return form


def page_transition_form(name: str, *, data=None) -> TransitionForm:
    """The form a transition button shows (bound again with what was posted after a failure)."""
    form = use_html5_dates(transition_form_class(name)(data=data, auto_id=f"id_{name}_%s"))
    form.fields["comment"].widget.attrs.update({"rows": 2})
    from orders import lifecycle

    if lifecycle.TRANSITIONS[name].comment_required:
        form.fields["comment"].label = _("Reason")
        form.fields["comment"].widget.attrs["required"] = True
    return form


class OrderForm(forms.Form):
    """The intake form (R4.1); its field names are the API's create names (DESIGN §6)."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None, empty_label=_("Choose a customer"))
    channel = forms.ChoiceField(label=_("Channel"), choices=())
    contact_name = forms.CharField(label=_("Contact name"), max_length=100)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=50)
    delivery_address = forms.CharField(label=_("Delivery address"), max_length=300)
    requested_delivery_date = forms.DateField(label=_("Requested delivery date"))
    special_terms = forms.CharField(
        label=_("Special terms"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Special quality or delivery requirements; an order with special terms needs a joint review."),
    )
    payment_terms = forms.ModelChoiceField(
        label=_("Payment terms"), queryset=None, required=False, empty_label=_("The customer's default terms"),
        help_text=_("Installments invoiced on approval, before production, at shipment or acceptance."),
    )

    assistant = forms.ModelChoiceField(
        label=_("Owning sales assistant"), queryset=None, required=False, empty_label=_("Choose an assistant"),
        help_text=_("The assistant who checks, submits and follows this order."),
    )
    confirm_duplicate = forms.BooleanField(
        label=_("Save anyway: this is not the same order entered twice"), required=False,
    )

    def __init__(self, *args, with_assistant: bool = False, **kwargs):
        from orderdesk.roles import Role
        from orders.models import Channel, Customer
        from orders.selectors import users_directory

        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.order_by("name")
        self.fields["customer"].widget.attrs["data-picker"] = "customers"
        from orders.models import Order

        self.fields["payment_terms"].queryset = (
            Order._meta.get_field("payment_terms").related_model.objects.filter(is_active=True).order_by("name"))
        self.fields["channel"].choices = [("", "---------"), *Channel.choices]
        if with_assistant:
            self.fields["assistant"].queryset = users_directory(Role.SALES_ASSISTANT).prefetch_related(None)
            self.fields["assistant"].required = True
            self.fields["assistant"].label_from_instance = lambda u: u.get_full_name() or u.get_username()
        else:
            del self.fields["assistant"]
        use_html5_dates(self)


class OrderEditForm(OrderForm):
    """Changing an order while it is `received` (the same fields, no owner, no duplicate check)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["confirm_duplicate"]


class CommunicationForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=())
    at = forms.DateTimeField(label=_("When"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                         format="%Y-%m-%dT%H:%M"),
                             input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])
    with_whom = forms.CharField(label=_("With whom"), max_length=100)
    summary = forms.CharField(label=_("What was said or agreed"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        from orders.models import Communication

        kwargs.setdefault("auto_id", "id_comm_%s")
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = Communication.Channel.choices
        if not self.is_bound:
            self.initial.setdefault("at", timezone.localtime().replace(second=0, microsecond=0))


class ClarificationForm(forms.Form):
    question = forms.CharField(label=_("Doubtful point to clarify with the customer"), max_length=4000,
                               widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_clar_%s")
        super().__init__(*args, **kwargs)


class ResolutionForm(forms.Form):
    resolution = forms.CharField(label=_("Resolution"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class EscalationForm(forms.Form):
    reason = forms.CharField(label=_("Problem to escalate to the sales manager"), max_length=4000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_esc_%s")
        super().__init__(*args, **kwargs)


class ReassignForm(forms.Form):
    """A sales manager gives the order to another assistant, with the reason (recorded in the history)."""

    assistant = forms.ModelChoiceField(label=_("New owning assistant"), queryset=None,
                                       empty_label=_("Choose an assistant"))
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, exclude=None, **kwargs):
        from orderdesk.roles import Role
        from orders.selectors import users_directory

        kwargs.setdefault("auto_id", "id_reassign_%s")
        super().__init__(*args, **kwargs)
        queryset = users_directory(Role.SALES_ASSISTANT).prefetch_related(None)
        if exclude is not None:
            queryset = queryset.exclude(pk=exclude)
        self.fields["assistant"].queryset = queryset
        self.fields["assistant"].label_from_instance = lambda u: u.get_full_name() or u.get_username()
        listed_choices(self.fields["assistant"])


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or Excel file"), help_text=_("At most 5 MB; one row per order line."))


class QuantityInput(forms.NumberInput):
    """A quantity as people write it: 10, 2.5 (never the stored 10.000)."""

    def format_value(self, value):
        if isinstance(value, Decimal):
            value = format(value, "f")
            if "." in value:
                value = value.rstrip("0").rstrip(".")
        return super().format_value(value)


class OrderLineForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=None)
    specification = forms.CharField(label=_("Specification"), max_length=300)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=3, min_value=Decimal("0.001"),
                                  widget=QuantityInput)
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=14, decimal_places=2, min_value=Decimal("0"))

    def __init__(self, *args, **kwargs):
        from orders.selectors import products

        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products().order_by("sku")
        self.fields["product"].widget.attrs["data-picker"] = "products"
        for name in ("quantity", "unit_price"):
            self.fields[name].widget.attrs.update({"step": "any", "inputmode": "decimal"})
        # the table's header names the columns; each input still needs its own accessible name
        index = (self.prefix or "").rsplit("-", 1)[-1]
        for field in self.fields.values():
            label = str(field.label)
            field.widget.attrs["aria-label"] = f"{label} {int(index) + 1}" if index.isdigit() else label
        if "DELETE" in self.fields:
            self.fields["DELETE"].label = _("Remove")


class BaseOrderLineFormSet(forms.BaseFormSet):
    """Blank lines are ignored; at least one filled line is required."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not self.filled_lines():
            raise forms.ValidationError(_("An order needs at least one line."), code="no_lines")

    def filled_lines(self) -> list[dict]:
        """The lines to keep: filled in and not marked "Remove"."""
        return [
            {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
            for form in self.forms
            if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


OrderLineFormSet = forms.formset_factory(OrderLineForm, formset=BaseOrderLineFormSet, extra=3, max_num=100,
                                         validate_max=True, absolute_max=100, can_delete=True)
LINES_PREFIX = "lines"


class PromiseForm(forms.Form):
    """A new promised delivery date with its reason (R5.3); the service checks who, when and the date."""

    promised_delivery_date = forms.DateField(label=_("New promised delivery date"))
    reason = forms.CharField(label=_("Reason (the customer reads it)"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_promise_%s")
        super().__init__(*args, **kwargs)
        use_html5_dates(self)
