"""The one request path of the SDK (contract §6.6, §6.7, §7, §10.4).

Layers, bottom up:

* :class:`StdlibTransport` sends one :class:`HttpRequest` with the standard library and
  returns an :class:`HttpResponse` for every HTTP status (no exceptions for 4xx/5xx, no
  redirects followed: a redirect would carry the bearer token to another host).
  Connection failures become :class:`LinkTransportError`.
* :func:`bearer_auth_flow` is the sans-I/O rule "send with a token; on 401 get a token
  with ``force_refresh`` and retry once; the second response is final". It is a generator
  that yields :class:`TokenNeeded` or requests and receives tokens or responses, so a sync
  driver (here) and an async one can share it.
* :class:`HttpClient` binds a base URL, the default headers, JSON encoding/decoding, the
  flow and the mapping of error responses to :class:`LinkApiError`.

``http.client`` is imported on the first request only, so importing the SDK stays cheap.
"""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from urllib.parse import quote, unquote, urlencode, urlsplit

from link_cli.sdk._config import (
    DEFAULT_TIMEOUT_SECONDS,
    USER_AGENT,
    is_default_local_wallet,
)
from link_cli.sdk._errors import LinkTransportError, api_error, parse_json_or_none

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    import http.client
    from typing import Any

Log = Callable[[str], None]
MAX_BODY_BYTES = 16 * 1024 * 1024
"""Larger answers are refused: no Link API response comes close, and memory is finite."""
QueryValue = str | int | bool | None
Query = Sequence[tuple[str, QueryValue]]


# Named tuples rather than dataclasses (``dataclasses`` pulls in ``inspect``, ~5 ms) and
# from ``collections`` rather than ``typing.NamedTuple`` (``typing`` costs ~5 ms more).
# The annotations below document the fields; the tuple base defines them.
class HttpRequest(namedtuple("HttpRequest", "method url headers body", defaults=({}, None))):
    """One request: absolute URL, headers in sending order, optional encoded body."""

    __slots__ = ()
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None

    def with_header(self, name: str, value: str) -> HttpRequest:
        """A copy with ``name`` set to ``value``."""
        return self._replace(headers={**self.headers, name: value})


class HttpResponse(namedtuple("HttpResponse", "status reason headers text")):
    """One response, body already read and decoded as UTF-8 text."""

    __slots__ = ()
    status: int
    reason: str
    headers: Sequence[tuple[str, str]]
    text: str

    @property
    def ok(self) -> bool:
        """Any 2xx status."""
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when empty or not JSON."""
        return parse_json_or_none(self.text)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


class Transport:
    """Sends one request and returns the response, whatever its status (duck-typed base)."""

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request``; raise :class:`LinkTransportError` when no response comes."""
        raise NotImplementedError


class StdlibTransport(Transport):
    """A :class:`Transport` over ``http.client``, keeping one idle connection per origin.

    A command that sends several requests (create then poll, refresh then retry, ``mpp pay``)
    reuses the connection, so it pays the TCP (and TLS) handshake once. An idle connection
    the server has closed meanwhile (its keep-alive timeout) is noticed before it is used; one
    that fails anyway is retried on a new connection when the request could not be sent, or
    for ``GET``/``HEAD`` when no answer came: whether a server acted on a ``POST`` whose
    connection then closed is unknowable.

    ``proxy`` (an ``http://host:port`` URL, optionally with ``user:password@``) routes
    every request through that proxy: absolute-form requests for ``http://`` targets, a
    ``CONNECT`` tunnel for ``https://`` ones. Without it no proxy is used at all, whatever
    ``HTTP_PROXY`` says, as with the official client. ``hint`` is appended to
    connection-failure messages. ``http.client`` is used directly rather than
    ``urllib.request``, which would add ``tempfile``, ``hashlib`` and the compression
    modules to every start (~7 ms) for features the SDK must not use (redirects, cookies).
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        proxy: str | None = None,
        hint: str = "",
    ) -> None:
        self.timeout = timeout
        self.proxy = proxy
        self.hint = hint
        self._idle: dict[str, http.client.HTTPConnection] = {}

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` and read the whole response body (at most ``MAX_BODY_BYTES``)."""
        import http.client

        try:
            make, target, extra = self._connect(request.url)
        except (OSError, ValueError, http.client.HTTPException) as error:
            raise LinkTransportError(
                request.method, request.url, _describe(error), self.hint
            ) from error
        parts = urlsplit(request.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        idle = self._idle.pop(origin, None)
        if idle is not None and _still_open(idle):
            try:
                return self._exchange(idle, origin, request, target, extra)
            except _StaleConnection as stale:
                if stale.sent and request.method not in ("GET", "HEAD"):
                    raise stale.error from None
        elif idle is not None:
            idle.close()
        try:
            fresh = make()
        except (OSError, ValueError) as error:
            raise LinkTransportError(
                request.method, request.url, _describe(error), self.hint
            ) from error
        try:
            return self._exchange(fresh, origin, request, target, extra)
        except _StaleConnection as stale:
            raise stale.error from None

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        origin: str,
        request: HttpRequest,
        target: str,
        extra: dict[str, str],
    ) -> HttpResponse:
        import http.client

        keep = False
        sent = False
        try:
            headers = {**extra, **request.headers}
            connection.request(request.method, target, body=request.body, headers=headers)
            sent = True
            raw = connection.getresponse()
            body = raw.read(MAX_BODY_BYTES + 1)
            if len(body) > MAX_BODY_BYTES:
                reason = f"response body larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB"
                raise LinkTransportError(request.method, request.url, reason, self.hint)
            if raw.length:  # read(n) stops quietly at EOF; bytes still owed = truncated
                reason = "connection closed before the whole response arrived"
                raise LinkTransportError(request.method, request.url, reason, self.hint)
            keep = not raw.will_close
            return HttpResponse(
                status=raw.status,
                reason=raw.reason or "",
                headers=list(raw.headers.items()),
                text=body.decode("utf-8", errors="replace"),
            )
        except (OSError, ValueError, http.client.HTTPException) as error:
            # ConnectionError, TimeoutError, socket.gaierror and ssl errors are OSErrors;
            # HTTPException covers truncated or malformed responses and bad URLs; ValueError,
            # header values http.client refuses to send.
            failure = LinkTransportError(request.method, request.url, _describe(error), self.hint)
            stale = isinstance(
                error, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
            )
            if stale and (not sent or isinstance(error, http.client.RemoteDisconnected)):
                raise _StaleConnection(failure, sent) from error
            raise failure from error
        finally:
            if keep:
                previous = self._idle.pop(origin, None)
                if previous is not None:
                    previous.close()
                self._idle[origin] = connection
            else:
                connection.close()

    def close(self) -> None:
        """Close the idle connections."""
        while self._idle:
            self._idle.popitem()[1].close()

    def _connect(
        self, url: str
    ) -> tuple[Callable[[], http.client.HTTPConnection], str, dict[str, str]]:
        """How to make an unopened connection for ``url`` (made only when no idle one serves:
        an HTTPS one loads the CA bundle), the request target and any proxy headers."""
        import http.client

        # Only http(s) URLs get here: base URLs are checked in _config.resolve_base_url.
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        origin_form = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not parts.hostname:
            raise http.client.InvalidURL(f"no host in {url!r}")
        if self.proxy is None:
            cls = http.client.HTTPSConnection if secure else http.client.HTTPConnection
            host, port, timeout = parts.hostname, parts.port, self.timeout
            return lambda: cls(host, port, timeout=timeout), origin_form, {}
        proxy = urlsplit(self.proxy)
        if not proxy.hostname:
            raise http.client.InvalidURL(f"no host in proxy URL {self.proxy!r}")
        auth: dict[str, str] = {}
        if proxy.username is not None:
            import base64

            pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}"
            auth["Proxy-Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        proxy_host, proxy_port, timeout = proxy.hostname, proxy.port or 80, self.timeout
        if secure:  # TLS end to end through a CONNECT tunnel, as urllib does
            host, port = parts.hostname, parts.port

            def tunnel() -> http.client.HTTPConnection:
                connection = http.client.HTTPSConnection(proxy_host, proxy_port, timeout=timeout)
                connection.set_tunnel(host, port, headers=auth)
                return connection

            return tunnel, origin_form, {}

        def plain() -> http.client.HTTPConnection:
            return http.client.HTTPConnection(proxy_host, proxy_port, timeout=timeout)

        return plain, f"{parts.scheme}://{parts.netloc}{origin_form}", auth


class _StaleConnection(Exception):
    """A request on a connection the server had already closed; ``error`` is what to raise
    when it cannot be retried, ``sent`` whether the whole request went out first."""

    def __init__(self, error: LinkTransportError, sent: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.sent = sent


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """False when an idle connection's socket is gone or readable (the server closed it, or
    sent something unasked): either way it cannot carry the next request."""
    import select

    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _describe(error: BaseException) -> str:
    """A short human reason for a transport failure (``Connection refused``, ``timed out``)."""
    if isinstance(error, TimeoutError):
        return "timed out"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def connection_hint(base_url: str, variable: str) -> str:
    """The sentence that tells the user which server did not answer and what to do."""
    if is_default_local_wallet(base_url):
        return (
            f"No Link wallet is answering at {base_url}. Start one with `link-wallet serve`, "
            f"or set {variable} to your wallet's URL."
        )
    return f"Could not reach {base_url} (from {variable}); check the URL and your network."


# --- the sans-I/O refresh rule -----------------------------------------------------------


class TokenNeeded(namedtuple("TokenNeeded", "force_refresh")):
    """Flow step: ask the driver for an access token."""

    __slots__ = ()
    force_refresh: bool


FlowStep = TokenNeeded | HttpRequest


def bearer_auth_flow(request: HttpRequest) -> Generator[FlowStep, Any, HttpResponse]:
    """Send ``request`` with a bearer token; on 401 refresh once and retry once (contract §6.6).

    Yields :class:`TokenNeeded` (send back the token string) and :class:`HttpRequest`
    (send back the :class:`HttpResponse`); returns the final response.
    """
    token: str = yield TokenNeeded(force_refresh=False)
    response: HttpResponse = yield request.with_header("Authorization", f"Bearer {token}")
    if response.status != 401:
        return response
    token = yield TokenNeeded(force_refresh=True)
    response = yield request.with_header("Authorization", f"Bearer {token}")
    return response


def run_flow(
    flow: Generator[FlowStep, Any, HttpResponse],
    get_token: Callable[[bool], str],
    send: Callable[[HttpRequest], HttpResponse],
) -> HttpResponse:
    """Drive ``flow`` synchronously with ``get_token(force_refresh)`` and ``send``."""
    step = next(flow)
    while True:
        reply: Any = get_token(step.force_refresh) if isinstance(step, TokenNeeded) else send(step)
        try:
            step = flow.send(reply)
        except StopIteration as finished:
            response: HttpResponse = finished.value
            return response


async def arun_flow(
    flow: Generator[FlowStep, Any, HttpResponse],
    get_token: Callable[[bool], Awaitable[str]],
    send: Callable[[HttpRequest], Awaitable[HttpResponse]],
) -> HttpResponse:
    """Drive ``flow`` from async code (e.g. an httpx2 transport) with awaitable callbacks."""
    step = next(flow)
    while True:
        reply: Any = await (
            get_token(step.force_refresh) if isinstance(step, TokenNeeded) else send(step)
        )
        try:
            step = flow.send(reply)
        except StopIteration as finished:
            response: HttpResponse = finished.value
            return response


# --- long-poll (docs/long-poll.md) ---------------------------------------------------------

PREFER = "Prefer"
MAX_WAIT_SECONDS = 25
"""The longest wait asked for: well inside the transport's timeout."""
WAITING_REFUSED = "too_many_waiting_requests"


def wait_for_interval(interval: float) -> int | None:
    """The ``Prefer: wait`` seconds for a poll every ``interval`` s (None below 1 s)."""
    seconds = int(min(interval, MAX_WAIT_SECONDS))
    return seconds if seconds >= 1 else None


def applied_wait(response: HttpResponse) -> int | None:
    """The seconds of ``Preference-Applied: wait=N``, or None."""
    for name, value in response.headers:
        if name.lower() != "preference-applied":
            continue
        for preference in value.split(","):
            key, _, seconds = preference.strip().partition("=")
            seconds = seconds.strip().strip('"')
            if key.strip().lower() == "wait" and seconds.isascii() and seconds.isdigit():
                return int(seconds)
    return None


def _refused_wait(response: HttpResponse) -> bool:
    body = response.json()
    if not isinstance(body, dict):
        return False
    error = body.get("error")
    code = error.get("code") if isinstance(error, dict) else error
    return code == WAITING_REFUSED


# --- the bound client --------------------------------------------------------------------


def encode_query(query: Query) -> str:
    """``?a=1&b=2`` from pairs, skipping ``None``; ``[]`` and ``,`` percent-encoded."""
    pairs = [
        (key, ("true" if value else "false") if isinstance(value, bool) else str(value))
        for key, value in query
        if value is not None
    ]
    return f"?{urlencode(pairs, quote_via=quote)}" if pairs else ""


def path_segment(value: str) -> str:
    """Percent-encode an id for use as one path segment (no ``/`` or ``..`` injection)."""
    return quote(value, safe="")


class HttpClient:
    """Requests against one base URL with the SDK's headers, auth rule and error mapping.

    ``get_token(force_refresh)`` supplies bearer tokens; pass ``None`` for unauthenticated
    endpoints (the OAuth server).
    """

    def __init__(
        self,
        base_url: str,
        transport: Transport,
        *,
        get_token: Callable[[bool], str] | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url
        self.transport = transport
        self.get_token = get_token
        self.default_headers = dict(default_headers or {})

    def build(
        self,
        method: str,
        path: str,
        *,
        query: Query = (),
        json_body: Any = None,
        form: Sequence[tuple[str, str]] | None = None,
    ) -> HttpRequest:
        """The request for ``method path``: headers, and a JSON or form body if given."""
        headers: dict[str, str] = {"User-Agent": USER_AGENT}
        for name, value in self.default_headers.items():
            if name.lower() not in {key.lower() for key in headers}:
                headers[name] = value
        body: bytes | None = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(list(form)).encode("ascii")
        elif json_body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        # Paths are appended as they are (contract §6.7): a trailing slash in the base gives "//".
        return HttpRequest(method, self.base_url + path + encode_query(query), headers, body)

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request``, adding the bearer token and the 401 rule when authenticated.

        A wallet that holds no more waiting requests refuses ``Prefer: wait`` with 429
        ``too_many_waiting_requests``; the request is then sent once more without it.
        """
        response = self._send(request)
        if response.status == 429 and PREFER in request.headers and _refused_wait(response):
            headers = {k: v for k, v in request.headers.items() if k != PREFER}
            response = self._send(request._replace(headers=headers))
        return response

    def _send(self, request: HttpRequest) -> HttpResponse:
        if self.get_token is None:
            return self.transport.send(request)
        return run_flow(bearer_auth_flow(request), self.get_token, self.transport.send)

    def call(
        self,
        method: str,
        path: str,
        *,
        family: str,
        operation: str,
        query: Query = (),
        json_body: Any = None,
        none_on_404: bool = False,
    ) -> Any:
        """Send and return the parsed JSON body of a 2xx answer.

        Non-2xx answers raise ``LinkApiError("Failed to <operation> (<status>): …")``
        (message per ``family``, contract §5.4) — except 404 when ``none_on_404``, which gives
        ``None``. A 2xx body that is not JSON is returned as ``None``.
        """
        body, _ = self.call_waiting(
            method,
            path,
            family=family,
            operation=operation,
            query=query,
            json_body=json_body,
            none_on_404=none_on_404,
        )
        return body

    def call_waiting(
        self,
        method: str,
        path: str,
        *,
        family: str,
        operation: str,
        query: Query = (),
        json_body: Any = None,
        none_on_404: bool = False,
        wait: int | None = None,
    ) -> tuple[Any, int | None]:
        """:meth:`call`, asking with ``Prefer: wait=<wait>`` (RFC 7240) that the server hold
        the answer while nothing changed; also returns the seconds the server says it applied
        (``Preference-Applied``), None when it answered without (any other server)."""
        request = self.build(method, path, query=query, json_body=json_body)
        if wait:
            request = request.with_header(PREFER, f"wait={int(wait)}")
        response = self.send(request)
        if none_on_404 and response.status == 404:
            return None, None
        if not response.ok:
            raise api_error(family, f"Failed to {operation}", response.status, response.text)
        return response.json(), (applied_wait(response) if wait else None)
