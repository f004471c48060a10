"""Field encryption for secrets at rest (card numbers, CVCs) and key derivation.

Ciphertext format: ``<key id>:<base64url(nonce || AES-GCM ciphertext+tag)>``. Each value gets a
fresh 96-bit random nonce; the associated data binds it to its record id and field name, so a
ciphertext copied into another row or column fails to decrypt. The key id prefix lets a later
key rotation decrypt old rows while writing new ones with the new key.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CURRENT_KEY_ID = "k1"
_NONCE_BYTES = 12


def derive_key(secret_key: bytes, purpose: str, length: int = 32) -> bytes:
    """Derive an independent key for ``purpose`` (cookies, CSRF, fields…) with HKDF-SHA256."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=length,
        salt=b"link-wallet",
        info=purpose.encode("utf-8"),
    )
    return hkdf.derive(secret_key)


class DecryptionError(Exception):
    """A stored value cannot be decrypted (wrong key, tampered, or moved between records)."""


class FieldCipher:
    """AES-256-GCM encryption of single text fields, keyed from the wallet's secret key."""

    def __init__(self, secret_key: bytes) -> None:
        self._keys = {CURRENT_KEY_ID: AESGCM(derive_key(secret_key, "field-encryption/k1"))}

    def encrypt(self, record_id: str, field: str, plaintext: str) -> str:
        """Encrypt ``plaintext`` for column ``field`` of the row ``record_id``."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[CURRENT_KEY_ID].encrypt(
            nonce, plaintext.encode("utf-8"), _aad(record_id, field)
        )
        token = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{CURRENT_KEY_ID}:{token}"

    def decrypt(self, record_id: str, field: str, stored: str) -> str:
        """Reverse :meth:`encrypt`; raises :class:`DecryptionError` on any mismatch."""
        key_id, _, token = stored.partition(":")
        aead = self._keys.get(key_id)
        if aead is None or not token:
            raise DecryptionError("unknown key id")
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
            plain = aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(record_id, field))
        except (InvalidTag, ValueError):
            raise DecryptionError("stored value failed authentication") from None
        return plain.decode("utf-8")


def _aad(record_id: str, field: str) -> bytes:
    return f"{record_id}\x00{field}".encode()


def sha256_hex(value: str) -> str:
    """SHA-256 of a high-entropy secret (tokens, codes, session ids) for lookup by hash."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
