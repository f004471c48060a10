"""Agent observations, the ``report`` command (contract §3.16, §7.1 row 14)."""

from __future__ import annotations

from collections.abc import Mapping

from link_cli._sanitize import sanitize_deep
from link_cli.sdk._errors import ErrorFamily
from link_cli.sdk._http import HttpClient
from link_cli.sdk.resources._shapes import expect_object

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.sdk.types import ReportRecord


class Reports:
    """Tell Link how a checkout went."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def create(self, body: Mapping[str, Any]) -> ReportRecord:
        """``POST /agent_observations`` with ``{domain, outcome, spend_request_id, tags?, …}``."""
        operation = "create report"
        response = self._http.call(
            "POST",
            "/agent_observations",
            family=ErrorFamily.REPORT,
            operation=operation,
            json_body=dict(body),
        )
        report: ReportRecord = sanitize_deep(expect_object(response, operation))
        return report
