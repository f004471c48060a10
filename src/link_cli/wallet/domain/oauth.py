"""Pure rules of the OAuth device grant: scopes, user-code phrases, form decoding.

References: RFC 8628 (device grant), contract §6.1–6.3 (what the client sends).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from .errors import OAuthError

PUBLIC_CLIENT_ID = "lwlpk_U7Qy7ThG69STZk"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"

SCOPE_USERINFO = "userinfo:read"
SCOPE_PAYMENT_METHODS = "payment_methods.agentic"
SCOPE_APPROVE = "spend_requests:approve"
DEFAULT_SCOPES = (SCOPE_USERINFO, SCOPE_PAYMENT_METHODS)
KNOWN_SCOPES = {
    SCOPE_USERINFO: "See your name and email address",
    SCOPE_PAYMENT_METHODS: "See your cards (brand, last 4 digits, expiry) and ask you to approve payments",
    SCOPE_APPROVE: "Approve payments on your behalf, without asking you each time",
}

DEVICE_CODE_TTL_SECONDS = 900
POLL_INTERVAL_SECONDS = 5
SLOW_DOWN_STEP_SECONDS = 5
# A client polling on schedule must not be punished for timer jitter.
POLL_LEEWAY_SECONDS = 1
MAX_POLL_INTERVAL_SECONDS = 60
ACCESS_TOKEN_TTL_SECONDS = 3600
REFRESH_TOKEN_TTL_SECONDS = 90 * 24 * 3600

# 160 short, distinct, easy-to-type words: three of them give 160**3 ≈ 4.1 million phrases.
PHRASE_WORDS: tuple[str, ...] = tuple(
    """
    acorn alpine amber anchor apple apricot arrow aspen autumn bamboo basil beacon berry
    birch bison blossom bramble breeze brook cactus camel candle canyon carbon cedar cherry
    cinder citrus clover cobalt comet coral cotton crane crystal daisy delta desert dolphin
    dune eagle ember falcon fennel fern fig finch fjord flint forest fossil fox galaxy garnet
    ginger glacier granite grape harbor hazel heron honey island ivory jade jasmine juniper
    kelp kiwi koala lagoon lantern lark lava lemon lilac lily lime linen lotus lunar mango
    maple marble meadow melon mint mango2 moss nectar nova oak oasis ocean olive onyx orbit
    orchid otter owl panda papaya pearl pebble pepper pine plum polar poppy prairie quartz
    quill rabbit raven reef ripple river robin rocket saffron sage salmon sand sapphire
    sequoia shadow shell sierra silver sparrow spruce star stone summit sunset swan tango
    thistle thunder tiger timber topaz tulip tundra velvet violet walnut willow wind winter
    wren yarrow zebra zephyr acacia bluebell bonsai cardinal cascade chestnut cypress
    dragonfly elm fable gale gazelle harvest horizon iris
    """.replace("mango2", "magnet").split()
)
PHRASE_LENGTH = 3
_PHRASE_SHAPE = re.compile(r"^[a-z]+(?:-[a-z]+){1,3}$")


def new_user_code() -> str:
    """A fresh phrase such as ``maple-river-otter``."""
    return "-".join(secrets.choice(PHRASE_WORDS) for _ in range(PHRASE_LENGTH))


def normalize_user_code(raw: str) -> str | None:
    """Canonical phrase for lookup (case, spaces and separators forgiven), or None if malformed."""
    words = re.split(r"[\s\-_.]+", raw.strip().lower())
    phrase = "-".join(w for w in words if w)
    if len(phrase) > 100 or not _PHRASE_SHAPE.match(phrase):
        return None
    return phrase


# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); we also keep them short.
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
MAX_SCOPE_LENGTH = 100
MAX_SCOPE_TOKENS = 20


def parse_scope(raw: str | None) -> list[str]:
    """Split a scope string on whitespace or commas (contract §6.4); empty means the default scopes.

    Unknown but well-formed scopes are kept (the official client passes scopes such as
    ``balances:read`` or ``source_details:read`` through verbatim, contract §6.3); the person sees them
    on the consent page as not offered and :func:`granted_scopes` drops them, as RFC 6749 §3.3
    allows. Malformed scope tokens, too many of them, or a request naming no scope this wallet
    offers raise ``invalid_scope``.
    """
    tokens: list[str] = []
    for token in re.split(r"[\s,]+", (raw or "").strip()):
        if token and token not in tokens:
            tokens.append(token)
    if not tokens:
        return list(DEFAULT_SCOPES)
    if len(tokens) > MAX_SCOPE_TOKENS:
        raise OAuthError(
            f"at most {MAX_SCOPE_TOKENS} scopes may be requested", code="invalid_scope"
        )
    for token in tokens:
        if len(token) > MAX_SCOPE_LENGTH:
            raise OAuthError(
                f"a scope is longer than {MAX_SCOPE_LENGTH} characters", code="invalid_scope"
            )
        if not _SCOPE_TOKEN.match(token):
            raise OAuthError(f"malformed scope: {token[:40]!r}", code="invalid_scope")
    if not any(t in KNOWN_SCOPES for t in tokens):
        offered = " ".join(KNOWN_SCOPES)
        raise OAuthError(
            ("this wallet offers none of the requested scopes: " + " ".join(tokens))[:200]
            + f" (it offers: {offered})",
            code="invalid_scope",
        )
    return tokens


def unknown_scopes(requested: Sequence[str]) -> list[str]:
    """The requested scopes this wallet does not offer (shown, never granted)."""
    return [s for s in requested if s not in KNOWN_SCOPES]


def granted_scopes(requested: Sequence[str], *, allow_approve: bool) -> list[str]:
    """What the person grants: the offered scopes requested, the approve scope only if ticked."""
    return [s for s in requested if s in KNOWN_SCOPES and (s != SCOPE_APPROVE or allow_approve)]


_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
MAX_AUTHORIZATION_DETAIL_PAIRS = 200
# The official client nests a few levels; the bound keeps rebuilding (recursive) and storing
# the details far from Python's recursion limit.
MAX_AUTHORIZATION_DETAIL_DEPTH = 8


def parse_authorization_details(pairs: Iterable[tuple[str, str]]) -> list[Any]:
    """Rebuild the JSON list sent as ``authorization_details[]…`` form fields (inverse of contract §6.2).

    The flattening is ambiguous in general; this decoder starts a new element whenever a pair
    cannot belong to the current one (a key that is already set), which recovers every shape
    the official client produces for objects, arrays of primitives and arrays of objects.
    ``true``/``false``/``null`` become JSON literals; everything else stays a string.
    """
    details: list[Any] = []
    count = 0
    for key, value in pairs:
        if not key.startswith("authorization_details[]"):
            continue
        count += 1
        if count > MAX_AUTHORIZATION_DETAIL_PAIRS:
            raise OAuthError("too many authorization_details fields", code="invalid_request")
        rest = key[len("authorization_details") :]
        segments = _SEGMENT.findall(rest)
        if "".join(f"[{s}]" for s in segments) != rest:
            raise OAuthError(f"malformed field name {key[:80]!r}", code="invalid_request")
        if len(segments) > MAX_AUTHORIZATION_DETAIL_DEPTH:
            raise OAuthError(
                f"field name nested more than {MAX_AUTHORIZATION_DETAIL_DEPTH} levels deep: "
                f"{key[:80]!r}",
                code="invalid_request",
            )
        _insert_into_list(details, segments[1:], _literal(value))
    return details


def _literal(value: str) -> Any:
    return {"true": True, "false": False, "null": None}.get(value, value)


def _insert_into_list(items: list[Any], path: list[str], value: Any) -> None:
    if not path:
        items.append(value)
        return
    head = path[0]
    if head == "":
        if items and isinstance(items[-1], list):
            _insert_into_list(items[-1], path[1:], value)
        else:
            nested: list[Any] = []
            items.append(nested)
            _insert_into_list(nested, path[1:], value)
        return
    if items and isinstance(items[-1], dict) and _fits(items[-1], path):
        _insert_into_dict(items[-1], path, value)
    else:
        fresh: dict[str, Any] = {}
        items.append(fresh)
        _insert_into_dict(fresh, path, value)


def _fits(target: dict[str, Any], path: list[str]) -> bool:
    key, rest = path[0], path[1:]
    if key not in target:
        return True
    if not rest:
        return False
    current = target[key]
    if rest[0] == "":
        return isinstance(current, list)
    return isinstance(current, dict) and _fits(current, rest)


def _insert_into_dict(target: dict[str, Any], path: list[str], value: Any) -> None:
    key, rest = path[0], path[1:]
    if not rest:
        target[key] = value
    elif rest[0] == "":
        bucket = target.setdefault(key, [])
        _insert_into_list(bucket, rest[1:], value)
    else:
        child = target.setdefault(key, {})
        _insert_into_dict(child, rest, value)


def describe_authorization_detail(detail: Any) -> str:
    """One plain-words line for the approval page (attacker-supplied: rendered escaped)."""
    if isinstance(detail, dict):
        kind = str(detail.get("type", "access"))
        actions = detail.get("actions")
        if isinstance(actions, list) and actions:
            return f"{kind}: " + ", ".join(str(a) for a in actions)
        return json.dumps(detail, sort_keys=True)[:300]
    return json.dumps(detail)[:300]
