"""The outbox: events recorded with the change that caused them, and their deliveries.

A foundation like the outbox module: it imports no app above org. Nothing here carries a
reporter's identity, a receipt or a report's content: events hold ids, deliveries hold the
rendered notice (a reference and a link) and, for a reporter, only the id of their report.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """Something people must hear of, written in the same transaction as the change."""

    kind = models.CharField(_("kind"), max_length=60, db_index=True)
    object_type = models.CharField(_("kind of object"), max_length=60, blank=True)  # app.model
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    township = models.ForeignKey(
        "org.Township",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("township"),
    )
    # ids and dates only, never content
    data = models.JSONField(_("details"), default=dict, blank=True)
    # Set when an event must happen once only (a reminder per deadline and stage, a digest
    # per person and day): recording it again is a no-op.
    key = models.CharField(_("once-only key"), max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # Its recipients were worked out and its deliveries written.
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("notification event")
        verbose_name_plural = _("notification events")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind} {self.object_type}:{self.object_id}"


class Delivery(models.Model):
    """One notice to one recipient on one channel; its key makes redelivery a no-op."""

    class Channel(models.TextChoices):
        INBOX = "inbox", _("Inbox")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("Text message")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("No longer needed")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    # "<event>:<recipient>:<channel>": unique, so a task run twice sends nothing twice.
    key = models.CharField(_("once-only key"), max_length=200, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    # For a reporter: the report whose (sealed) mobile number the text goes to. The number is
    # decrypted only while sending, never stored here.
    reporter_of = models.CharField(_("reporter of report"), max_length=36, blank=True)
    channel = models.CharField(_("notification channel"), max_length=10, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    link = models.CharField(_("link"), max_length=300, blank=True)  # a path on this site
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # A sender holds the delivery until then; a sender that died loses it after that.
    claimed_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # The task the notice asked for was done (by anyone): the inbox shows it settled, not unread.
    done_at = models.DateTimeField(_("task done"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "channel", "read_at"], name="inbox_unread"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]
        permissions = [("retry_delivery", "Can retry failed notifications")]

    def __str__(self):
        return f"{self.event.kind} → {self.recipient_id or 'reporter'} ({self.channel})"


class Preferences(models.Model):
    """A staff member's channels per kind of event (the inbox is always on)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    # {kind: ["email", "sms"]}; a kind not listed uses the kind's default channels.
    channels = models.JSONField(_("channels per kind of event"), default=dict, blank=True)
    mobile = models.CharField(_("work mobile number"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return f"preferences of {self.user_id}"
