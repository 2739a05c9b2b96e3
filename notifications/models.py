"""Outbox of notifications: one row per (event, object, recipient); redelivery is a no-op."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "e-mail"
        INBOX = "inbox", "in-app"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Subject and body never carry a reporter's identity or the report's content.
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "object_id", "recipient", "channel"],
                name="one_notification_per_event",
            )
        ]

    def __str__(self):
        return f"{self.event} → {self.recipient_id}"
