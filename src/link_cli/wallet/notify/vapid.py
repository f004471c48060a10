"""The wallet's VAPID key pair (RFC 8292), derived from its secret key.

Derived rather than stored: every process of one wallet (same ``LINK_WALLET_SECRET_KEY`` or
``secret.key``) signs with the same key, so a subscription made through any of them keeps
working, and there is no second secret file to protect. Rotating the secret key rotates it
(browsers then need to subscribe again).
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..store.crypto import derive_key

# Order of the P-256 group.
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def vapid_private_key(secret_key: bytes) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key for VAPID signatures."""
    seed = int.from_bytes(derive_key(secret_key, "vapid", 48), "big")
    return ec.derive_private_key(seed % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def b64url(data: bytes) -> str:
    """Unpadded base64url, as Web Push writes keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def application_server_key(secret_key: bytes) -> str:
    """The public key a page passes to ``pushManager.subscribe`` (uncompressed point)."""
    public = vapid_private_key(secret_key).public_key()
    raw = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw)
