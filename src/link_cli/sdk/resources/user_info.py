"""User info (reference §7.1 row 10)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from link_cli._sanitize import sanitize_deep
from link_cli.sdk._errors import ErrorFamily
from link_cli.sdk._http import HttpClient
from link_cli.sdk.resources._shapes import expect_object

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
        return cast("UserInfo", sanitize_deep(expect_object(body, operation)))
