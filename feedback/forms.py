from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.models import Complaint


class ComplaintForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Complaint.Kind.choices)
    description = forms.CharField(label=_("What the customer said"), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class ComplaintHandleForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Complaint.Status.choices)
    resolution = forms.CharField(label=_("Resolution"), required=False, max_length=5000,
                                 widget=forms.Textarea(attrs={"rows": 2}))
