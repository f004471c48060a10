"""`WWW-Authenticate: Payment` challenges: parse and format (mpp §1.2).

A header value may hold several challenges and other schemes (``Bearer …, Payment …``);
:func:`parse_www_authenticate` returns every usable Payment challenge in server order and
skips malformed ones, so one broken offer never hides a good one (mpp §6). This differs
on purpose from mppx, which rejects the whole value when any challenge is malformed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from link_cli._records import frozen_record
from link_cli.mpp import _wire
from link_cli.mpp.errors import MppParseError

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Challenge",
    "format_challenge",
    "format_www_authenticate",
    "parse_challenge",
    "parse_expires",
    "parse_www_authenticate",
]

SCHEME = "Payment"
_METHOD_RE = re.compile(r"[a-z][a-z0-9:_-]*\Z")
_INTENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*\Z")
# The RFC 3339 profile mppx accepts (mpp §1.7): an explicit offset is mandatory.
_EXPIRES_RE = re.compile(
    r"(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d{1,9}))?"
    r"(?P<offset>Z|[+-]\d{2}:\d{2})\Z",
    re.ASCII,
)
_REQUIRED = ("id", "realm", "method", "intent", "request")
_OPTIONAL = ("description", "digest", "expires", "opaque", "header")


@frozen_record
class Challenge:
    """One Payment challenge as it appeared on the wire.

    `request` and `opaque` stay base64url strings exactly as received: a credential must
    echo them unchanged (mpp §1.4). Use :meth:`request_json` for the decoded request.
    """

    id: str
    realm: str
    method: str
    intent: str
    request: str
    description: str | None = None
    digest: str | None = None
    expires: str | None = None
    opaque: str | None = None
    header: str | None = None

    def request_json(self) -> dict[str, Any]:
        """The decoded `request` object (a fresh copy on every call)."""
        return _wire.decode_b64_json(self.request, max_length=_wire.MAX_REQUEST_LENGTH)

    def opaque_json(self) -> dict[str, Any] | None:
        """The decoded `opaque` object, or None when absent."""
        return None if self.opaque is None else _wire.decode_b64_json(self.opaque)

    def expires_at(self) -> datetime | None:
        """`expires` as an aware datetime, or None when the challenge has no expiry."""
        return None if self.expires is None else parse_expires(self.expires)

    def is_expired(self, now: datetime | None = None) -> bool:
        """True when `expires` is in the past (a challenge without expiry never expires here)."""
        expires_at = self.expires_at()
        if expires_at is None:
            return False
        return expires_at <= (now or datetime.now(UTC))

    def params(self) -> dict[str, str]:
        """The wire parameters in a stable order, optional ones only when present."""
        out = {name: getattr(self, name) for name in _REQUIRED}
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def parse_expires(value: str) -> datetime:
    """Parse an `expires` timestamp; offset-less or malformed values are refused."""
    match = _EXPIRES_RE.match(value)
    if match is None:
        raise MppParseError("Invalid expires: expected an RFC 3339 timestamp with offset.")
    base, fraction, offset = match.group("base", "fraction", "offset")
    # Python keeps 6 fraction digits; finer precision cannot matter for an expiry.
    text = base + (f".{fraction[:6].ljust(6, '0')}" if fraction else "")
    text += "+00:00" if offset == "Z" else offset
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise MppParseError("Invalid expires: not a real date.") from exc


def challenge_from_params(params: Mapping[str, str]) -> Challenge:
    """Validate auth-params (names already lower-cased) into a :class:`Challenge`."""
    for name in _REQUIRED:
        if name not in params:
            raise MppParseError(f"Missing {name} parameter.")
    if not params["id"]:
        raise MppParseError("Empty id parameter.")
    method = params["method"]
    if not _METHOD_RE.match(method):
        raise MppParseError("Invalid method: must be lowercase per spec.")
    if not _INTENT_RE.match(params["intent"]):
        raise MppParseError("Invalid intent.")
    if len(params["request"]) > _wire.MAX_REQUEST_LENGTH:
        raise MppParseError("Request parameter too large.")
    _wire.decode_b64_json(params["request"], max_length=_wire.MAX_REQUEST_LENGTH)
    digest = params.get("digest")
    if digest is not None and not digest.startswith("sha-256="):
        raise MppParseError("Invalid digest: must start with sha-256=.")
    expires = params.get("expires")
    if expires is not None:
        parse_expires(expires)
    header = params.get("header")
    if header is not None and not _wire.is_token(header):
        raise MppParseError("Invalid header parameter.")
    return Challenge(**{name: params[name] for name in _REQUIRED + _OPTIONAL if name in params})


def _raw_payment_challenges(value: str | bytes | Iterable[str | bytes]) -> list[_wire.RawChallenge]:
    values = [value] if isinstance(value, str | bytes) else list(value)
    raws: list[_wire.RawChallenge] = []
    for item in values:
        raws.extend(_wire.scan_auth_header(_wire.header_text(item)))
    return [raw for raw in raws if raw.scheme.lower() == SCHEME.lower()]


def parse_www_authenticate(value: str | bytes | Iterable[str | bytes]) -> list[Challenge]:
    """Every valid Payment challenge in one or several `WWW-Authenticate` values.

    Raises :class:`MppParseError` when there is no Payment scheme at all ("No Payment schemes
    found."), or when every Payment challenge is malformed (the first one's reason).
    """
    raws = _raw_payment_challenges(value)
    if not raws:
        raise MppParseError("No Payment schemes found.")
    challenges: list[Challenge] = []
    first_error: str | None = None
    for raw in raws:
        try:
            if raw.error is not None:
                raise MppParseError(raw.error)
            if raw.token68 is not None or not raw.params:
                raise MppParseError("Payment challenge has no parameters.")
            challenges.append(challenge_from_params(raw.params))
        except MppParseError as exc:
            first_error = first_error or str(exc)
    if not challenges:
        raise MppParseError(first_error or "No Payment schemes found.")
    return challenges


def parse_challenge(value: str | bytes) -> Challenge:
    """Parse a value that must hold exactly one Payment challenge (other schemes allowed)."""
    challenges = parse_www_authenticate(value)
    if len(challenges) != 1:
        raise MppParseError("Expected exactly one Payment challenge.")
    return challenges[0]


def format_challenge(challenge: Challenge) -> str:
    """``Payment id="…", realm="…", …`` for one challenge (pure ASCII, every value quoted)."""
    return _wire.format_auth_params(SCHEME, challenge.params())


def format_www_authenticate(challenges: Iterable[Challenge]) -> str:
    """Several challenges merged into one header value, comma-separated."""
    return ", ".join(format_challenge(challenge) for challenge in challenges)
