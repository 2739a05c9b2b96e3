"""The sealed row: a model whose secrets are encrypted under a data key of its own.

Each row has a random data key, wrapped by a versioned key-encryption key from the key ring
(outside the database). A subclass names its sealed fields (stored as ``<name>_sealed``) and
whether it owns an encrypted file; whole-vault operations (key rotation, verification) find every
subclass through the app registry, so a sealed model added later is covered without changes.
"""

import uuid

from django.apps import apps
from django.db import models

from . import crypto, storage


class Sealed(models.Model):
    """A row with its own data key, wrapped by a versioned key-encryption key."""

    SEALED_FIELDS: tuple[str, ...] = ()  # each stored encrypted in the field "<name>_sealed"
    BLIND_INDEXES: tuple[str, ...] = ()  # equality look-up fields derived from sealed values
    HAS_FILE = False  # content kept encrypted in a file (vault.storage), not in the row
    SHREDDED = 0  # kek_version of a row whose data key was destroyed (real versions start at 1)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kek_version = models.PositiveIntegerField(editable=False)
    wrapped_key = models.BinaryField(editable=False)

    class Meta:
        abstract = True

    def _row(self) -> tuple[str, str]:
        return self._meta.db_table, str(self.id)

    @property
    def is_shredded(self) -> bool:
        return self.kek_version == self.SHREDDED

    def data_key(self) -> bytes:
        if self.is_shredded:
            raise crypto.DecryptionError(f"{self._meta.db_table} {self.id} was shredded")
        if not self.wrapped_key:
            dek, self.kek_version, self.wrapped_key = crypto.new_data_key(*self._row())
            self._dek = dek
        if getattr(self, "_dek", None) is None:
            self._dek = crypto.unwrap_key(self.wrapped_key, *self._row(), self.kek_version)
        return self._dek

    def seal(self, field: str, value: bytes) -> bytes:
        return crypto.encrypt(self.data_key(), value, *self._row(), field)

    def unseal(self, field: str, blob: bytes) -> bytes:
        return crypto.decrypt(self.data_key(), blob, *self._row(), field)

    def shred(self) -> None:
        """Destroy the data key, the sealed values and the blind indexes (crypto-shredding): no
        later backup holds anything that decrypts to them. The row stays, marked shredded;
        the caller saves it (and removes the file of a row that has one)."""
        for name in self.SEALED_FIELDS:
            setattr(self, f"{name}_sealed", None)
        for name in self.BLIND_INDEXES:
            setattr(self, name, "")
        self.wrapped_key, self.kek_version, self._dek = b"", self.SHREDDED, None

    def rewrap(self, ring) -> bool:
        """Re-wrap the data key under the ring's current KEK; the data itself is untouched."""
        if self.is_shredded or self.kek_version == ring.current_kek:
            return False
        dek = crypto.unwrap_key(self.wrapped_key, *self._row(), self.kek_version, ring)
        self.wrapped_key = crypto.wrap_key(dek, *self._row(), ring.current_kek, ring)
        self.kek_version = ring.current_kek
        self._dek = None
        return True

    def open_everything(self) -> int:
        """Decrypt every sealed field and the file, discarding the plaintext; return how many
        ciphertexts were checked. Raises DecryptionError (or FileNotFoundError) on the first
        that does not open. For whole-vault checks, never for showing anything."""
        if self.is_shredded:
            return 0
        checked = 0
        for name in self.SEALED_FIELDS:
            blob = getattr(self, f"{name}_sealed")
            if blob:
                self.unseal(name, blob)
                checked += 1
        if self.HAS_FILE:
            storage.read(self)
            checked += 1
        return checked


def sealed_models() -> list[type[Sealed]]:
    """Every concrete sealed model of every installed app."""
    return [m for m in apps.get_models() if issubclass(m, Sealed) and not m._meta.abstract]
