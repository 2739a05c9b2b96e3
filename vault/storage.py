"""Encrypted files of sealed rows (evidence, case documents). Never under a public URL; read
only through services. Each file is sealed with its row's data key under the field "content".

The files go through Django's storage API, the storage named ``vault`` in ``settings.STORAGES``:
the local filesystem under TIPLINE_ATTACHMENT_DIR (the default, one host), or S3-compatible
object storage when TIPLINE_FILE_STORAGE=s3 (several hosts: vault.s3). Either way only ciphertext
leaves the process, and a file's name is its row's random id (``<uuid>.bin``): nothing personal.
"""

import errno
import logging
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages

log = logging.getLogger(__name__)

ALIAS = "vault"
SUFFIX = ".bin"


class StorageUnavailable(OSError):
    """The file storage did not answer or refused (object storage down, credentials wrong):
    nothing was written. Not a full disk, which keeps its own errno (ENOSPC)."""

    def __init__(self, message: str):
        super().__init__(errno.EIO, message)


def files():
    """The configured storage of encrypted files (settings.STORAGES["vault"])."""
    return storages[ALIAS]


def name_for(row) -> str:
    return f"{row.id}{SUFFIX}"


def path_for(row) -> Path:
    """Where the local storage keeps the row's file (the local storage only)."""
    return Path(settings.TIPLINE_ATTACHMENT_DIR) / name_for(row)


class StoredFile:
    """A file just written, for a caller to remove again if its transaction does not commit."""

    def __init__(self, name: str):
        self.name = name

    def unlink(self, missing_ok: bool = True) -> None:
        """Remove it, in the clean-up after a failure: a storage that fails here too (the bucket
        went away) is logged, never raised over the failure being cleaned up. What is left is
        ciphertext that no row refers to."""
        try:
            remove(self.name)
        except Exception as exc:
            log.warning(
                "encrypted file not removed", extra={"file": self.name, "error": type(exc).__name__}
            )

    def __repr__(self) -> str:
        return f"StoredFile({self.name!r})"


def write(row, content: bytes) -> StoredFile:
    """Encrypt and store durably; the caller removes the file if its transaction fails."""
    name = name_for(row)
    saved = files().save(name, ContentFile(row.seal("content", content), name=name))
    return StoredFile(saved)


def read(row) -> bytes:
    """The row's file, decrypted. FileNotFoundError when it is not stored."""
    return row.unseal("content", read_sealed(name_for(row)))


def read_sealed(name: str) -> bytes:
    """The stored ciphertext as it is (backups, checks): never decrypted here."""
    with files().open(name, "rb") as fh:
        return fh.read()


def exists(row) -> bool:
    return files().exists(name_for(row))


def delete(row) -> None:
    """Remove the row's file (after the row is deleted or shredded); a missing one is fine."""
    remove(name_for(row))


def remove(name: str) -> None:
    files().delete(name)


def names() -> list[str]:
    """Every stored file's name (backups, checks)."""
    storage = files()
    if hasattr(storage, "all_names"):
        return storage.all_names()
    _dirs, found = storage.listdir("")
    return sorted(n for n in found if n.endswith(SUFFIX))


def check() -> str:
    """For /healthz?deep=1: the storage can take files ("ok: …"); raises when it cannot."""
    return files().check()


class LocalFileStorage(FileSystemStorage):
    """Files under TIPLINE_ATTACHMENT_DIR (read at each call, so tests may point it elsewhere),
    owner-only, written to a temporary name, flushed to disk and then renamed into place: a file
    is whole or absent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(**kwargs)

    @property
    def base_location(self):
        return str(settings.TIPLINE_ATTACHMENT_DIR)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def get_available_name(self, name, max_length=None):
        return name  # a row's file has its row's name; written again, it is replaced

    def _save(self, name, content):
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in content.chunks():
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return name

    def delete(self, name):
        Path(self.path(name)).unlink(missing_ok=True)

    def all_names(self) -> list[str]:
        root = Path(self.location)
        if not root.exists():
            return []
        return sorted(p.name for p in root.iterdir() if p.is_file() and p.suffix == SUFFIX)

    def check(self) -> str:
        """Free space where the encrypted files are written: below the threshold a full disk
        is near, and reports with evidence would be refused."""
        directory = Path(self.location)
        while not directory.exists() and directory != directory.parent:
            directory = directory.parent  # not created yet: the disk it will be created on
        free_mb = shutil.disk_usage(directory).free // (1024 * 1024)
        minimum = settings.TIPLINE_ATTACHMENT_MIN_FREE_MB
        if free_mb < minimum:
            raise RuntimeError(f"{free_mb} MB free, below TIPLINE_ATTACHMENT_MIN_FREE_MB={minimum}")
        return f"ok: local, {free_mb} MB free"
