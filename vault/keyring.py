"""The key ring: secrets held outside the database (a JSON file, mode 0600).

Holds versioned key-encryption keys (KEKs) that wrap per-record data keys, the blind-index key,
the receipt pepper, the rate-limit key, the Ed25519 key that signs receipt files and the key of
staff backup codes. A database
dump without this file reveals nothing.
"""

import base64
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = "tipline-keyring-1"
MISSING = (
    "TIPLINE_KEYS_FILE is required when DJANGO_DEBUG=0 "
    "(create one with: manage.py generate_keys --out PATH)"
)


class KeyRingError(Exception):
    pass


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(value: str, name: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        raise KeyRingError(f"key ring entry {name} is not valid base64") from None
    if len(raw) != size:
        raise KeyRingError(f"key ring entry {name} must be {size} bytes, got {len(raw)}")
    return raw


@dataclass
class KeyRing:
    keks: dict[int, bytes]
    current_kek: int
    blind_index_key: bytes
    receipt_pepper: bytes
    rate_limit_key: bytes
    signing_key: bytes
    # HMAC key for staff backup codes: in the ring, so rotating DJANGO_SECRET_KEY leaves them.
    backup_code_key: bytes = b""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.backup_code_key:
            # Rings written before this key existed: derive it, deterministically, from a key
            # they already hold, so their backup codes keep working without editing the file.
            self.backup_code_key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"tipline backup codes"
            ).derive(self.blind_index_key)

    @classmethod
    def generate(cls) -> "KeyRing":
        return cls(
            keks={1: secrets.token_bytes(32)},
            current_kek=1,
            blind_index_key=secrets.token_bytes(32),
            receipt_pepper=secrets.token_bytes(32),
            rate_limit_key=secrets.token_bytes(32),
            signing_key=secrets.token_bytes(32),
            backup_code_key=secrets.token_bytes(32),
        )

    def kek(self, version: int) -> bytes:
        try:
            return self.keks[version]
        except KeyError:
            raise KeyRingError(
                f"key-encryption key version {version} is not in the key ring"
            ) from None

    def add_kek(self, *, make_current: bool = True) -> int:
        """Add a new KEK version and make it current; old versions stay to unwrap old keys.
        With ``make_current=False`` the key is only staged: every host can open what it will
        wrap once it is made current (``activate``), after the ring went to every host."""
        version = max(self.keks) + 1
        self.keks[version] = secrets.token_bytes(32)
        if make_current:
            self.current_kek = version
        return version

    @property
    def staged(self) -> list[int]:
        """Versions added but not yet used (newer than the current one)."""
        return sorted(v for v in self.keks if v > self.current_kek)

    def activate(self) -> int:
        """Make the newest staged version current."""
        if not self.staged:
            raise KeyRingError("no staged key-encryption key to make current")
        self.current_kek = self.staged[-1]
        return self.current_kek

    @property
    def signing_private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.signing_key)

    def public_key_pem(self) -> str:
        return (
            self.signing_private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "keks": {str(v): _b64(k) for v, k in sorted(self.keks.items())},
                "current_kek": self.current_kek,
                "blind_index_key": _b64(self.blind_index_key),
                "receipt_pepper": _b64(self.receipt_pepper),
                "rate_limit_key": _b64(self.rate_limit_key),
                "signing_key": _b64(self.signing_key),
                "backup_code_key": _b64(self.backup_code_key),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> "KeyRing":
        try:
            data = json.loads(text)
        except ValueError:
            raise KeyRingError("key ring is not valid JSON") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise KeyRingError(f"key ring format must be {FORMAT!r}")
        try:
            keks = {int(v): _unb64(k, f"keks.{v}", 32) for v, k in data["keks"].items()}
            ring = cls(
                keks=keks,
                current_kek=int(data["current_kek"]),
                blind_index_key=_unb64(data["blind_index_key"], "blind_index_key", 32),
                receipt_pepper=_unb64(data["receipt_pepper"], "receipt_pepper", 32),
                rate_limit_key=_unb64(data["rate_limit_key"], "rate_limit_key", 32),
                signing_key=_unb64(data["signing_key"], "signing_key", 32),
                backup_code_key=(
                    _unb64(data["backup_code_key"], "backup_code_key", 32)
                    if "backup_code_key" in data
                    else b""
                ),
            )
        except (KeyError, ValueError, AttributeError) as exc:
            if isinstance(exc, KeyRingError):
                raise
            raise KeyRingError(f"key ring is missing or has a bad entry: {exc}") from None
        ring.kek(ring.current_kek)
        return ring

    def save(self, path: str | Path) -> None:
        """Write atomically with owner-only permissions."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keyring-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(self.to_json())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def load(path: str | Path, *, autocreate: bool = False) -> KeyRing:
    path = Path(path)
    if not path.exists():
        if not autocreate:
            raise KeyRingError(
                f"key ring file {path} (TIPLINE_KEYS_FILE) does not exist; "
                f"create it with: manage.py generate_keys --out {path}"
            )
        KeyRing.generate().save(path)
    return KeyRing.from_json(path.read_text())


@lru_cache(maxsize=4)
def _cached(path: str, autocreate: bool, stamp: tuple) -> KeyRing:
    return load(path, autocreate=autocreate)


def get_keyring() -> KeyRing:
    """The configured key ring, re-read when its file changes, so running web and worker
    processes pick up a new key-encryption key without a restart: after rotate_keys on this
    host, or when an operator installs a new ring copied from another host (written beside the
    old one and renamed over it: deploy/MULTI-HOST.md). One stat() per call; the file's
    modification time, inode and size together say whether it changed."""
    from django.conf import settings

    path = settings.TIPLINE_KEYS_FILE
    if not path:
        raise KeyRingError(MISSING)
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
    except FileNotFoundError:
        stamp = (0, 0, 0)
    return _cached(path, settings.TIPLINE_KEYS_AUTOCREATE, stamp)


def reset_cache() -> None:
    _cached.cache_clear()


def check_at_start_up() -> None:
    """Stop a server or worker at start-up, not at its first report, when the ring is missing
    or broken (development creates one on first use instead)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if settings.TIPLINE_KEYS_AUTOCREATE:
        return
    try:
        get_keyring()
    except KeyRingError as exc:
        raise ImproperlyConfigured(str(exc)) from None
