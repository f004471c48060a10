"""Wire primitives shared by the MPP headers: auth-params, base64url JSON, canonical JSON.

The auth-param grammar is RFC 9110 §11 (mpp §1.2)::

    WWW-Authenticate = #challenge
    challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    auth-param       = token BWS "=" BWS ( token / quoted-string )
    token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="

read leniently where servers are known to stray: an unquoted value runs to the next comma,
whitespace or quote (so ``expires=2099-01-01T00:00:00Z`` is one value), and with the escapes
seen in practice: inside a quoted-string ``\\uXXXX`` is a UTF-16 code unit
(surrogate pairs combine) and any other ``\\x`` is ``x``. The scanner is a single left-to-right
pass with no backtracking, so any input is handled in linear time.

Nothing here does I/O; every function either returns or raises :class:`MppParseError`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping

from link_cli.mpp.errors import MppParseError

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, NoReturn

# Size caps (mpp §1.2): a whole header value, and the base64url `request` parameter.
MAX_HEADER_LENGTH = 64 * 1024
MAX_REQUEST_LENGTH = 16 * 1024

_TCHAR = "!#$%&'*+.^_`|~0-9A-Za-z-"
_TOKEN_RE = re.compile(f"[{_TCHAR}]+")
# An unquoted value runs to the next separator. Looser than a strict token so that what
# servers send unquoted in practice (an RFC 3339 `expires` with its colons, padded or
# standard-alphabet base64) reads as one value instead of being cut at the first colon.
_BARE_VALUE_RE = re.compile(r'[^\s,"\\]+')
_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_HEADER_NAME_RE = re.compile(f"[{_TCHAR}]+\\Z")
_B64_RE = re.compile(r"[A-Za-z0-9\-_+/]*={0,2}\Z")
_HEX4_RE = re.compile(r"[0-9A-Fa-f]{4}")
_WS = " \t"


def is_token(value: str) -> bool:
    """True when `value` is a non-empty RFC 9110 token (e.g. a header field name)."""
    return bool(_HEADER_NAME_RE.match(value))


# --- header text -------------------------------------------------------------------------


def header_text(value: str | bytes) -> str:
    """Return a header value as text: bytes are UTF-8 when valid, else Latin-1 (mpp §1.2)."""
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def wire_text(value: str) -> str:
    """Undo a Latin-1 decode done by an HTTP stack when the bytes were really UTF-8.

    `http.client` decodes header bytes as Latin-1; mppx sends UTF-8 for nothing and raw
    Latin-1 for U+0080–U+00FF, while other servers may send UTF-8. Same rule as httpx.
    """
    if value.isascii():
        return value
    try:
        return header_text(value.encode("latin-1"))
    except UnicodeEncodeError:
        return value


# --- quoted strings ----------------------------------------------------------------------


def quote(value: str) -> str:
    """Quote `value` as an RFC 9110 quoted-string that :func:`scan_auth_header` reads back.

    Everything outside printable ASCII is written as ``\\uXXXX`` (UTF-16 code units), so the
    header is pure ASCII: no Latin-1/UTF-8 ambiguity, no CR/LF injection.
    """
    out = ['"']
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    out.append('"')
    return "".join(out)


def _read_quoted(text: str, start: int) -> tuple[list[int], int]:
    """Read the quoted-string opening at `text[start]`; return (UTF-16 units, index after it)."""
    units: list[int] = []
    i = start + 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == '"':
            return units, i + 1
        if char == "\\":
            if i + 1 >= n:
                break
            nxt = text[i + 1]
            if nxt == "u" and _HEX4_RE.match(text, i + 2):
                units.append(int(text[i + 2 : i + 6], 16))
                i += 6
                continue
            units.extend(_utf16_units(nxt))
            i += 2
            continue
        units.extend(_utf16_units(char))
        i += 1
    raise MppParseError("Unterminated quoted-string.")


def _utf16_units(char: str) -> tuple[int, ...]:
    code = ord(char)
    if code <= 0xFFFF:
        return (code,)
    code -= 0x10000
    return (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def _from_utf16(units: list[int]) -> str:
    chars: list[str] = []
    i = 0
    while i < len(units):
        unit = units[i]
        if 0xD800 <= unit <= 0xDBFF and i + 1 < len(units) and 0xDC00 <= units[i + 1] <= 0xDFFF:
            chars.append(chr(0x10000 + ((unit - 0xD800) << 10) + (units[i + 1] - 0xDC00)))
            i += 2
            continue
        if 0xD800 <= unit <= 0xDFFF:
            raise MppParseError("Invalid \\u escape: lone surrogate.")
        chars.append(chr(unit))
        i += 1
    return "".join(chars)


# --- the auth-header scanner -------------------------------------------------------------


class RawChallenge:
    """One scheme of an auth header: its params (lower-cased names) or token68, or an error."""

    __slots__ = ("error", "params", "scheme", "token68")

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        self.params: dict[str, str] = {}
        self.token68: str | None = None
        self.error: str | None = None

    def __repr__(self) -> str:
        return (
            f"RawChallenge(scheme={self.scheme!r}, params={self.params!r}, "
            f"token68={self.token68!r}, error={self.error!r})"
        )

    def fail(self, message: str) -> None:
        """Remember the first problem; a challenge with an error is never used."""
        if self.error is None:
            self.error = message


def _skip(text: str, i: int, chars: str) -> int:
    n = len(text)
    while i < n and text[i] in chars:
        i += 1
    return i


def _skip_to_comma(text: str, i: int) -> int:
    """Skip junk up to the next comma that is outside a quoted-string (or the end)."""
    n = len(text)
    in_quotes = False
    while i < n:
        char = text[i]
        if in_quotes:
            if char == "\\":
                i += 1
            elif char == '"':
                in_quotes = False
        elif char == '"':
            in_quotes = True
        elif char == ",":
            return i
        i += 1
    return n


def scan_auth_header(text: str) -> list[RawChallenge]:
    """Split an auth header value into schemes with their parameters.

    A new scheme starts at every token that is followed by whitespace, a comma or the end,
    rather than by ``=``; the word "Payment" inside a quoted value is therefore never a
    boundary. Policies (mpp §6): duplicate parameter names and unterminated
    quoted-strings mark that scheme as failed (an unterminated quote runs to the end, so it
    can never swallow a parameter of a *later* challenge into a valid one); junk after a
    value (e.g. an unescaped quote inside a quoted value) is skipped up to the next comma.
    """
    if len(text) > MAX_HEADER_LENGTH:
        raise MppParseError("Header value too large.")
    found: list[RawChallenge] = []
    current: RawChallenge | None = None
    n = len(text)
    i = 0
    while i < n:
        i = _skip(text, i, _WS + ",")
        if i >= n:
            break
        match = _TOKEN_RE.match(text, i)
        if match is None:
            if current is not None:
                current.fail("Malformed auth-param.")
            i = _skip_to_comma(text, i)
            continue
        name, j = match.group(), match.end()
        k = _skip(text, j, _WS)
        if k < n and text[k] == "=":
            i = _read_param(text, k + 1, name.lower(), current)
            continue
        if j < n and text[j] not in _WS + ",":
            if current is not None:
                current.fail("Malformed auth-param.")
            i = _skip_to_comma(text, j)
            continue
        current = RawChallenge(scheme=name)
        found.append(current)
        i = _read_token68(text, k, current)
    return found


def _read_token68(text: str, i: int, challenge: RawChallenge) -> int:
    """Consume a token68 right after a scheme when one is there (``Negotiate abc==``)."""
    match = _TOKEN68_RE.match(text, i)
    if match is None:
        return i
    end = _skip(text, match.end(), _WS)
    if end < len(text) and text[end] != ",":
        return i  # it is the first auth-param (``name=value``), not a token68
    challenge.token68 = match.group()
    return end


def _read_param(text: str, i: int, name: str, owner: RawChallenge | None) -> int:
    """Read the value of `name` starting after its ``=``; store it on `owner`."""
    n = len(text)
    i = _skip(text, i, _WS)
    if i < n and text[i] == '"':
        try:
            units, i = _read_quoted(text, i)
        except MppParseError as exc:
            if owner is not None:
                owner.fail(str(exc))
            return n  # an unterminated quoted-string runs to the end of the value
        try:
            value = _from_utf16(units)
        except MppParseError as exc:
            if owner is not None:
                owner.fail(str(exc))
            return _skip_to_comma(text, i)
    else:
        match = _BARE_VALUE_RE.match(text, i)
        if match is None:
            if owner is not None:
                owner.fail("Malformed auth-param.")
            return _skip_to_comma(text, i)
        value, i = match.group(), match.end()
    if owner is not None:
        if name in owner.params:
            owner.fail(f"Duplicate parameter: {name}")
        else:
            owner.params[name] = value
    i = _skip(text, i, _WS)
    if i < n and text[i] != ",":
        i = _skip_to_comma(text, i)  # trailing junk after the value is ignored
    return i


def format_auth_params(scheme: str, params: Mapping[str, str]) -> str:
    """Format ``scheme name="value", ...``; every value is quoted (see :func:`quote`)."""
    return scheme + " " + ", ".join(f"{name}={quote(value)}" for name, value in params.items())


# --- base64url and JSON ------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url or standard base64, padding optional (mpp §5.2 item 3)."""
    if not _B64_RE.match(text):
        raise MppParseError("Invalid base64url.")
    body = text.rstrip("=")
    if len(body) % 4 == 1:
        raise MppParseError("Invalid base64url.")
    body = body.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MppParseError("Invalid base64url.") from exc


def _reject_constant(name: str) -> NoReturn:
    raise MppParseError(f"Invalid JSON number: {name}")


def loads_object(raw: bytes | str) -> dict[str, Any]:
    """Parse JSON text that must be an object; anything else is an :class:`MppParseError`.

    The result is guaranteed to serialise back with :func:`canonical_json` (no NaN, no lone
    surrogates), so later formatting of parsed data cannot fail.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_reject_constant)
    except MppParseError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MppParseError("Invalid JSON.") from exc
    if not isinstance(value, dict):
        raise MppParseError("Expected a JSON object.")
    try:
        canonical_json(value).encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError) as exc:
        raise MppParseError("Invalid JSON.") from exc
    return value


def decode_b64_json(text: str, *, max_length: int = MAX_HEADER_LENGTH) -> dict[str, Any]:
    """Decode base64url(JSON object) text, refusing input longer than `max_length`."""
    if len(text) > max_length:
        raise MppParseError("Encoded value too large.")
    return loads_object(b64url_decode(text))


def encode_b64_json(value: Mapping[str, Any]) -> str:
    """base64url_nopad(canonical JSON of `value`)."""
    return b64url_encode(canonical_json(value).encode("utf-8"))


# --- canonical JSON (RFC 8785 for the values JSON can carry) -----------------------------


def canonical_json(value: Any) -> str:
    """Serialise `value` as RFC 8785 JCS: sorted keys (UTF-16 order), no whitespace, JS numbers.

    Raises ValueError for values JSON cannot carry (NaN, infinities, non-string keys).
    """
    parts: list[str] = []
    _emit(value, parts)
    return "".join(parts)


def _emit(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool):
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(js_number(value))
    elif isinstance(value, Mapping):
        keys = list(value)
        if not all(isinstance(key, str) for key in keys):
            raise ValueError("JSON object keys must be strings")
        out.append("{")
        for index, key in enumerate(sorted(keys, key=lambda k: k.encode("utf-16-be"))):
            if index:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _emit(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _emit(item, out)
        out.append("]")
    else:
        raise ValueError(f"not JSON-serialisable: {type(value).__name__}")


def js_number(value: float) -> str:
    """Format a float the way ECMAScript ``Number.prototype.toString`` does (RFC 8785 §3.2.2.3)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and infinities are not JSON numbers")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac = mantissa.partition(".")
    digits = (int_part + frac).lstrip("0")
    stripped = digits.rstrip("0")
    k = len(stripped)
    n = k + int(exp_text or 0) - len(frac) + (len(digits) - k)
    if k <= n <= 21:
        body = stripped + "0" * (n - k)
    elif 0 < n <= 21:
        body = stripped[:n] + "." + stripped[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + stripped
    else:
        exponent = n - 1
        head = stripped[0] + ("." + stripped[1:] if k > 1 else "")
        body = f"{head}e{'+' if exponent > 0 else '-'}{abs(exponent)}"
    return sign + body
