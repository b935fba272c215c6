from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from feedback.models import Complaint
from orderdesk.roles import Role

SCORE_CHOICES = [(5, "5"), (4, "4"), (3, "3"), (2, "2"), (1, "1")]


class ComplaintForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Complaint.Kind.choices)
    description = forms.CharField(label=_("What the customer said"), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class ComplaintHandleForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Complaint.Status.choices)
    resolution = forms.CharField(label=_("Resolution (told to the customer)"), required=False, max_length=5000,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.ModelChoiceField(label=_("Owner"), required=False, queryset=get_user_model().objects.none(),
                                   empty_label=_("(unchanged)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(Q(groups__name=Role.SALES_ASSISTANT) | Q(groups__name=Role.SALES_MANAGER),
                                            is_active=True).distinct().order_by("username")
        )
        self.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.get_username()


class FollowUpForm(forms.Form):
    score = forms.TypedChoiceField(label=_("Customer's score (5 = very satisfied)"), choices=SCORE_CHOICES,
                                   coerce=int)
    summary = forms.CharField(label=_("What the customer said on the phone"), max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class TrackComplaintForm(forms.Form):
    """The customer's complaint or suggestion on the tracking page (form fields `kind`, `description`)."""

    kind = forms.ChoiceField(label=_("This is a"), choices=Complaint.Kind.choices, widget=forms.RadioSelect,
                             initial=Complaint.Kind.COMPLAINT)
    description = forms.CharField(label=_("Your message"), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 4, "maxlength": 5000}))


class ReceiptForm(forms.Form):
    """The customer's confirmation of receipt and the inspection's result (tracking page, after shipment)."""

    received_by = forms.CharField(label=_("Received by (name)"), max_length=100)
    inspection = forms.ChoiceField(label=_("Inspection of the goods"), widget=forms.RadioSelect,
                                   choices=[("passed", _("Passed: the goods are as ordered")),
                                            ("failed", _("Not passed: there is a problem"))])
    note = forms.CharField(label=_("Remarks (optional)"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))
