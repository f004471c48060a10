"""User info (contract §7.1 row 10)."""

from __future__ import annotations

from link_cli._sanitize import sanitize_deep
from link_cli.sdk._errors import ErrorFamily
from link_cli.sdk._http import HttpClient
from link_cli.sdk.resources._shapes import expect_object

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from link_cli.sdk.types import UserInfo


class UserInfoResource:
    """Who the token belongs to."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def retrieve(self) -> UserInfo:
        """``GET /userinfo`` → ``{email, name, first_name, last_name, phone}`` (sanitised)."""
        operation = "retrieve user info"
        body = self._http.call("GET", "/userinfo", family=ErrorFamily.ACCOUNT, operation=operation)
        user_info: UserInfo = sanitize_deep(expect_object(body, operation))
        return user_info
