"""Assessment forms. Rules stay in the services; these only parse input."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tipline.forms import EvidenceField

from ..repeat_reasons import NotRepeatReason
from . import sheet
from .inspections import ItemInput


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


class RoundForm(forms.Form):
    """An inspector's points for one township in one round: for each entered item, its points
    (empty: leave as it is), a short note and optional inspection records."""

    def __init__(self, *args, items=(), current=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = current or {}
        self.items = [i for i in items if i.scoring not in sheet.AUTOMATIC]
        for item in self.items:
            entry = current.get(item.code)
            self.fields[f"points_{item.code}"] = forms.DecimalField(
                label=item.title,
                required=False,
                min_value=0,
                max_value=item.max,
                decimal_places=2,
                initial=None if entry is None else entry.points,
            )
            self.fields[f"note_{item.code}"] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=500,
                initial="" if entry is None else entry.note,
            )
            self.fields[f"files_{item.code}"] = EvidenceField(
                label=_("Inspection records"), required=False
            )

    def values(self) -> dict:
        """Item code → ItemInput of the items whose points were filled in."""
        out = {}
        for item in self.items:
            points = self.cleaned_data.get(f"points_{item.code}")
            if points is None:
                continue
            out[item.code] = ItemInput(
                points,
                self.cleaned_data.get(f"note_{item.code}", ""),
                list(self.cleaned_data.get(f"files_{item.code}") or []),
            )
        return out

    def rows(self):
        """(section, item, points field, note field, files field) in the template's order."""
        return [
            (
                item.section,
                item,
                self[f"points_{item.code}"],
                self[f"note_{item.code}"],
                self[f"files_{item.code}"],
            )
            for item in self.items
        ]


class AdjustmentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Bonus, deduction or finding"),
        choices=[("", "—")]
        + [(k.code, f"{k.rule} {k.label} ({k.points:+})") for k in sheet.KINDS.values()],
    )
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    files = EvidenceField(label=_("Notice, commendation or record (PDF, JPEG, PNG)"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_adjustment_%s")
        super().__init__(*args, **kwargs)


class TemplateForm(forms.Form):
    """The county's sheet items of a year: each item's rule, maximum and how it is scored."""

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        entered = [
            (sheet.LATEST, _("Entered: the latest round counts")),
            (sheet.ROUNDS, _("Entered: the rounds add up (per quarter)")),
        ]
        for item in self.items:
            automatic = item.scoring in sheet.AUTOMATIC
            self.fields[f"title_{item.code}"] = forms.CharField(
                label=_("Rule"), max_length=300, initial=item.title
            )
            self.fields[f"max_{item.code}"] = forms.DecimalField(
                label=_("Maximum"),
                min_value=0,
                max_value=1000,
                decimal_places=2,
                initial=item.max,
                disabled=automatic,
            )
            self.fields[f"scoring_{item.code}"] = forms.ChoiceField(
                label=_("How it is scored"),
                choices=[(item.scoring, _("Computed by the system"))] if automatic else entered,
                initial=item.scoring,
                disabled=automatic,
            )

    def changes(self) -> dict:
        return {
            item.code: (
                self.cleaned_data[f"title_{item.code}"],
                self.cleaned_data[f"max_{item.code}"],
                self.cleaned_data[f"scoring_{item.code}"],
            )
            for item in self.items
        }

    def rows(self):
        return [
            (
                item,
                self[f"title_{item.code}"],
                self[f"max_{item.code}"],
                self[f"scoring_{item.code}"],
            )
            for item in self.items
        ]
