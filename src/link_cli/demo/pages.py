"""Read HTML pages and submit their forms over plain HTTP, the way a browser would.

The demo plays two people who only ever see web pages: the wallet's owner (sign in,
approve a device, approve a purchase) and the agent typing a card into a shop's checkout.
Both go through the real pages with real form posts, so this module needs just enough of a
browser: a cookie jar, redirects, a parser that finds a form's action, method and fields
(hidden ones included, which is how the CSRF token travels), and one that reads the
elements a page marks with an ``id``. Stdlib only, so the demo adds nothing to the CLI's
dependencies. The tests' simulated person reads the wallet's forms with the same parser.
"""

from __future__ import annotations

import http.cookiejar
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["ElementsById", "Form", "FormBrowser", "HttpPage", "elements_by_id", "parse_forms"]

# Input types a browser never sends as a field (an image button is sent only when clicked).
_NOT_SENT = frozenset({"button", "reset", "file", "image"})

# Pages are small; anything bigger is not the page we expect and is not worth holding.
_MAX_PAGE_BYTES = 2 * 1024 * 1024
_TIMEOUT_SECONDS = 30.0


@dataclass
class Form:
    """One ``<form>``: where it posts, how, and the current value of each named field."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    # Submit buttons are kept apart: only the one clicked is sent.
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def has_field(self, name: str) -> bool:
        """True when the form has an input (or select/textarea) called ``name``."""
        return name in self.fields


class _FormParser(HTMLParser):
    """Collects the forms of a page; inputs outside any form are ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._current: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._current = Form(
                action=attributes.get("action", ""),
                method=(attributes.get("method") or "get").lower(),
            )
            self.forms.append(self._current)
            return
        form = self._current
        if form is None:
            return
        name = attributes.get("name")
        if tag == "button" and name:
            if attributes.get("type", "submit").lower() == "submit":
                form.buttons.append((name, attributes.get("value", "")))
        elif tag == "input" and name:
            kind = attributes.get("type", "text").lower()
            if kind == "submit":
                form.buttons.append((name, attributes.get("value", "")))
            elif kind in _NOT_SENT:
                return
            elif kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    form.fields[name] = attributes.get("value", "on")
            else:
                form.fields[name] = attributes.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            form.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
            form.fields.setdefault(name, "")
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            if "selected" in attributes or not form.fields.get(self._select):
                form.fields[self._select] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._current is not None and self._textarea is not None:
            self._current.fields[self._textarea] += data


def parse_forms(html: str) -> list[Form]:
    """Every form of ``html``, in page order, with its fields' initial values."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


@dataclass(frozen=True)
class ElementsById:
    """The text and the attributes of each element of a page that carries an ``id``."""

    text: dict[str, str]
    attributes: dict[str, dict[str, str]]


class _ElementFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = ElementsById(text={}, attributes={})
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        element_id = attributes.get("id")
        if element_id:
            self.found.attributes[element_id] = attributes
            self.found.text.setdefault(element_id, "")
        if tag not in _VOID_TAGS:
            self._open.append((tag, element_id))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self.found.text[element_id] += data


_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


def elements_by_id(html: str) -> ElementsById:
    """Each element of ``html`` that has an ``id``: its text (nested text too), its attributes."""
    finder = _ElementFinder()
    finder.feed(html)
    finder.close()
    return finder.found


@dataclass(frozen=True)
class HttpPage:
    """A response as the demo needs it: final URL after redirects, status, headers, text."""

    url: str
    status: int
    headers: dict[str, str]
    text: str

    def forms(self) -> list[Form]:
        """The page's forms (see :func:`parse_forms`)."""
        return parse_forms(self.text)

    def elements(self) -> ElementsById:
        """The page's elements that carry an ``id`` (see :func:`elements_by_id`)."""
        return elements_by_id(self.text)

    def form_with(self, *field_names: str) -> Form:
        """The first form that has all of ``field_names``; ``LookupError`` when none does."""
        for form in self.forms():
            if all(form.has_field(name) for name in field_names):
                return form
        raise LookupError(f"no form with fields {', '.join(field_names)} on {self.url}")


class _KeepErrorStatus(urllib.request.HTTPErrorProcessor):
    """Hand 4xx/5xx responses back like any other, so callers read their pages.

    Redirects (3xx) still go to the redirect handler, as the base class arranges.
    """

    def http_response(self, request, response):  # type: ignore[no-untyped-def]
        if response.status >= 400:
            return response
        return super().http_response(request, response)

    https_response = http_response


class FormBrowser:
    """A minimal browser: cookies, redirects, GET pages and submit their forms."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            # Loopback servers only: an http_proxy setting must not reroute them.
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(self.cookies),
            urllib.request.HTTPRedirectHandler(),
            _KeepErrorStatus(),
        )

    def get(self, url: str, *, headers: dict[str, str] | None = None) -> HttpPage:
        """GET ``url`` (following redirects) and return the final page."""
        return self._send(_http_request(url, method="GET", headers=headers))

    def request(
        self,
        url: str,
        *,
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpPage:
        """Send any request; used to probe a paid endpoint and read its 402."""
        return self._send(_http_request(url, method=method, body=body, headers=headers))

    def submit(
        self,
        page: HttpPage,
        form: Form,
        values: dict[str, str] | None = None,
        *,
        button: tuple[str, str] | None = None,
    ) -> HttpPage:
        """Post ``form`` from ``page`` with ``values`` overriding its fields.

        ``button`` is the submit button pressed, as ``(name, value)``; when it is omitted
        and ``values`` does not already set a button's name, nothing extra is sent, as when
        a person presses Enter in a field.
        """
        data = dict(form.fields)
        data.update(values or {})
        if button is not None:
            data[button[0]] = button[1]
        target = urllib.parse.urljoin(page.url, form.action or page.url)
        encoded = urllib.parse.urlencode(data)
        # Same-origin form posts carry an Origin header in every browser; CSRF checks use it.
        origin = _origin_of(target)
        if form.method == "post":
            request = _http_request(
                target,
                body=encoded.encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": origin,
                    "Referer": page.url,
                },
                method="POST",
            )
        else:
            separator = "&" if urllib.parse.urlsplit(target).query else "?"
            request = _http_request(f"{target}{separator}{encoded}", method="GET")
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> HttpPage:
        with self._opener.open(request, timeout=_TIMEOUT_SECONDS) as response:
            raw = response.read(_MAX_PAGE_BYTES + 1)
            if len(raw) > _MAX_PAGE_BYTES:
                raise ValueError(f"response from {request.full_url} is larger than expected")
            charset = response.headers.get_content_charset() or "utf-8"
            return HttpPage(
                url=response.geturl(),
                status=response.status,
                headers={name.lower(): value for name, value in response.headers.items()},
                text=raw.decode(charset, errors="replace"),
            )


def _http_request(
    url: str,
    *,
    method: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> urllib.request.Request:
    """A request for an http(s) URL; any other scheme (``file:``) is refused."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"only http and https URLs are followed, not {url!r}")
    return urllib.request.Request(url, data=body, headers=headers or {}, method=method)  # noqa: S310


def _origin_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
