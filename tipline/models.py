"""Reports as filed, the sealed reporter identity, follow-up messages and attachments."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from vault.models import Sealed


class Category(models.TextChoices):
    SEX_DETERMINATION = "sex_determination", _("Non-medical fetal sex determination")
    SEX_SELECTIVE_ABORTION = "sex_selective_abortion", _("Non-medical sex-selective abortion")
    ABORTION_DRUG_SALE = "abortion_drug_sale", _("Illegal sale of abortion drugs")
    ILLEGAL_PRACTICE = "illegal_practice", _("Illegal medical practice or ultrasound")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    API = "api", _("API")
    PHONE = "phone", _("Reporting phone")
    MAILBOX = "mailbox", _("Reporting mailbox")
    LETTER = "letter", _("Letter")
    WALK_IN = "walk_in", _("Walk-in")


class RejectionReason(models.TextChoices):
    NO_FACTS = "no_facts", _("No concrete target or facts")
    OUT_OF_SCOPE = "out_of_scope", _("Outside this scheme (forwarded to the competent body)")
    ALREADY_HANDLED = "already_handled", _("Already handled, no new facts")


class Report(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, awaiting review")
        ACCEPTED = "accepted", _("Accepted, being handled")
        REJECTED = "rejected", _("Not accepted")
        CLOSED = "closed", _("Handling finished")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Argon2id of the receipt with a pepper from the key ring: looked up, never reversed.
    receipt_hash = models.CharField(max_length=64, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    # Letter number, time of the call…: how staff find the original of a tip they entered.
    channel_reference = models.CharField(_("channel reference"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=40, choices=Category.choices)
    township = models.ForeignKey(
        "org.Township", on_delete=models.PROTECT, related_name="reports", verbose_name=_("township")
    )
    description = models.TextField(_("what happened"))
    occurred_on = models.DateField(_("when it happened"), null=True, blank=True)
    subject_name = models.CharField(_("name of the person or business"), max_length=100, blank=True)
    subject_address = models.CharField(_("address"), max_length=300, blank=True)
    subject_phone = models.CharField(_("their phone"), max_length=40, blank=True)
    subject_phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    # Triage (casework): decide acceptance by this date; the case this report was accepted into.
    acceptance_due = models.DateField(_("decide acceptance by"), null=True, blank=True)
    case = models.ForeignKey(
        "casework.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("case"),
    )
    # The first accepted report wins.
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    rejection_reason = models.CharField(
        _("reason"), max_length=20, choices=RejectionReason.choices, blank=True
    )
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    triaged_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["township", "status", "received_at"]),
            # The triage queue: a township's reports of one status, by acceptance deadline.
            models.Index(
                fields=["township", "status", "acceptance_due", "received_at"],
                name="report_triage_queue_idx",
            ),
            # The same queue for a province-wide user, who has no township to start from.
            models.Index(
                fields=["status", "acceptance_due", "received_at"],
                name="report_status_queue_idx",
            ),
            # A township's reports, every status, newest first: the queue's "all" list and its
            # word search for one township (casework.word_search walks it).
            models.Index(fields=["township", "received_at"], name="report_township_received_idx"),
            # Staff search by the reference they recorded for a tip (call log, letter number).
            # The report text's trigram index exists on PostgreSQL only (migration 0006).
            models.Index(fields=["channel_reference"], name="report_channel_ref_idx"),
        ]

    def __str__(self):
        return f"{self.get_category_display()} · {self.township} · {self.received_at:%Y-%m-%d}"

    @property
    def reference(self) -> str:
        """How staff pages and the audit log name a report: township and local time received."""
        return _("%(township)s, received %(at)s") % {
            "township": self.township.name,
            "at": timezone.localtime(self.received_at).strftime("%Y-%m-%d %H:%M"),
        }

    @property
    def open_to_reporter(self) -> bool:
        """Whether what the reporter adds is still read (not rejected, not archived)."""
        return self.status in (self.Status.RECEIVED, self.Status.ACCEPTED)


class ReporterIdentity(Sealed):
    """Who reported: every field sealed; equality look-ups through blind indexes only."""

    report = models.OneToOneField(
        Report, on_delete=models.CASCADE, related_name="identity", verbose_name=_("report")
    )
    name_sealed = models.BinaryField(null=True, editable=False)
    phone_sealed = models.BinaryField(null=True, editable=False)
    id_number_sealed = models.BinaryField(null=True, editable=False)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # The reporter asked for a text message when there is news (it says only that, never what).
    news_by_sms = models.BooleanField(_("text when there is news"), default=False, editable=False)

    SEALED_FIELDS = ("name", "phone", "id_number")
    BLIND_INDEXES = ("phone_index", "id_number_index")

    class Meta:
        verbose_name = _("reporter identity")
        verbose_name_plural = _("reporter identities")

    def __str__(self):
        return f"identity of report {self.report_id}"  # never the identity itself

    @sensitive_variables()
    def set_values(self, **values: str) -> None:
        for field in self.SEALED_FIELDS:
            value = values.get(field) or ""
            setattr(self, f"{field}_sealed", self.seal(field, value.encode()) if value else None)

    @sensitive_variables()
    def reveal(self) -> dict[str, str]:
        """Decrypt. Callers outside tests must go through the audited identity-access service."""
        out = {}
        for field in self.SEALED_FIELDS:
            blob = getattr(self, f"{field}_sealed")
            out[field] = self.unseal(field, blob).decode() if blob else ""
        return out


class ReportMessage(models.Model):
    class Author(models.TextChoices):
        REPORTER = "reporter", _("Reporter")
        STAFF = "staff", _("Staff")

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="messages", verbose_name=_("report")
    )
    author = models.CharField(_("written by"), max_length=10, choices=Author.choices)
    body = models.TextField(_("message"))
    visible_to_reporter = models.BooleanField(_("shown to the reporter"), default=True)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("message about a report")
        verbose_name_plural = _("messages about reports")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.author} message on {self.report_id}"


class Attachment(Sealed):
    """Evidence file, stored encrypted outside the database; the original file name is not kept."""

    HAS_FILE = True

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("report")
    )
    message = models.ForeignKey(
        ReportMessage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
        verbose_name=_("message"),
    )
    mime = models.CharField(_("content type"), max_length=60)
    extension = models.CharField(_("file extension"), max_length=10)
    kind = models.CharField(_("kind"), max_length=10)
    size = models.PositiveIntegerField(_("size (bytes)"))
    created_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.kind} {self.id}"


class SubmissionToken(models.Model):
    """A spent one-time token of a public form: the same form posted twice (a reload, a double
    tap, a flaky network) files once. Only a hash of the token is kept, with the time it was
    spent, never a link to what it filed."""

    digest = models.CharField(_("SHA-256 of the token"), max_length=64, unique=True, editable=False)
    used_at = models.DateTimeField(_("spent"), default=timezone.now, db_index=True, editable=False)

    class Meta:
        verbose_name = _("spent form token")
        verbose_name_plural = _("spent form tokens")

    def __str__(self):
        return f"form token spent {self.used_at:%Y-%m-%d %H:%M}"
