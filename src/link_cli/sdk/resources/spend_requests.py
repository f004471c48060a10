"""Spend requests (contract §7.1 rows 1–7)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from link_cli.sdk._errors import ErrorFamily
from link_cli.sdk._http import HttpClient, path_segment
from link_cli.sdk.resources._shapes import expect_list, expect_object, normalize_spend_request

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.sdk.types import SpendRequest

_FAMILY = ErrorFamily.SPEND_REQUEST


class SpendRequests:
    """Create, update, approve-request, cancel, list and retrieve spend requests.

    Every result is sanitised and a legacy string ``shared_payment_token`` comes back as
    ``{"id": ...}``. Errors: ``LinkApiError("Failed to <op> (<status>): <message>")``.
    """

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def list(self, include_history: bool = False) -> list[SpendRequest]:
        """``GET /spend_requests[?include_history=true]`` → the ``data`` array (or ``[]``)."""
        operation = "list spend requests"
        body = self._http.call(
            "GET",
            "/spend_requests",
            family=_FAMILY,
            operation=operation,
            query=[("include_history", "true" if include_history else None)],
        )
        return [normalize_spend_request(item) for item in expect_list(body, "data", operation)]

    def create(self, body: Mapping[str, Any], delegated: bool = False) -> SpendRequest:
        """``POST /spend_requests`` (or ``/spend_requests/create_delegated`` when ``delegated``).

        ``body`` is a CreateSpendRequest (contract §7.3); an ``approve`` key is never sent.
        """
        payload = {key: value for key, value in body.items() if key != "approve"}
        path = "/spend_requests/create_delegated" if delegated else "/spend_requests"
        return self._one("POST", path, "create spend request", payload)

    def update(self, spend_request_id: str, body: Mapping[str, Any]) -> SpendRequest:
        """``POST /spend_requests/{id}`` with an UpdateSpendRequest body (contract §7.4)."""
        path = f"/spend_requests/{path_segment(spend_request_id)}"
        return self._one("POST", path, "update spend request", dict(body))

    def request_approval(self, spend_request_id: str) -> SpendRequest:
        """``POST /spend_requests/{id}/request_approval`` (no body) → ``{id, approval_link, …}``."""
        path = f"/spend_requests/{path_segment(spend_request_id)}/request_approval"
        return self._one("POST", path, "request approval", None)

    def cancel(self, spend_request_id: str) -> SpendRequest:
        """``POST /spend_requests/{id}/cancel`` with no body and no Content-Type."""
        path = f"/spend_requests/{path_segment(spend_request_id)}/cancel"
        return self._one("POST", path, "cancel spend request", None)

    def retrieve(self, spend_request_id: str, include: Iterable[str] = ()) -> SpendRequest | None:
        """``GET /spend_requests/{id}[?include=a%2Cb]``; ``None`` when the server says 404.

        ``include`` names expansions such as ``card``, ``shared_payment_token`` or
        ``link_pay_token``; secrets only come back once the request is approved.
        """
        operation = "retrieve spend request"
        joined = ",".join(include)
        body = self._http.call(
            "GET",
            f"/spend_requests/{path_segment(spend_request_id)}",
            family=_FAMILY,
            operation=operation,
            query=[("include", joined or None)],
            none_on_404=True,
        )
        if body is None:
            return None
        return normalize_spend_request(expect_object(body, operation))

    def retrieve_waiting(
        self, spend_request_id: str, include: Iterable[str] = (), *, wait: int | None = None
    ) -> tuple[SpendRequest | None, int | None]:
        """:meth:`retrieve`, asking the server to hold the answer up to ``wait`` seconds while
        the request is still created or pending (``Prefer: wait``, docs/long-poll.md).

        Returns the request (None on 404) and the wait the server applied, or None when it
        answered at once without saying so (the official service): then poll as usual.
        """
        operation = "retrieve spend request"
        joined = ",".join(include)
        body, applied = self._http.call_waiting(
            "GET",
            f"/spend_requests/{path_segment(spend_request_id)}",
            family=_FAMILY,
            operation=operation,
            query=[("include", joined or None)],
            none_on_404=True,
            wait=wait,
        )
        if body is None:
            return None, applied
        return normalize_spend_request(expect_object(body, operation)), applied

    def _one(self, method: str, path: str, operation: str, payload: Any) -> SpendRequest:
        body = self._http.call(method, path, family=_FAMILY, operation=operation, json_body=payload)
        return normalize_spend_request(expect_object(body, operation))
