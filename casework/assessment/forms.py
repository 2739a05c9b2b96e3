"""Assessment forms. Rules stay in the services; these only parse input."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tipline.forms import EvidenceField

from ..repeat_reasons import NotRepeatReason


class FalsifyForm(forms.Form):
    reason = forms.CharField(
        label=_("What the verification (查实) found"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    title = forms.CharField(label=_("Title of the supporting document"), max_length=200)
    file = EvidenceField(label=_("Supporting document (PDF, JPEG, PNG)"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_falsify_%s")
        super().__init__(*args, **kwargs)

    def clean_file(self):
        files = self.cleaned_data["file"]
        if len(files) != 1:
            raise forms.ValidationError(_("Choose one file."))
        return files[0]


class QuotaForm(forms.Form):
    """One quota field per township of the county, named by the township's id."""

    def __init__(self, *args, townships=(), quotas=None, **kwargs):
        super().__init__(*args, **kwargs)
        quotas = quotas or {}
        self.townships = list(townships)
        for township in self.townships:
            self.fields[f"quota_{township.pk}"] = forms.IntegerField(
                label=township.name,
                min_value=0,
                max_value=100_000,
                required=False,
                initial=quotas.get(township.pk),
            )

    def quotas(self) -> dict[int, int]:
        """The townships whose quota was filled in (an empty field leaves the quota unset)."""
        out = {}
        for township in self.townships:
            value = self.cleaned_data.get(f"quota_{township.pk}")
            if value is not None:
                out[township.pk] = value
        return out

    def rows(self):
        return [(t, self[f"quota_{t.pk}"]) for t in self.townships]


class FreezeForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100, widget=forms.HiddenInput)


class RepeatReasonForm(forms.Form):
    """Why a report the system suggests as a repeat gets a new case (checked by the service
    only when there is a suggestion, so the fields are optional here)."""

    repeat_reason = forms.ChoiceField(
        label=_("Why it is not a repeat"),
        required=False,
        choices=[("", _("Choose a reason")), *NotRepeatReason.choices],
    )
    repeat_note = forms.CharField(
        label=_("In a few words"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
