"""Reward forms: the reporter's claim (public) and the staff actions. Rules stay in services."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tipline.forms import ReceiptField, SubmissionMixin

from .. import finding
from . import claims, eligibility
from .states import Method, RewardState


class ClaimForm(SubmissionMixin, forms.Form):
    """The claim, or a change of it. A one-time token (the form posted again changes nothing)
    and ``replaces``: the claim a change form was shown for (empty for a first claim)."""

    receipt = ReceiptField(widget=forms.HiddenInput)
    replaces = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    method = forms.ChoiceField(
        label=_("How do you want to receive it?"),
        choices=[
            (Method.BANK, _("Bank transfer to an account in my own name")),
            (Method.IN_PERSON, _("In person at the finance office, with a claim code")),
        ],
        widget=forms.RadioSelect,
    )
    payee_name = forms.CharField(
        label=_("Account holder's name"),
        max_length=50,
        required=False,
        help_text=_("If you gave your name with the report, it must be that name."),
    )
    bank_name = forms.CharField(label=_("Bank and branch"), max_length=100, required=False)
    account_number = forms.CharField(
        label=_("Account or card number"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    confirm_check_digit = forms.BooleanField(
        label=_("I have compared the number with my card: it is correct."), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_submission_field()

    def clean(self):
        data = super().clean()
        if data.get("method") != Method.BANK:
            return data
        for name, message in (
            ("payee_name", _("Enter the name of the account holder.")),
            ("bank_name", _("Enter the bank and branch of the account.")),
        ):
            if not (data.get(name) or "").strip():
                self.add_error(name, message)
        raw = data.get("account_number") or ""
        digits = claims.account_digits(raw)
        if digits is None:
            self.add_error(
                "account_number", _("An account number has 12 to 30 digits (spaces are fine).")
            )
        elif claims.needs_luhn_warning(digits) and not data.get("confirm_check_digit"):
            self.luhn_warning = True
            self.add_error(
                "account_number",
                _(
                    "This card number's check digit does not match: please compare it with "
                    "your card. If it is correct, tick the box below to confirm it."
                ),
            )
        return data


class ApproveForm(forms.Form):
    otp_code = forms.CharField(
        label=_("Current code from your authenticator app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class StepUpForm(ApproveForm):
    pass


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PayForm(forms.Form):
    voucher_number = forms.CharField(label=_("Payment voucher number"), max_length=60)
    paid_on = forms.DateField(
        label=_("Paid on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=None,
    )
    claim_code = forms.CharField(
        label=_("The reporter's claim code"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, in_person=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()
        self.in_person = in_person
        if not in_person:
            del self.fields["claim_code"]
        else:
            self.fields["claim_code"].required = True


class MarksForm(forms.Form):
    reporter_is_staff = forms.BooleanField(
        label=_("The reporter is staff of the investigating units"), required=False
    )
    reporter_is_involved = forms.BooleanField(
        label=_("The reporter is an involved party"), required=False
    )
    falsified = forms.BooleanField(label=_("The report was found falsified"), required=False)
    receipt_issued = forms.BooleanField(
        label=_("The receipt was handed to the reporter"), required=False
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, report, **kwargs):
        super().__init__(*args, **kwargs)
        if not eligibility.receipt_handed_by_staff(report):
            del self.fields["receipt_issued"]  # the site showed an online report's receipt


class LedgerForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)


class RewardSearchForm(finding.ScopedSearchForm):
    """The rewards list's search: state, case number and township (among the user's own)."""

    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All")), *RewardState.choices]
    )
    field_order = ["state", "number", "township"]

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["number"].label = _("Case number")
        self.fields["number"].help_text = _("The whole case number (township code-year-number).")

    def apply(self, rewards):
        if state := self.cleaned_data["state"]:
            rewards = rewards.filter(state=state)
        if number := self.cleaned_data["number"]:
            rewards = rewards.filter(case__number=number.upper())
        return self.in_township(rewards)
