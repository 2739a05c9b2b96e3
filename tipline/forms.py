"""Report and follow-up forms. The API feeds its JSON through the same form."""

from datetime import date

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from org.models import Township

from . import receipts, submissions
from .attachments import AttachmentRejected, CleanFile, sanitize
from .models import Category
from .services import ReportInput
from .text import clean_text
from .uploads import REQUEST_TOO_LARGE
from .validators import normalise_any_phone, normalise_id_number, normalise_mobile


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Several files; each sniffed, size-capped and stripped of identifying metadata.

    With ``deferred=True`` the field only makes the cheap checks (count, sizes) and leaves the
    decoding to the form's ``clean``, which runs it once every other field is valid
    (``EvidenceFormMixin``): an invalid report costs no image decoding.
    """

    widget = MultipleFileInput(
        attrs={"accept": "image/jpeg,image/png,application/pdf,audio/*,video/mp4"}
    )

    def __init__(self, *args, deferred: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.deferred = deferred

    def clean(self, data, initial=None):
        uploads = [f for f in (data or []) if f]
        if len(uploads) > settings.TIPLINE_ATTACHMENT_MAX_COUNT:
            raise ValidationError(
                _("You can attach at most %(count)d files.")
                % {"count": settings.TIPLINE_ATTACHMENT_MAX_COUNT}
            )
        total_limit = settings.TIPLINE_UPLOAD_MAX_BYTES
        if any(getattr(u, "refused", None) == REQUEST_TOO_LARGE for u in uploads) or (
            sum(u.size for u in uploads) > total_limit
        ):
            raise ValidationError(
                _("The files together can be at most %(mb)d MB.")
                % {"mb": total_limit // (1024 * 1024)}
            )
        limit = settings.TIPLINE_ATTACHMENT_MAX_BYTES
        for upload in uploads:
            if upload.size > limit or getattr(upload, "refused", None):
                raise ValidationError(
                    _("Each file can be at most %(mb)d MB.") % {"mb": limit // (1024 * 1024)}
                )
        return uploads if self.deferred else sanitize_uploads(uploads)


def sanitize_uploads(uploads) -> list[CleanFile]:
    """Decode, check and clean each file, one at a time (one decoded image in memory at once)."""
    cleaned: list[CleanFile] = []
    for upload in uploads:
        try:
            cleaned.append(
                sanitize(
                    upload.read(),
                    max_bytes=settings.TIPLINE_ATTACHMENT_MAX_BYTES,
                    strip_metadata=settings.TIPLINE_STRIP_METADATA,
                )
            )
        except AttachmentRejected as exc:
            raise ValidationError(gettext(exc.template) % (exc.params or {})) from None
    return cleaned


class EvidenceFormMixin:
    """Cleans deferred evidence fields last, and only when every other field is valid."""

    def clean(self):
        cleaned_data = super().clean()
        for name, field in self.fields.items():
            if not (isinstance(field, EvidenceField) and field.deferred):
                continue
            if name not in cleaned_data:
                continue
            if self.errors:
                cleaned_data.pop(name)  # never handed on undecoded
                continue
            try:
                cleaned_data[name] = sanitize_uploads(cleaned_data[name])
            except ValidationError as exc:
                self.add_error(name, exc)
        return cleaned_data


EARLIEST_DATE = date(1900, 1, 1)


class SubmissionMixin:
    """A one-time token in a hidden field (tipline.submissions): an unbound form gets a fresh
    one, a bound form posts its own back, so the same form posted twice files once."""

    def _add_submission_field(self):
        self.fields[submissions.FIELD] = forms.CharField(
            required=False, max_length=100, widget=forms.HiddenInput
        )
        if not self.is_bound:
            self.initial.setdefault(submissions.FIELD, submissions.new_token())

    def submission(self) -> str | None:
        """The posted token when well formed (read before validation: a spent one is
        answered at once, without decoding any file)."""
        return submissions.valid(self.data.get(submissions.FIELD))


class FreeTextMixin:
    """Free-text fields lose invisible and direction-changing characters (see tipline.text),
    and are then checked again: what is left must still be long enough."""

    multiline_fields: tuple[str, ...] = ()
    single_line_fields: tuple[str, ...] = ()

    def _clean_free_text(self, name: str) -> str:
        field = self.fields[name]
        value = clean_text(
            self.cleaned_data.get(name) or "", multiline=name in self.multiline_fields
        )
        if field.required and not value:
            raise ValidationError(field.error_messages["required"], code="required")
        if value:
            field.run_validators(value)
        return value

    def clean(self):
        cleaned_data = super().clean()
        for name in (*self.multiline_fields, *self.single_line_fields):
            if name in cleaned_data:
                try:
                    cleaned_data[name] = self._clean_free_text(name)
                except ValidationError as exc:
                    del cleaned_data[name]
                    self.add_error(name, exc)
        return cleaned_data


class ReportForm(SubmissionMixin, EvidenceFormMixin, FreeTextMixin, forms.Form):
    multiline_fields = ("description",)
    single_line_fields = ("subject_name", "subject_address", "reporter_name")

    category = forms.ChoiceField(
        label=_("What kind of violation"),
        choices=[("", _("Choose the kind of violation")), *Category.choices],
    )
    township = forms.ModelChoiceField(
        label=_("Township where it happened"),
        queryset=Township.objects.filter(active=True),
        to_field_name="code",
        empty_label=_("Choose a township"),
    )
    description = forms.CharField(
        label=_("What happened"),
        max_length=5000,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Who did what, and how you know. Please do not write your own name here."),
    )
    occurred_on = forms.DateField(
        label=_("When it happened"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    subject_name = forms.CharField(
        label=_("Name of the person, clinic or shop"), max_length=100, required=False
    )
    subject_address = forms.CharField(label=_("Where (address)"), max_length=300, required=False)
    subject_phone = forms.CharField(label=_("Their phone number"), max_length=40, required=False)
    reporter_name = forms.CharField(label=_("Your name"), max_length=50, required=False)
    reporter_phone = forms.CharField(label=_("Your mobile number"), max_length=30, required=False)
    reporter_id_number = forms.CharField(
        label=_("Your resident ID number"), max_length=30, required=False
    )
    news_by_sms = forms.BooleanField(
        label=_("Text me when there is news about my report"),
        required=False,
        help_text=_(
            "The message only says that there is news, never what: read it here with your receipt."
        ),
    )
    # Honeypot: hidden from people by CSS, filled in by naive bots.
    homepage = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, with_files: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_submission_field()
        self.fields["occurred_on"].widget.attrs.update(
            {"min": EARLIEST_DATE.isoformat(), "max": timezone.localdate().isoformat()}
        )
        if with_files:
            self.fields["evidence"] = EvidenceField(
                label=_("Evidence (photos, documents, recordings)"), required=False, deferred=True
            )

    def clean_occurred_on(self):
        value = self.cleaned_data.get("occurred_on")
        if value and value > timezone.localdate():
            raise ValidationError(_("This date is in the future."))
        if value and value < EARLIEST_DATE:
            raise ValidationError(_("Please give a date from 1900 on."))
        return value

    def clean_subject_phone(self):
        value = self.cleaned_data.get("subject_phone", "").strip()
        return normalise_any_phone(value) if value else ""

    def clean_reporter_phone(self):
        value = self.cleaned_data.get("reporter_phone", "").strip()
        return normalise_mobile(value) if value else ""

    def clean_reporter_id_number(self):
        value = self.cleaned_data.get("reporter_id_number", "").strip()
        return normalise_id_number(value) if value else ""

    def clean(self):
        cleaned = super().clean()
        wants_texts = cleaned.get("news_by_sms") and not cleaned.get("reporter_phone")
        if wants_texts and "reporter_phone" not in self.errors:
            self.add_error(
                "news_by_sms", _("Give your mobile number above to receive text messages.")
            )
        return cleaned

    def clean_homepage(self):
        if self.cleaned_data.get("homepage"):
            raise ValidationError(_("Your report could not be accepted. Please try again."))
        return ""

    def to_input(self) -> ReportInput:
        d = self.cleaned_data
        return ReportInput(
            category=d["category"],
            township_id=d["township"].id,
            description=d["description"].strip(),
            occurred_on=d.get("occurred_on"),
            subject_name=d.get("subject_name", "").strip(),
            subject_address=d.get("subject_address", "").strip(),
            subject_phone=d.get("subject_phone", ""),
            reporter_name=d.get("reporter_name", "").strip(),
            reporter_phone=d.get("reporter_phone", ""),
            reporter_id_number=d.get("reporter_id_number", ""),
            news_by_sms=bool(d.get("news_by_sms")),
        )


class ReceiptField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Receipt number"))
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        digits = receipts.normalise(value)
        if digits is None:
            raise ValidationError(
                _("A receipt number has %(n)d digits, as printed on your receipt.")
                % {"n": settings.TIPLINE_RECEIPT_DIGITS}
            )
        return digits


class ReceiptForm(forms.Form):
    receipt = ReceiptField(
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "autocapitalize": "off"}
        )
    )


class FollowUpForm(SubmissionMixin, EvidenceFormMixin, FreeTextMixin, forms.Form):
    multiline_fields = ("body",)

    receipt = ReceiptField(widget=forms.HiddenInput)
    body = forms.CharField(
        label=_("Add information"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    evidence = EvidenceField(label=_("More evidence"), required=False, deferred=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_submission_field()


class VerifyForm(forms.Form):
    """A receipt file to check: uploaded, or its text pasted. Read in memory, never stored."""

    MAX_BYTES = 4096  # a receipt file is well under 1 KB

    file = forms.FileField(label=_("Receipt file"), required=False)
    pasted = forms.CharField(
        label=_("Or paste the text of the receipt file"),
        required=False,
        max_length=MAX_BYTES,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            return None
        if upload.size > self.MAX_BYTES or getattr(upload, "refused", None):
            raise ValidationError(_("This is not a receipt file: it is too large."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("This is not a receipt file: it is not text.")) from None

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not (cleaned.get("file") or cleaned.get("pasted", "").strip()):
            raise ValidationError(_("Choose the receipt file, or paste its text."))
        return cleaned

    def receipt_text(self) -> str:
        return self.cleaned_data.get("file") or self.cleaned_data.get("pasted", "")
