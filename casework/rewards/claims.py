"""Claim details: account numbers, payee names and one-time claim codes.

A claim code is 12 characters from a 31-letter alphabet (about 59 bits), shown once to the
reporter and stored only as an HMAC under a key derived from the key ring (outside the
database). Its entropy makes a slow hash unnecessary (slow hashing protects guessable secrets
such as 16-digit receipts); the key means a database dump alone cannot check a guess; and guesses
through the application are limited per claim (MAX_CODE_FAILURES).
"""

import hashlib
import hmac
import re
import secrets
import unicodedata

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.views.decorators.debug import sensitive_variables

from vault.keyring import get_keyring

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i
CODE_LENGTH = 12
MAX_CODE_FAILURES = 5
PREFIX = "h1$"
ACCOUNT_MIN, ACCOUNT_MAX = 12, 30
LUHN_LENGTHS = (16, 19)  # bank card numbers carry a Luhn check digit
_SPACES = re.compile(r"\s+")


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def grouped_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _normal_code(code: str) -> bytes:
    return re.sub(r"[\s\-]", "", code.strip().lower())[:40].encode()


def _key() -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"tipline reward claim codes"
    ).derive(get_keyring().blind_index_key)


@sensitive_variables()
def code_hash(code: str) -> str:
    return PREFIX + hmac.new(_key(), _normal_code(code), hashlib.sha256).hexdigest()


@sensitive_variables()
def code_matches(code: str, stored: str) -> bool:
    if not stored or not isinstance(code, str) or len(code) > 40:
        return False
    return hmac.compare_digest(code_hash(code), stored)


def account_digits(text: str) -> str | None:
    """Digits only after removing spaces (full-width digits accepted), 12–30 of them; or None."""
    if not isinstance(text, str):
        return None
    digits = unicodedata.normalize("NFKC", _SPACES.sub("", text))
    digits = _SPACES.sub("", digits)
    if not (digits.isascii() and digits.isdigit()):
        return None
    if not ACCOUNT_MIN <= len(digits) <= ACCOUNT_MAX:
        return None
    return digits


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def needs_luhn_warning(digits: str) -> bool:
    return len(digits) in LUHN_LENGTHS and not luhn_ok(digits)


def normal_name(text: str) -> str:
    """Names compared after NFKC (full-width letters and spaces become plain) without spaces."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or "")).casefold()
