"""Backup codes for the second factor, stored hashed.

django-otp's static tokens are stored in plain text; these keep only an HMAC of each code.
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django_otp.models import Device

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i


def _digest(code: str) -> str:
    normal = code.strip().lower().replace(" ", "").replace("-", "")
    return hmac.new(settings.SECRET_KEY.encode(), normal.encode(), hashlib.sha256).hexdigest()


class BackupCodeDevice(Device):
    def generate(self, count: int = 10) -> list[str]:
        """Replace all codes; return the new ones (shown once)."""
        codes = ["".join(secrets.choice(ALPHABET) for _ in range(10)) for _ in range(count)]
        self.codes.all().delete()
        BackupCode.objects.bulk_create(BackupCode(device=self, digest=_digest(c)) for c in codes)
        return [f"{c[:5]}-{c[5:]}" for c in codes]

    def verify_token(self, token) -> bool:
        if not isinstance(token, str) or len(token) > 20:
            return False
        match = self.codes.filter(digest=_digest(token)).first()
        if match is None:
            return False
        match.delete()  # each code works once
        return True


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)

    def __str__(self):
        return f"backup code of device {self.device_id}"
