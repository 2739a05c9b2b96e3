"""Append-only, hash-chained audit log."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLogIsAppendOnly(Exception):
    pass


class AuditQuerySet(models.QuerySet):
    def delete(self):
        raise AuditLogIsAppendOnly("audit entries cannot be deleted")

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit entries cannot be changed")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("person"),
    )
    # dotted, e.g. case.transition
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("kind of object"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=64, db_index=True)
    data = models.JSONField(_("details"), default=dict, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(_("hash of the previous entry"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["id"]
        default_permissions = ("view",)

    def __str__(self):
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditLogIsAppendOnly("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit entries cannot be deleted")


class AuditHead(models.Model):
    """One row: the hash and count of the chain's last entry; locked while appending."""

    last_hash = models.CharField(_("hash of the last entry"), max_length=64, default="0" * 64)
    count = models.PositiveBigIntegerField(_("entries"), default=0)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")

    def __str__(self):
        return f"audit head #{self.count}"
