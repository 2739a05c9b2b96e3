"""Encrypted attachment files on disk. Never under a public URL; read only through services."""

import os
from pathlib import Path

from django.conf import settings

from .models import Attachment


def path_for(attachment: Attachment) -> Path:
    return Path(settings.TIPLINE_ATTACHMENT_DIR) / f"{attachment.id}.bin"


def write(attachment: Attachment, content: bytes) -> Path:
    """Encrypt and write durably; the caller removes the file if its transaction fails."""
    path = path_for(attachment)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    blob = attachment.seal("content", content)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read(attachment: Attachment) -> bytes:
    return attachment.unseal("content", path_for(attachment).read_bytes())
