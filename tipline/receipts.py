"""Receipts: random digits shown once; stored only as a peppered Argon2id hash; signed files.

The hash is deterministic (the pepper is the salt) so a receipt can be looked up, but the pepper
lives in the key ring, outside the database, and Argon2id makes guessing expensive.
"""

import base64
import hashlib
import re
import secrets
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from vault.keyring import KeyRing, get_keyring

FILE_HEADER = "TIPLINE RECEIPT v1"
_SEPARATORS = re.compile(r"[\s\-_.]+")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def generate() -> str:
    digits = settings.TIPLINE_RECEIPT_DIGITS
    return "".join(str(secrets.randbelow(10)) for _ in range(digits))


def normalise(text: str) -> str | None:
    """Digits only, or None when it cannot be a receipt."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    # Full-width digits (Chinese input methods) are accepted in their ASCII form; other Unicode
    # digits pass isdigit() too but are no receipt (and would break the ASCII hash input).
    digits = _SEPARATORS.sub("", text).translate(_FULL_WIDTH_DIGITS)
    if not (digits.isascii() and digits.isdigit()):
        return None
    if len(digits) != settings.TIPLINE_RECEIPT_DIGITS:
        return None
    return digits


def grouped(receipt: str) -> str:
    return " ".join(receipt[i : i + 4] for i in range(0, len(receipt), 4))


@sensitive_variables()
def receipt_hash(receipt: str, ring: KeyRing | None = None) -> str:
    ring = ring or get_keyring()
    params = settings.TIPLINE_RECEIPT_ARGON2
    kdf = Argon2id(
        salt=ring.receipt_pepper,
        length=32,
        iterations=params["iterations"],
        lanes=params["lanes"],
        memory_cost=params["memory_cost"],
    )
    return kdf.derive(receipt.encode("ascii")).hex()


def _signed_message(receipt: str, received_at: datetime) -> bytes:
    digest = hashlib.sha256(receipt.encode("ascii")).hexdigest()
    return f"{FILE_HEADER}\n{digest}\n{received_at.isoformat()}".encode()


def _zone_name(at: datetime) -> str:
    if settings.TIME_ZONE == "Asia/Shanghai":
        return _("Beijing time")
    return at.strftime("UTC%z")


@sensitive_variables()
def receipt_file(
    receipt: str, received_at: datetime, ring: KeyRing | None = None, verify_url: str = ""
) -> str:
    """Text file for the reporter: what it is, in their language; then the machine-readable
    lines (the receipt, the local time of receipt, a server signature) that anyone can check.

    The signature covers the header, the receipt's SHA-256 and the time exactly as written on
    the ``received-at`` line (local time with its offset), so it verifies whatever language the
    explanation above it is in.
    """
    ring = ring or get_keyring()
    local = timezone.localtime(received_at)
    signature = ring.signing_private_key.sign(_signed_message(receipt, local))
    explanation = [
        _("Receipt for a report to the rewarded reporting scheme"),
        _("Receipt number: %(receipt)s") % {"receipt": grouped(receipt)},
        _("Received: %(at)s (%(zone)s)")
        % {"at": local.strftime("%Y-%m-%d %H:%M:%S"), "zone": _zone_name(local)},
        _(
            "Keep this file and the receipt number private. With the number you can follow "
            "the report, answer questions, add evidence and claim the reward; it cannot be "
            "recovered if it is lost."
        ),
        _(
            "The signature below proves when the report was received (the first report earns "
            "the reward). Check it at %(url)s; do not change the lines below."
        )
        % {"url": verify_url or "/receipt/verify/"},
    ]
    return (
        f"{FILE_HEADER}\n"
        + "".join(f"# {line}\n" for line in explanation)
        + f"receipt: {grouped(receipt)}\n"
        f"received-at: {local.isoformat()}\n"
        f"receipt-sha256: {hashlib.sha256(receipt.encode('ascii')).hexdigest()}\n"
        f"signature-ed25519: {base64.b64encode(signature).decode('ascii')}\n"
    )


@sensitive_variables()
def verify_receipt_file(text: str, public_key_pem: str) -> tuple[str, datetime] | None:
    """Return (receipt, received_at) if the file's signature is valid, else None."""
    fields = {}
    for line in text.splitlines()[1:]:
        if line.startswith("#"):  # the explanation, in the reporter's language
            continue
        key, _sep, value = line.partition(": ")
        fields[key.strip()] = value.strip()
    try:
        receipt = normalise(fields["receipt"])
        received_at = datetime.fromisoformat(fields["received-at"])
        signature = base64.b64decode(fields["signature-ed25519"], validate=True)
        public_key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
        if receipt is None:
            return None
        public_key.verify(signature, _signed_message(receipt, received_at))
    except (KeyError, ValueError, InvalidSignature):
        return None
    return receipt, received_at
