"""Configuration of the demo merchant: flags first, then ``LINK_MERCHANT_*`` variables.

The merchant is one of the wallet's registered merchants: it knows the wallet's URL, the
secret key ``link-wallet merchant create`` printed, and its network id (``profile_…``),
which its 402 challenges advertise so agents mint tokens bound to this shop.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["MerchantConfig", "MerchantConfigError", "load_config"]

DEFAULT_PORT = 8726


class MerchantConfigError(Exception):
    """A required setting is missing or unusable."""


@dataclass(frozen=True)
class MerchantConfig:
    """Everything the shop needs. Secrets never appear in ``repr``."""

    wallet_url: str
    secret_key: str = field(repr=False)
    network_id: str
    name: str = "Trailhead Supply Co."
    realm: str = "trailhead-supply.demo"
    currency: str = "usd"
    challenge_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    cookie_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    wallet_timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.wallet_url.startswith(("http://", "https://")):
            raise MerchantConfigError("the wallet URL must start with http:// or https://")
        if not self.secret_key.startswith("sk_"):
            raise MerchantConfigError("the secret key must look like sk_test_… or sk_live_…")
        if not self.network_id:
            raise MerchantConfigError("the network id is required (profile_…)")
        object.__setattr__(self, "wallet_url", self.wallet_url.rstrip("/"))


def load_config(
    *,
    wallet_url: str | None = None,
    secret_key: str | None = None,
    network_id: str | None = None,
    env: Mapping[str, str] | None = None,
) -> MerchantConfig:
    """Build a config from explicit values and ``LINK_MERCHANT_WALLET_URL``,
    ``LINK_MERCHANT_SECRET_KEY``, ``LINK_MERCHANT_NETWORK_ID``, ``LINK_MERCHANT_NAME``,
    ``LINK_MERCHANT_REALM`` and ``LINK_MERCHANT_CHALLENGE_SECRET`` (≥ 32 characters; random
    per process when unset, so challenges die with the process)."""
    env = os.environ if env is None else env
    values = {
        "wallet_url": wallet_url or env.get("LINK_MERCHANT_WALLET_URL"),
        "secret_key": secret_key or env.get("LINK_MERCHANT_SECRET_KEY"),
        "network_id": network_id or env.get("LINK_MERCHANT_NETWORK_ID"),
    }
    missing = [name for name, value in values.items() if not value]
    if missing:
        flags = ", ".join("--" + name.replace("_", "-") for name in missing)
        raise MerchantConfigError(f"missing setting(s): {flags}")
    extra: dict[str, object] = {}
    if env.get("LINK_MERCHANT_NAME"):
        extra["name"] = env["LINK_MERCHANT_NAME"]
    if env.get("LINK_MERCHANT_REALM"):
        extra["realm"] = env["LINK_MERCHANT_REALM"]
    raw_secret = env.get("LINK_MERCHANT_CHALLENGE_SECRET")
    if raw_secret:
        if len(raw_secret) < 32:
            raise MerchantConfigError("LINK_MERCHANT_CHALLENGE_SECRET must be ≥ 32 characters")
        extra["challenge_secret"] = raw_secret.encode("utf-8")
    return MerchantConfig(
        wallet_url=str(values["wallet_url"]),
        secret_key=str(values["secret_key"]),
        network_id=str(values["network_id"]),
        **extra,  # type: ignore[arg-type]
    )
