"""Staff forms. Rules stay in casework.services; these only parse input."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from org import roles
from org.models import Unit
from org.scope import staff_for_township
from tipline.forms import EvidenceField, ReportForm
from tipline.models import Channel, RejectionReason

from .models import Case, DocumentType, State


class ExpectedStateForm(forms.Form):
    """Carries the state the user saw, so a change by someone else is detected."""

    expected_state = forms.ChoiceField(choices=State.choices, widget=forms.HiddenInput)


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=RejectionReason.choices)
    note = forms.CharField(
        label=_("Note to the reporter"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OpenCaseForm(forms.Form):
    title = forms.CharField(label=_("Case summary"), max_length=200, required=False)
    involves_birth_permit = forms.BooleanField(
        label=_("Involves a couple holding a birth permit"), required=False
    )


class LinkForm(forms.Form):
    case = forms.ModelChoiceField(label=_("Existing case"), queryset=Case.objects.none())

    def __init__(self, *args, report=None, **kwargs):
        super().__init__(*args, **kwargs)
        if report is not None:
            self.fields["case"].queryset = Case.objects.filter(township=report.township).exclude(
                state=State.ARCHIVED
            )


class StaffTipForm(ReportForm):
    channel = forms.ChoiceField(
        label=_("How the tip arrived"),
        choices=[
            (c.value, c.label)
            for c in (Channel.PHONE, Channel.MAILBOX, Channel.LETTER, Channel.WALK_IN)
        ],
    )

    def __init__(self, *args, townships=None, **kwargs):
        super().__init__(*args, with_files=True, **kwargs)
        if townships is not None:
            self.fields["township"].queryset = townships


class AssignForm(ExpectedStateForm):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    investigator = forms.ModelChoiceField(
        label=_("Investigator"), queryset=get_user_model().objects.none()
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            from django.db.models import Q

            self.fields["unit"].queryset = Unit.objects.filter(
                county_id=case.township.county_id
            ).filter(Q(township__isnull=True) | Q(township_id=case.township_id))
            self.fields["investigator"].queryset = staff_for_township(
                case.township, roles.INVESTIGATOR, roles.SUPERVISOR
            ).order_by("username")


class ExtendForm(ExpectedStateForm):
    reason = forms.CharField(
        label=_("Reason for the extension"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _step_fields():
    return {
        "outcome": forms.CharField(
            label=_("Outcome"),
            max_length=5000,
            required=False,  # the step says what is missing, in its own words
            widget=forms.Textarea(attrs={"rows": 3}),
        ),
        "receiving_unit": forms.CharField(
            label=_("Receiving unit"), max_length=200, required=False
        ),
        "transferred_on": forms.DateField(
            label=_("Date of transfer"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}),
        ),
    }


class StepForm(ExpectedStateForm):
    """The values one step of the case machine asks for (its declaration names them)."""

    def __init__(self, *args, step, **kwargs):
        kwargs.setdefault("auto_id", f"id_{step.name}_%s")  # one form per step on the page
        super().__init__(*args, **kwargs)
        fields = _step_fields()
        for name in step.inputs:
            self.fields[name] = fields[name]
        self.step = step

    def inputs(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.step.inputs}


class DocumentForm(forms.Form):
    doc_type = forms.ModelChoiceField(
        label=_("Document"), queryset=DocumentType.objects.filter(generated=False)
    )
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = EvidenceField(label=_("File (PDF, JPEG, PNG)"))

    def clean_file(self):
        files = self.cleaned_data["file"]
        if len(files) != 1:
            raise forms.ValidationError(_("Choose one file."))
        return files[0]


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class IdentityRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need to see who reported this?"),
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class IdentityDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
