from django import forms
from django.utils.translation import gettext_lazy as _

from tipline.validators import normalise_mobile

from . import outbox


class PreferencesForm(forms.Form):
    """One checkbox per kind and channel (e-mail, text); the inbox is always on."""

    mobile = forms.CharField(
        label=_("Work mobile number (for text messages)"), max_length=30, required=False
    )

    def __init__(self, *args, chosen: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for kind in outbox.staff_kinds():
            cells = []
            for channel in (outbox.EMAIL, outbox.SMS):
                name = f"{kind.name}:{channel}"
                self.fields[name] = forms.BooleanField(
                    required=False, initial=channel in chosen.get(kind.name, ())
                )
                cells.append(name)
            self.rows.append((kind, [self[name] for name in cells]))

    def clean_mobile(self):
        value = self.cleaned_data.get("mobile", "").strip()
        return normalise_mobile(value) if value else ""

    def clean(self):
        cleaned = super().clean()
        texts = any(v for k, v in cleaned.items() if k.endswith(f":{outbox.SMS}"))
        if texts and not cleaned.get("mobile") and "mobile" not in self.errors:
            self.add_error("mobile", _("Give a mobile number to receive text messages."))
        return cleaned

    def channels(self) -> dict[str, list[str]]:
        out = {}
        for kind in outbox.staff_kinds():
            out[kind.name] = [
                channel
                for channel in (outbox.EMAIL, outbox.SMS)
                if self.cleaned_data.get(f"{kind.name}:{channel}")
            ]
        return out
