"""`Authorization: Payment <b64>` credentials: parse and format (mpp §1.4).

The credential is base64url-without-padding of ``{"challenge": {…}, "payload": {…},
"source"?: "…"}``. The echoed challenge carries every wire parameter byte-for-byte,
including `request` and `opaque` as the strings the server sent: they feed the server's
HMAC (mpp §1.3), and servers that use the echoed `opaque` as-is need it verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from link_cli._records import EMPTY_MAPPING, frozen_record
from link_cli.mpp import _wire
from link_cli.mpp.challenge import SCHEME, Challenge, challenge_from_params
from link_cli.mpp.errors import MppParseError

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Credential",
    "count_payment_credentials",
    "format_authorization",
    "parse_authorization",
]


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@frozen_record
class Credential:
    """A payment proof answering one challenge; `payload` is method-specific."""

    challenge: Challenge
    payload: Mapping[str, Any] = EMPTY_MAPPING
    source: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload", _frozen(self.payload))

    def to_json(self) -> dict[str, Any]:
        """The JSON object carried inside the header."""
        out: dict[str, Any] = {"challenge": self.challenge.params(), "payload": dict(self.payload)}
        if self.source is not None:
            out["source"] = self.source
        return out


def format_authorization(credential: Credential) -> str:
    """``Payment <base64url(JSON)>``: a header value with no CR/LF, never empty."""
    return f"{SCHEME} {_wire.encode_b64_json(credential.to_json())}"


def _payment_schemes(value: str | bytes) -> list[_wire.RawChallenge]:
    return [
        raw
        for raw in _wire.scan_auth_header(_wire.header_text(value))
        if raw.scheme.lower() == SCHEME.lower()
    ]


def count_payment_credentials(value: str | bytes) -> int:
    """How many Payment credentials an `Authorization` value holds (several lines joined
    with commas count each); a server answers more than one with 400."""
    try:
        return len(_payment_schemes(value))
    except MppParseError:
        return 0  # too large to scan: parse_authorization refuses it


def parse_authorization(value: str | bytes) -> Credential:
    """Find and decode the one Payment credential in an `Authorization` value.

    The value may also hold another scheme (``Bearer x, Payment …``). No credential, more
    than one, or an undecodable one raise :class:`MppParseError`; the message never
    contains credential data.
    """
    raws = _payment_schemes(value)
    if not raws:
        raise MppParseError("No Payment credential found.")
    if len(raws) > 1:
        raise MppParseError("More than one Payment credential.")
    token = raws[0].token68
    if token is None:
        raise MppParseError("Malformed Payment credential.")
    return credential_from_json(_wire.decode_b64_json(token))


def credential_from_json(data: Mapping[str, Any]) -> Credential:
    """Validate the decoded credential object (see the module docstring for its shape)."""
    echoed = data.get("challenge")
    payload = data.get("payload")
    source = data.get("source")
    if not isinstance(echoed, dict):
        raise MppParseError("Credential challenge must be an object.")
    if not isinstance(payload, dict):
        raise MppParseError("Credential payload must be an object.")
    if source is not None and not isinstance(source, str):
        raise MppParseError("Credential source must be a string.")
    params = dict(echoed)
    if isinstance(params.get("opaque"), dict):
        # Old mppx clients echoed opaque as an object (mpp §5.2 item 5).
        params["opaque"] = _wire.encode_b64_json(params["opaque"])
    known = {"id", "realm", "method", "intent", "request"} | {
        "description",
        "digest",
        "expires",
        "opaque",
        "header",
    }
    strings: dict[str, str] = {}
    for name in known & params.keys():
        if not isinstance(params[name], str):
            raise MppParseError(f"Credential challenge {name} must be a string.")
        strings[name] = params[name]
    return Credential(challenge=challenge_from_params(strings), payload=payload, source=source)
