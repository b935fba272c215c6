from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from orderdesk.pages import person_choices
from orderdesk.roles import Role
from supervision.models import CheckItem

User = get_user_model()


class DateInput(forms.DateInput):
    """`<input type="date">` takes ISO values only, whatever the page's language."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):  # noqa: A002 - Django's argument name
        super().__init__(attrs, format)


class ApproveForm(forms.Form):
    promised_delivery_date = forms.DateField(label=_("Promised delivery date"), widget=DateInput)
    override_credit = forms.BooleanField(label=_("Override the credit limit (give the reason below)"),
                                         required=False)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    comment = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class SignoffForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("approve", _("Approve")), ("object", _("Object"))])
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))


def assistants():
    return User.objects.filter(groups__name=Role.SALES_ASSISTANT, is_active=True).order_by("username")


class KpiFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("Until"), required=False, widget=DateInput)
    assistant = forms.ModelChoiceField(label=_("Assistant"), queryset=User.objects.none(), required=False,
                                       empty_label=_("Whole team"))
    series = forms.ChoiceField(label=_("Chart by"), required=False,
                               choices=[("month", _("Month")), ("week", _("Week"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assistant"].queryset = assistants()
        person_choices(self.fields["assistant"])


class PeriodicCheckForm(forms.Form):
    assistant = forms.ModelChoiceField(label=_("Assistant"), queryset=User.objects.none())
    period_start = forms.DateField(label=_("Orders from"), widget=DateInput)
    period_end = forms.DateField(label=_("Orders until"), widget=DateInput)
    sample_size = forms.IntegerField(label=_("Sample size"), min_value=1, max_value=200, initial=5)
    seed = forms.IntegerField(label=_("Random seed (optional)"), required=False, min_value=0,
                              max_value=2**63 - 1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assistant"].queryset = assistants()
        person_choices(self.fields["assistant"])


class CheckOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"),
                                choices=[(CheckItem.Outcome.CORRECT, CheckItem.Outcome.CORRECT.label),
                                         (CheckItem.Outcome.ERROR, CheckItem.Outcome.ERROR.label)])
    error_description = forms.CharField(label=_("Error found"), required=False, max_length=4000,
                                        widget=forms.Textarea(attrs={"rows": 2}))
    loss_amount = forms.DecimalField(label=_("Loss amount"), required=False, min_value=0, max_digits=16,
                                     decimal_places=2)


class AuditFilterForm(forms.Form):
    order = forms.CharField(label=_("Order number"), required=False, max_length=40)
    user = forms.ModelChoiceField(label=_("User"), required=False, queryset=User.objects.order_by("username"),
                                  empty_label=_("Everyone"))
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args, **kwargs):
        from orderdesk.audit import KINDS

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds")), *KINDS.items()]
        person_choices(self.fields["user"])

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The start is after the end."))
        return data


class ViolationFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)
    rule = forms.ChoiceField(label=_("Rule"), required=False)

    def __init__(self, *args, **kwargs):
        from supervision.selectors.violations import RULES

        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("All rules")), *((k, v[0]) for k, v in RULES.items())]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The start is after the end."))
        return data


class LossForm(forms.Form):
    order = forms.CharField(label=_("Order number"), max_length=40)
    cause = forms.CharField(label=_("Cause"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    responsible = forms.ModelChoiceField(label=_("Person responsible"), queryset=User.objects.none())
    corrective_action = forms.CharField(label=_("Corrective action"), max_length=5000,
                                        widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = User.objects.filter(is_active=True, groups__isnull=False).distinct() \
            .order_by("username")
        self.fields["responsible"].label_from_instance = lambda u: u.get_full_name() or u.get_username()


class LossDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("confirmed", _("Confirm")), ("dismissed", _("Dismiss"))])
    note = forms.CharField(label=_("Note (required to dismiss)"), required=False, max_length=5000)
