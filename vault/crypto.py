"""Envelope encryption and blind indexes for reporter identity and attachments.

Each record has its own random AES-256-GCM data key, wrapped by the current key-encryption key of
the key ring. Associated data binds every ciphertext to its table, row and field, so a ciphertext
copied into another row or field fails to decrypt instead of revealing the wrong value.
"""

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keyring import KeyRing, get_keyring

NONCE = 12
TAG = 16


class DecryptionError(Exception):
    """A ciphertext was altered, moved, or its key is gone."""


def _aad(*parts: str) -> bytes:
    return "|".join(parts).encode()


def new_data_key(table: str, row: str, ring: KeyRing | None = None) -> tuple[bytes, int, bytes]:
    """Return (data key, KEK version, wrapped key)."""
    ring = ring or get_keyring()
    dek = AESGCM.generate_key(bit_length=256)
    return dek, ring.current_kek, wrap_key(dek, table, row, ring.current_kek, ring)


def wrap_key(dek: bytes, table: str, row: str, version: int, ring: KeyRing | None = None) -> bytes:
    ring = ring or get_keyring()
    nonce = secrets.token_bytes(NONCE)
    return nonce + AESGCM(ring.kek(version)).encrypt(nonce, dek, _aad("dek", table, row))


def unwrap_key(wrapped: bytes, table: str, row: str, version: int, ring=None) -> bytes:
    ring = ring or get_keyring()
    wrapped = bytes(wrapped)
    if len(wrapped) < NONCE + TAG:  # AESGCM raises ValueError, not InvalidTag, on a short nonce
        raise DecryptionError(f"data key of {table} {row} is truncated")
    try:
        return AESGCM(ring.kek(version)).decrypt(
            wrapped[:NONCE], wrapped[NONCE:], _aad("dek", table, row)
        )
    except InvalidTag:
        raise DecryptionError(f"data key of {table} {row} does not unwrap") from None


def encrypt(dek: bytes, plaintext: bytes, table: str, row: str, field: str) -> bytes:
    nonce = secrets.token_bytes(NONCE)
    return nonce + AESGCM(dek).encrypt(nonce, plaintext, _aad(table, row, field))


def decrypt(dek: bytes, blob: bytes, table: str, row: str, field: str) -> bytes:
    blob = bytes(blob)
    if len(blob) < NONCE + TAG:
        raise DecryptionError(f"{table}.{field} of {row} is truncated")
    try:
        return AESGCM(dek).decrypt(blob[:NONCE], blob[NONCE:], _aad(table, row, field))
    except InvalidTag:
        raise DecryptionError(f"{table}.{field} of {row} failed authentication") from None


def blind_index(purpose: str, normalised: str, ring: KeyRing | None = None) -> str:
    """Keyed hash for equality look-ups (same phone, same ID number) without the plaintext."""
    ring = ring or get_keyring()
    msg = f"{purpose}:{normalised}".encode()
    return hmac.new(ring.blind_index_key, msg, hashlib.sha256).hexdigest()
