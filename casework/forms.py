"""Staff forms. Rules stay in casework.services; these only parse input."""

import re
from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org import roles
from org.models import Unit
from org.people import display_name
from org.scope import staff_for_township
from tipline.forms import EvidenceField, ReportForm
from tipline.models import Channel, RejectionReason

from .models import Case, DocumentType, State


class ExpectedStateForm(forms.Form):
    """Carries the state the user saw, so a change by someone else is detected."""

    expected_state = forms.ChoiceField(choices=State.choices, widget=forms.HiddenInput)


class RejectForm(forms.Form):
    # Starts unselected: not accepting a report is a choice the clerk makes, never a default.
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[("", _("Choose a reason")), *RejectionReason.choices]
    )
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


class CaseChoiceField(forms.ModelChoiceField):
    """A case as a clerk recognises it: number, summary, state and the date it was opened."""

    def label_from_instance(self, case):
        return " · ".join(
            (
                case.number,
                case.title if len(case.title) <= 30 else case.title[:29] + "…",
                str(case.get_state_display()),
                timezone.localdate(case.accepted_at).isoformat(),
            )
        )


class LinkForm(forms.Form):
    case = CaseChoiceField(
        label=_("Existing case"), queryset=Case.objects.none(), empty_label=_("Choose a case")
    )

    def __init__(self, *args, report=None, suggested=(), **kwargs):
        super().__init__(*args, **kwargs)
        if report is not None:
            open_cases = Case.objects.filter(township=report.township).exclude(state=State.ARCHIVED)
            self.fields["case"].queryset = open_cases.order_by("-accepted_at")
            # The system's suggestions first, then the township's other open cases.
            suggested = [case.pk for case in suggested]
            if suggested:
                field = self.fields["case"]
                cases = list(field.queryset)
                first = [c for c in cases if c.pk in suggested]
                first.sort(key=lambda c: suggested.index(c.pk))
                rest = [c for c in cases if c.pk not in suggested]
                field.choices = [
                    ("", field.empty_label),
                    (
                        _("Suggested"),
                        [(c.pk, field.label_from_instance(c)) for c in first],
                    ),
                    (
                        _("Other open cases"),
                        [(c.pk, field.label_from_instance(c)) for c in rest],
                    ),
                ]


MAX_DAYS_LATE = 90  # a tip this old is entered too late to rank reporters fairly: ask why


class StaffTipForm(ReportForm):
    """A tip taken by phone, from the mailbox, by letter or in person, typed in by staff: their
    wording (the reporter, not "you"), when it really arrived and where to find the original."""

    channel = forms.ChoiceField(
        label=_("How the tip arrived"),
        choices=[
            (c.value, c.label)
            for c in (Channel.PHONE, Channel.MAILBOX, Channel.LETTER, Channel.WALK_IN)
        ],
    )
    received_at = forms.DateTimeField(
        label=_("Received on (date and time)"),
        required=False,  # left empty: now
        help_text=_(
            "When the call came in, the letter arrived or the person came: who reported first "
            "depends on it. A letter counts from the day it arrived."
        ),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    channel_reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_(
            "Letter number, the time of the call, the mailbox opening… Never the reporter's "
            "name or number: this field is not encrypted."
        ),
    )

    field_order = ["channel", "received_at", "channel_reference"]
    single_line_fields = (*ReportForm.single_line_fields, "channel_reference")

    def __init__(self, *args, townships=None, **kwargs):
        super().__init__(*args, with_files=True, **kwargs)
        if townships is not None:
            self.fields["township"].queryset = townships
        self.fields["reporter_name"].label = _("Reporter's name")
        self.fields["reporter_phone"].label = _("Reporter's mobile number")
        self.fields["reporter_id_number"].label = _("Reporter's resident ID number")
        self.fields["description"].help_text = _("Who did what, as the reporter told it.")
        if not self.is_bound:
            self.initial.setdefault("received_at", timezone.localtime().replace(second=0))
        self.fields["received_at"].widget.attrs["max"] = timezone.localtime().strftime(
            "%Y-%m-%dT%H:%M"
        )

    def clean_channel_reference(self):
        value = self.cleaned_data.get("channel_reference", "")
        digits = re.sub(r"[\s\-]", "", value)
        # A mobile or ID number typed here would sit in clear where the identity is sealed.
        if re.search(r"1[3-9]\d{9}|\d{17}[\dXx]", digits):
            raise forms.ValidationError(
                _(
                    "This looks like a phone or ID number. Enter the reporter's numbers in the "
                    "reporter fields below, where they are encrypted."
                )
            )
        return value

    def clean_received_at(self):
        now = timezone.now()
        value = self.cleaned_data.get("received_at") or now
        if value > now + timedelta(minutes=5):  # a clock a little ahead is no reason to refuse
            raise forms.ValidationError(_("This time is in the future."))
        if value < now - timedelta(days=MAX_DAYS_LATE):
            raise forms.ValidationError(
                _("A tip is entered within %(days)d days of arriving.") % {"days": MAX_DAYS_LATE}
            )
        return value


class PersonChoiceField(forms.ModelChoiceField):
    """Staff offered by name (张伟), as every page names them, not by their user name."""

    def label_from_instance(self, obj):
        return display_name(obj)


class AssignForm(ExpectedStateForm):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    investigator = PersonChoiceField(
        label=_("Investigator"), queryset=get_user_model().objects.none()
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            self.fields["unit"].queryset = Unit.objects.filter(
                county_id=case.township.county_id
            ).filter(Q(township__isnull=True) | Q(township_id=case.township_id))
            self.fields["investigator"].queryset = staff_for_township(
                case.township, roles.INVESTIGATOR, roles.SUPERVISOR
            ).order_by("last_name", "first_name", "username")


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
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        ),
    }


class StepForm(ExpectedStateForm):
    """The values one step of the case machine asks for (its declaration names them). A missing
    value is an error next to its field, in the step's own words; a step that asks for
    confirmation (decisive, or irreversible) is taken only from its confirmation page, which
    posts ``confirmed``."""

    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, step, **kwargs):
        kwargs.setdefault("auto_id", f"id_{step.name}_%s")  # one form per step on the page
        super().__init__(*args, **kwargs)
        fields = _step_fields()
        for name in step.inputs:
            self.fields[name] = fields[name]
        self.step = step

    def clean(self):
        cleaned = super().clean()
        for name in self.step.inputs:
            value = cleaned.get(name)
            empty = not value.strip() if isinstance(value, str) else value is None
            if empty and name not in self.errors:
                self.add_error(name, str(self.step.missing_inputs))
        return cleaned

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
