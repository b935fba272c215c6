"""Forms of production's work on the order page (R4.3, R4.4): the plan, readiness, progress, issues.

They check the shape of what was typed; the services (:mod:`production.services`) decide
the rest (role, state, dates) and write.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.forms import use_html5_dates
from production.models import ProductionIssue

MAX_MILESTONES = 30
MILESTONES_PREFIX = "milestones"
BLANK_MILESTONE_ROWS = 2


def production_staff():
    """Active users of a production role: who may be responsible for a milestone."""
    from django.contrib.auth import get_user_model

    from orderdesk.roles import PRODUCTION

    return (get_user_model().objects.filter(is_active=True, groups__name__in=[str(r) for r in PRODUCTION])
            .distinct().order_by("username"))


def active_workshops():
    from production.models import Workshop

    return Workshop.objects.filter(is_active=True).order_by("code")


def staff_choices():
    """The staff directory by name: every active user with a production role (owners, responsible people)."""
    return [(u.pk, u.get_full_name() or u.get_username()) for u in production_staff()]


class PlanForm(forms.Form):
    workshop = forms.ModelChoiceField(label=_("Workshop"), queryset=None, empty_label=_("Choose a workshop"))
    start_date = forms.DateField(label=_("Start date"), required=False,
                                 help_text=_("The first day the order occupies the workshop (default: today)."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_plan_%s")
        super().__init__(*args, **kwargs)
        self.fields["workshop"].queryset = active_workshops()
        use_html5_dates(self)


class MilestoneForm(forms.Form):
    name = forms.CharField(label=_("Milestone"), max_length=100)
    due_date = forms.DateField(label=_("Due date"))
    responsible = forms.TypedChoiceField(label=_("Responsible"), coerce=int, choices=())
    quantity = forms.DecimalField(label=_("Quantity"), required=False, min_value=0, max_digits=12, decimal_places=3)

    def __init__(self, *args, responsible_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = [("", _("Choose a person")), *responsible_choices]
        use_html5_dates(self)
        # each row's inputs carry their own accessible name (the table header alone is not one)
        index = (self.prefix or "").rsplit("-", 1)[-1]
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", f"{field.label} {int(index) + 1}" if index.isdigit() else str(field.label))


class BaseMilestoneFormSet(forms.BaseFormSet):
    """The plan's milestones: blank rows are ignored, at least one filled row is required.

    The people who may be responsible are read once for every row (no query per row)."""

    def __init__(self, *args, **kwargs):
        people = list(production_staff())
        self.people = {u.pk: u for u in people}
        kwargs.setdefault("prefix", MILESTONES_PREFIX)
        kwargs["form_kwargs"] = {
            "responsible_choices": [(u.pk, u.get_full_name() or u.get_username()) for u in people],
        }
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.extra = len(self.initial or []) + BLANK_MILESTONE_ROWS

    def initial_form_count(self):
        # every row may be left blank (or cleared) and is then ignored
        return 0

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not self.milestones():
            raise forms.ValidationError(_("A plan needs at least one milestone."), code="no_milestones")

    def milestones(self) -> list[dict]:
        """The filled rows, as the service takes them (`responsible` a user)."""
        return [
            {"name": f.cleaned_data["name"], "due_date": f.cleaned_data["due_date"],
             "responsible": self.people[f.cleaned_data["responsible"]], "quantity": f.cleaned_data.get("quantity")}
            for f in self.forms if f.has_changed() and f.cleaned_data
        ]


MilestoneFormSet = forms.formset_factory(
    MilestoneForm, formset=BaseMilestoneFormSet, extra=BLANK_MILESTONE_ROWS, max_num=MAX_MILESTONES,
    validate_max=True, absolute_max=MAX_MILESTONES,
)


class ReadinessForm(forms.Form):
    materials_ready = forms.BooleanField(label=_("Materials ready"), required=False)
    equipment_ready = forms.BooleanField(label=_("Equipment ready"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_ready_%s")
        super().__init__(*args, **kwargs)


class ProgressForm(forms.Form):
    percent_complete = forms.IntegerField(
        label=_("Percent complete"), min_value=0, max_value=100,
        help_text=_("Production is complete at 100."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_progress_%s")
        super().__init__(*args, **kwargs)


class IssueForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ProductionIssue.Kind.choices)
    description = forms.CharField(label=_("Description"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    expected_date = forms.DateField(label=_("New expected finish (delay)"), required=False)
    disposition = forms.ChoiceField(label=_("Disposition (quality)"), required=False,
                                    choices=[("", "—"), *ProductionIssue.Disposition.choices])
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False, empty_value=None, choices=())

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_issue_%s")
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "—"), *staff_choices()]
        use_html5_dates(self)

    def owner_user(self):
        from django.contrib.auth import get_user_model

        pk = self.cleaned_data.get("owner")
        return get_user_model().objects.filter(pk=pk).first() if pk else None


class IssueResolutionForm(forms.Form):
    resolution = forms.CharField(label=_("Resolution"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    disposition = forms.ChoiceField(label=_("Disposition (quality)"), required=False,
                                    choices=[("", "—"), *ProductionIssue.Disposition.choices])


# --- the hand-over, the workspace and the worker's page (issue 10) ----------------------------------------
class HandoverForm(forms.Form):
    workshop = forms.ModelChoiceField(label=_("Workshop"), queryset=None, empty_label=_("Choose a workshop"))
    note = forms.CharField(label=_("Note on priorities"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_handover_%s")
        super().__init__(*args, **kwargs)
        self.fields["workshop"].queryset = active_workshops()


class MoveForm(forms.Form):
    workshop = forms.ModelChoiceField(label=_("Move to workshop"), queryset=None, empty_label=_("Choose a workshop"))
    reason = forms.CharField(label=_("Reason"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_move_%s")
        super().__init__(*args, **kwargs)
        self.fields["workshop"].queryset = active_workshops()


class PreparationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=())
    description = forms.CharField(label=_("Description"), max_length=300)
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, choices=())
    due_date = forms.DateField(label=_("Due date"))

    def __init__(self, *args, **kwargs):
        from production.models import PreparationTask

        kwargs.setdefault("auto_id", "id_prep_%s")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = PreparationTask.Kind.choices
        self.fields["owner"].choices = [("", _("Choose a person")), *staff_choices()]
        use_html5_dates(self)

    def owner_user(self):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=self.cleaned_data["owner"]).first()


class ScheduleForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    acknowledge_capacity = forms.BooleanField(
        label=_("Acknowledge that the plan overloads the workshop in some week"), required=False)
    acknowledge_delay = forms.BooleanField(
        label=_("Acknowledge that the plan finishes after the promised date"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_schedule_%s")
        super().__init__(*args, **kwargs)


class ReportForm(forms.Form):
    """A worker's progress report against one milestone (multipart: the photo)."""

    percent_complete = forms.IntegerField(label=_("Order percent complete"), min_value=0, max_value=100,
                                          required=False, help_text=_("Empty: rolled up from the milestones."))
    quantity_done = forms.DecimalField(label=_("Quantity done"), required=False, min_value=0, max_digits=12,
                                       decimal_places=3)
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.FileField(label=_("Photo"), required=False)

    def __init__(self, *args, milestone_id=None, **kwargs):
        kwargs.setdefault("auto_id", f"id_report{milestone_id}_%s")
        super().__init__(*args, **kwargs)
        self.fields["photo"].widget.attrs["accept"] = "image/png,image/jpeg,image/gif,image/webp"


class CompleteForm(forms.Form):
    note = forms.CharField(label=_("Completion note"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 1}))

    def __init__(self, *args, milestone_id=None, **kwargs):
        kwargs.setdefault("auto_id", f"id_complete{milestone_id}_%s")
        super().__init__(*args, **kwargs)


class CustomerMessageForm(forms.Form):
    customer_message = forms.CharField(label=_("Message to the customer"), max_length=5000,
                                       widget=forms.Textarea(attrs={"rows": 4}))
