"""The payer half: probe a URL, read its 402 challenge, pay it with an SPT, retry once.

Merchant requests follow contract §8.2: no ``User-Agent``, no proxy, the body sent
verbatim. Safety rules (mpp §6):

* the probe may follow redirects (it carries no credential); the paid retry goes to the
  exact URL that answered 402, with the identical method and body bytes, and never follows
  a redirect, so a shared payment token is only ever sent where it was asked for;
* on a cross-origin redirect of the probe, the user's own credentials headers are dropped;
* exactly one paid attempt: whatever the merchant answers is returned, never retried.

Stdlib only (`http.client`), so importing this costs no heavy dependency.
"""

from __future__ import annotations

import http.client
import select
import ssl
import urllib.parse
from collections.abc import Iterable, Mapping
from datetime import datetime

from link_cli._records import frozen_record, replace
from link_cli.mpp import _wire
from link_cli.mpp.challenge import Challenge, parse_www_authenticate
from link_cli.mpp.credential import format_authorization
from link_cli.mpp.errors import MppParseError
from link_cli.mpp.methods import stripe

__all__ = [
    "ApprovedTerms",
    "ChallengeExpired",
    "ChallengeMismatch",
    "MerchantRequest",
    "MerchantRequestFailed",
    "MerchantResponse",
    "MppPayError",
    "PaymentOutcomeUnknown",
    "Resolve",
    "offer_problem",
    "pay",
    "preferred_stripe_offer",
    "read_challenges",
    "read_stripe_challenge",
    "send",
]

DEFAULT_TIMEOUT = 30.0
MAX_REDIRECTS = 5
MAX_BODY_BYTES = 8 * 1024 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that hold the user's own credentials; never carried to another origin.
_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


class MppPayError(Exception):
    """Paying could not proceed; the message is safe to show (no credential data)."""


class MerchantRequestFailed(MppPayError):
    """The merchant could not be reached or the request could not be sent."""


class PaymentOutcomeUnknown(MerchantRequestFailed):
    """The paid retry failed in transit: the merchant may have settled the token or not.

    Never pay again blindly (mpp §6 "Responses"): the token is single-use, and the
    spend request's status tells whether it was redeemed.
    """


class ChallengeExpired(MppPayError):
    """The challenge's `expires` is in the past; paying it would be refused anyway."""


class ChallengeMismatch(MppPayError):
    """The challenge asks for something the spend request was not approved for."""


@frozen_record
class ApprovedTerms:
    """What the person approved (from the spend request); a challenge must fit inside it.

    Checking before paying keeps the token away from a merchant it was not issued for
    (mpp §1.7 "client duties"); the wallet would refuse such a payment anyway.
    """

    network_id: str | None = None
    max_amount: int | None = None
    currency: str | None = None

    def check(self, request: stripe.StripeRequest) -> None:
        """Raise :class:`ChallengeMismatch` when `request` falls outside these terms."""
        if self.network_id is not None and request.network_id != self.network_id:
            raise ChallengeMismatch(
                "The 402 challenge is for a different seller (network id) than the spend "
                "request was approved for."
            )
        if self.currency is not None and request.currency != self.currency.lower():
            raise ChallengeMismatch(
                f"The 402 challenge asks for another currency than the approved {self.currency}."
            )
        if self.max_amount is not None and int(request.amount) > self.max_amount:
            raise ChallengeMismatch(
                f"The 402 challenge asks for {request.amount}, more than the approved "
                f"amount {self.max_amount}."
            )


@frozen_record
class MerchantRequest:
    """One HTTP request to a merchant; `headers` keep the user's spelling and order."""

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None

    @classmethod
    def from_options(
        cls,
        url: str,
        *,
        method: str | None = None,
        data: str | None = None,
        header_lines: Iterable[str] = (),
    ) -> MerchantRequest:
        """Build the request of contract §8.2 from `--method`, `--data` and `--header` lines.

        Method: `method`, else POST with data, else GET. ``Content-Type: application/json``
        when data is given; each ``Name: Value`` line is split at its first colon and
        trimmed; lines without a colon or name are skipped; a later line with the same
        name (any case) replaces the earlier one.
        """
        headers: dict[str, tuple[str, str]] = {}
        if data is not None:
            headers["content-type"] = ("Content-Type", "application/json")
        for line in header_lines:
            name, colon, value = line.partition(":")
            name = name.strip()
            if not colon or not name:
                continue
            headers.pop(name.lower(), None)
            headers[name.lower()] = (name, value.strip())
        chosen = method or ("POST" if data is not None else "GET")
        return cls(
            url=url,
            method=chosen.upper(),
            headers=tuple(headers.values()),
            body=data.encode("utf-8") if data is not None else None,
        )

    def with_header(self, name: str, value: str) -> MerchantRequest:
        """A copy with `name` set to `value`, replacing any header of that name (any case)."""
        kept = tuple((n, v) for n, v in self.headers if n.lower() != name.lower())
        return replace(self, headers=(*kept, (name, value)))


@frozen_record
class MerchantResponse:
    """What the merchant answered, and to which request (after any probe redirects)."""

    request: MerchantRequest
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    redirects: tuple[str, ...] = ()  # the URLs that redirected here, first one first

    def header_values(self, name: str) -> list[str]:
        """Every value of header `name` (case-insensitive), in order."""
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def pay_result(self) -> dict[str, object]:
        """The PayResult of contract §8.2 (not yet sanitised): status, lower-cased headers, text body.

        Headers come out as the official CLI prints them (``Object.fromEntries`` over a fetch
        ``Headers``): sorted by lower-cased name, repeated names joined with ``", "``, except
        ``set-cookie``, whose values stay separate so the last one is kept.
        """
        merged: dict[str, str] = {}
        for key, value in self.headers:
            text = _wire.wire_text(value)
            lower = key.lower()
            joined = lower in merged and lower != "set-cookie"
            merged[lower] = f"{merged[lower]}, {text}" if joined else text
        return {
            "status": self.status,
            "headers": dict(sorted(merged.items())),
            "body": self.body.decode("utf-8", errors="replace"),
        }


Resolve = Mapping[tuple[str, int], str]
"""curl's ``--resolve``: (host, port) → the address to connect to instead of asking DNS."""


def _connection(
    parts: urllib.parse.SplitResult, timeout: float, resolve: Resolve | None = None
) -> http.client.HTTPConnection:
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MerchantRequestFailed("Only http:// and https:// URLs can be paid.")
    try:
        port = parts.port
    except ValueError:
        raise MerchantRequestFailed("Invalid port in URL.") from None
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    address = (resolve or {}).get((parts.hostname.lower(), connection.port))
    if address is not None:
        # Only the socket goes elsewhere: Host, SNI and the certificate check keep the name.
        create = connection._create_connection  # type: ignore[attr-defined]
        connection._create_connection = (  # type: ignore[attr-defined]
            lambda target, *args: create((address, target[1]), *args)
        )
    return connection


# One idle connection per origin (and --resolve address): the paid retry goes out on the
# probe's connection, so a payment costs one TCP (and TLS) handshake, not two.
_IDLE: dict[tuple[str, str, int | None, str | None], http.client.HTTPConnection] = {}


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """False when an idle connection's socket is gone or readable (closed by the server)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


class _Unsent(Exception):
    """The request could not be written on a reused connection (the server had closed it)."""


def _send_once(
    request: MerchantRequest,
    timeout: float,
    *,
    resolve: Resolve | None = None,
    max_bytes: int = MAX_BODY_BYTES,
) -> MerchantResponse:
    parts = urllib.parse.urlsplit(request.url)
    try:
        host = (parts.hostname or "").lower()
        default_port = 443 if parts.scheme == "https" else 80
        address = (resolve or {}).get((host, parts.port or default_port))
        key = (parts.scheme, host, parts.port, address)
    except ValueError:
        raise MerchantRequestFailed("Invalid port in URL.") from None
    idle = _IDLE.pop(key, None)
    if idle is not None and _still_open(idle):
        try:
            return _exchange(idle, key, request, parts, max_bytes, reused=True)
        except _Unsent:
            pass
    elif idle is not None:
        idle.close()
    connection = _connection(parts, timeout, resolve)
    return _exchange(connection, key, request, parts, max_bytes, reused=False)


def _exchange(
    connection: http.client.HTTPConnection,
    key: tuple[str, str, int | None, str | None],
    request: MerchantRequest,
    parts: urllib.parse.SplitResult,
    max_bytes: int,
    *,
    reused: bool,
) -> MerchantResponse:
    target = urllib.parse.quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        target += "?" + urllib.parse.quote(parts.query, safe=_PATH_SAFE + "?")
    has_host = any(name.lower() == "host" for name, _ in request.headers)
    keep = False
    try:
        connection.putrequest(request.method, target, skip_host=has_host, skip_accept_encoding=True)
        for name, value in request.headers:
            connection.putheader(name, value)
        if request.body is not None:
            connection.putheader("Content-Length", str(len(request.body)))
        try:
            connection.endheaders(request.body)
        except (ConnectionResetError, BrokenPipeError):
            if reused:  # never reached the server: a new connection may carry it
                raise _Unsent from None
            raise
        response = connection.getresponse()
        body = response.read(max_bytes)
        # Reusable only once the whole body was read (a body cut at max_bytes is not).
        keep = not response.will_close and response.isclosed()
        return MerchantResponse(request, response.status, tuple(response.getheaders()), body)
    except ssl.SSLCertVerificationError as exc:  # also a ValueError: not a bad request
        raise MerchantRequestFailed(
            f"Request failed: {request.method} {request.url} (the merchant's certificate "
            f"is not trusted: {exc.verify_message})"
        ) from None
    except (ValueError, UnicodeError) as exc:
        raise MerchantRequestFailed(f"Invalid request to merchant: {type(exc).__name__}") from None
    except (OSError, http.client.HTTPException) as exc:
        # Once written, a request is never repeated (a paid retry's outcome is unknown).
        raise MerchantRequestFailed(
            f"Request failed: {request.method} {request.url} ({type(exc).__name__})"
        ) from None
    finally:
        if keep:
            previous = _IDLE.pop(key, None)
            if previous is not None:
                previous.close()
            _IDLE[key] = connection
        else:
            connection.close()


def _redirected(request: MerchantRequest, response: MerchantResponse) -> MerchantRequest | None:
    locations = response.header_values("location")
    if response.status not in _REDIRECT_STATUSES or not locations:
        return None
    target = urllib.parse.urljoin(request.url, _wire.wire_text(locations[0]).strip())
    method, body, headers = request.method, request.body, request.headers
    if (response.status == 303 and method != "HEAD") or (
        response.status in (301, 302) and method == "POST"
    ):
        method, body = "GET", None
        headers = tuple(
            (n, v) for n, v in headers if n.lower() not in ("content-type", "content-length")
        )
    old, new = urllib.parse.urlsplit(request.url), urllib.parse.urlsplit(target)
    if (old.scheme, old.netloc) != (new.scheme, new.netloc):
        headers = tuple((n, v) for n, v in headers if n.lower() not in _PRIVATE_HEADERS)
    return MerchantRequest(url=target, method=method, headers=headers, body=body)


def send(
    request: MerchantRequest,
    *,
    follow_redirects: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    max_redirects: int = MAX_REDIRECTS,
    max_bytes: int = MAX_BODY_BYTES,
    resolve: Resolve | None = None,
) -> MerchantResponse:
    """Send `request`; with `follow_redirects`, follow at most `max_redirects` hops.

    At most `max_bytes` of each body are read; `resolve` pins host names to addresses.
    """
    response = _send_once(request, timeout, resolve=resolve, max_bytes=max_bytes)
    visited: list[str] = []
    for _ in range(max_redirects if follow_redirects else 0):
        following = _redirected(response.request, response)
        if following is None:
            break
        visited.append(response.request.url)
        response = _send_once(following, timeout, resolve=resolve, max_bytes=max_bytes)
    return replace(response, redirects=tuple(visited)) if visited else response


def offer_problem(
    challenge: Challenge,
    request: stripe.StripeRequest,
    *,
    terms: ApprovedTerms | None = None,
    now: datetime | None = None,
) -> MppParseError | MppPayError | None:
    """Why a payer must not take this offer (None: it may): unpayable, expired, or outside
    what the person approved."""
    try:
        request.check_payable()
    except MppParseError as exc:
        return exc
    if challenge.is_expired(now):
        return ChallengeExpired(f"Payment expired at {challenge.expires}.")
    if terms is not None:
        try:
            terms.check(request)
        except ChallengeMismatch as exc:
            return exc
    return None


def preferred_stripe_offer(challenges: list[Challenge]) -> Challenge:
    """The first stripe offer that could be paid now; failing that, the first readable one,
    which is all the official client looks at (a lone expired offer still decodes, and a
    zero amount still asks for ``--amount``). Raises :class:`MppParseError`."""
    try:
        return stripe.select_stripe_challenge(challenges, check=offer_problem)
    except (MppParseError, MppPayError):
        return stripe.select_stripe_challenge(challenges)


def read_stripe_challenge(
    response: MerchantResponse,
    *,
    terms: ApprovedTerms | None = None,
    now: datetime | None = None,
) -> Challenge:
    """The Stripe offer of a 402 answer a payer can take (contract §8.1, every offer judged).

    Offers are judged in server order by :func:`offer_problem`; the first acceptable one is
    returned. Raises :class:`MppParseError` with the reference's messages (``Missing
    WWW-Authenticate header.``, ``No Payment schemes found.``, the selection message,
    ``Invalid stripe challenge request: …``), or the first offer's :class:`ChallengeExpired`
    / :class:`ChallengeMismatch` when no offer is acceptable.
    """
    return stripe.select_stripe_challenge(
        read_challenges(response), check=lambda c, r: offer_problem(c, r, terms=terms, now=now)
    )


def read_challenges(response: MerchantResponse) -> list[Challenge]:
    """Every valid Payment challenge of an answer's ``WWW-Authenticate`` lines, in order."""
    values = response.header_values("www-authenticate")
    if not values:
        raise MppParseError("Missing WWW-Authenticate header.")
    return parse_www_authenticate([_wire.wire_text(value) for value in values])


def pay(
    challenged: MerchantResponse,
    spt: str,
    *,
    terms: ApprovedTerms | None = None,
    now: datetime | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> MerchantResponse:
    """Answer the 402 in `challenged` with `spt` and return the merchant's one reply.

    The retry repeats the request that got the 402 (same URL, method, headers and body
    bytes) plus the credential, in the header the challenge names (default
    ``Authorization``). Raises :class:`MppParseError` for an unusable challenge,
    :class:`ChallengeExpired`, :class:`ChallengeMismatch` (outside `terms`), or
    :class:`PaymentOutcomeUnknown` when the paid retry fails in transit.
    """
    challenge = read_stripe_challenge(challenged, terms=terms, now=now)
    credential = format_authorization(stripe.build_credential(challenge, spt))
    paid = challenged.request.with_header(challenge.header or "Authorization", credential)
    try:
        return send(paid, follow_redirects=False, timeout=timeout)
    except MerchantRequestFailed as exc:
        raise PaymentOutcomeUnknown(
            f"{exc}. The payment outcome is unknown: check the spend request's status "
            "before paying again."
        ) from None
