"""Backup codes for the second factor, stored hashed.

django-otp's static tokens are stored in plain text; these keep only an HMAC of each code, keyed
with the key ring's backup-code key (outside the database, unaffected by DJANGO_SECRET_KEY).
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device

from vault.keyring import get_keyring

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i


PREFIX = "k1$"  # digests under the key ring's backup-code key; bare hex: the old SECRET_KEY


def _normal(code: str) -> bytes:
    return code.strip().lower().replace(" ", "").replace("-", "").encode()


def _digest(code: str) -> str:
    key = get_keyring().backup_code_key
    return PREFIX + hmac.new(key, _normal(code), hashlib.sha256).hexdigest()


def _legacy_digest(code: str) -> str:
    """Codes issued before the ring had a backup-code key were keyed with DJANGO_SECRET_KEY;
    they stay verifiable (each works once) until they are used or replaced."""
    return hmac.new(settings.SECRET_KEY.encode(), _normal(code), hashlib.sha256).hexdigest()


class BackupCodeDevice(Device):
    class Meta:
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def generate(self, count: int = 10) -> list[str]:
        """Replace all codes; return the new ones (shown once)."""
        codes = ["".join(secrets.choice(ALPHABET) for _ in range(10)) for _ in range(count)]
        self.codes.all().delete()
        BackupCode.objects.bulk_create(BackupCode(device=self, digest=_digest(c)) for c in codes)
        return [f"{c[:5]}-{c[5:]}" for c in codes]

    def verify_token(self, token) -> bool:
        if not isinstance(token, str) or len(token) > 20:
            return False
        match = self.codes.filter(digest__in=[_digest(token), _legacy_digest(token)]).first()
        if match is None:
            return False
        match.delete()  # each code works once
        return True


class BackupCode(models.Model):
    device = models.ForeignKey(
        BackupCodeDevice, on_delete=models.CASCADE, related_name="codes", verbose_name=_("device")
    )
    digest = models.CharField(_("keyed hash of the code"), max_length=80)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")

    def __str__(self):
        return f"backup code of device {self.device_id}"
