"""Requests to see a reporter's identity: reason, custodian decision, time limit."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdentityRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    report = models.ForeignKey(
        "tipline.Report",
        on_delete=models.PROTECT,
        related_name="identity_requests",
        verbose_name=_("report"),
    )
    # The report's township, copied when the request is made (a report never changes township):
    # the list and the custodians' count filter on it directly, through its own index.
    township = models.ForeignKey(
        "org.Township",
        on_delete=models.PROTECT,
        related_name="identity_requests",
        verbose_name=_("township"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="identity_requests",
        verbose_name=_("requested by"),
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("custodian's note"), blank=True)
    expires_at = models.DateTimeField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("identity request")
        verbose_name_plural = _("identity requests")
        ordering = ["-requested_at"]
        indexes = [
            models.Index(
                fields=["township", "status", "-requested_at"], name="identity_request_list_idx"
            )
        ]

    def __str__(self):
        return f"identity request {self.pk} ({self.status})"

    def usable_by(self, user, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.APPROVED
            and self.requested_by_id == user.pk
            and self.expires_at is not None
            and now < self.expires_at
        )
