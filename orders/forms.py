"""Forms of the order desk.

The transition forms validate the data a transition takes (DESIGN §6 "Transition
data"); the transition service uses them whatever the caller (page, API, admin,
task), so a value is checked the same way everywhere.
"""

from __future__ import annotations

from django import forms
from django.core.validators import FileExtensionValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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


TRANSITION_FORMS: dict[str, type[TransitionForm]] = {
    "approve": ApproveForm,
    "schedule": ScheduleForm,
    "accept": AcceptForm,
}


def transition_form_class(name: str) -> type[TransitionForm]:
    return TRANSITION_FORMS.get(name, TransitionForm)

