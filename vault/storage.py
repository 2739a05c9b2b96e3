"""Encrypted files of sealed rows (evidence, case documents). Never under a public URL; read
only through services. Each file is sealed with its row's data key under the field "content"."""

import os
from pathlib import Path

from django.conf import settings


def path_for(row) -> Path:
    return Path(settings.TIPLINE_ATTACHMENT_DIR) / f"{row.id}.bin"


def write(row, content: bytes) -> Path:
    """Encrypt and write durably; the caller removes the file if its transaction fails."""
    path = path_for(row)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    blob = row.seal("content", content)
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


def read(row) -> bytes:
    return row.unseal("content", path_for(row).read_bytes())
