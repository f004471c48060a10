"""The errors a link-cli command can end with (contract §5.3).

Every failure a user or agent sees is one of these. Handlers raise them; only
``link_cli.cli.main`` (and later the MCP adapter) catches them and renders the
``{code, message, retryable?, fieldErrors?, cta?}`` object of contract §5.1.

    LinkError                      code chosen by the subclass
    ├── NotAuthenticated           NOT_AUTHENTICATED (+ "auth login" suggestion)
    ├── InvalidInput               INVALID_INPUT
    ├── NotFound                   NOT_FOUND
    ├── PollingTimeout             POLLING_TIMEOUT, retryable
    ├── OutputFileExists           OUTPUT_FILE_EXISTS
    ├── OutputFileWriteError       OUTPUT_FILE_WRITE_ERROR
    ├── ApiErrorWithUrl            api_error (verification / support URL)
    ├── DuplicateSpendRequest      the body's error.code (spend_request_rate_limited)
    ├── InvalidResponse            INVALID_RESPONSE
    ├── NoPaymentMethod            NO_PAYMENT_METHOD
    ├── RequiresTty                REQUIRES_TTY
    ├── ValidationError            VALIDATION_ERROR (+ fieldErrors)
    ├── CommandNotFound            COMMAND_NOT_FOUND
    └── Unknown                    UNKNOWN (every other thrown error)

A subclass's code is derived from its name (``PollingTimeout`` → ``POLLING_TIMEOUT``)
unless it sets ``code`` explicitly.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = [
    "ApiErrorWithUrl",
    "CommandNotFound",
    "DuplicateSpendRequest",
    "InvalidInput",
    "InvalidResponse",
    "LinkError",
    "NoPaymentMethod",
    "NotAuthenticated",
    "NotFound",
    "OutputFileExists",
    "OutputFileWriteError",
    "PollingTimeout",
    "RequiresTty",
    "Unknown",
    "ValidationError",
    "make_cta",
]

NOT_AUTHENTICATED_MESSAGE = 'Not authenticated. Run "link-cli auth login" first.'


def _derive_code(class_name: str) -> str:
    """``PollingTimeout`` → ``POLLING_TIMEOUT`` (no ``re``: this module is on every path)."""
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(class_name)).upper()


def make_cta(*commands: tuple[str, str | None], description: str | None = None) -> dict[str, Any]:
    """Build a call-to-action object (contract §5.1); commands get the ``link-cli `` prefix."""
    entries = []
    for command, help_text in commands:
        entry: dict[str, Any] = {"command": f"link-cli {command}"}
        if help_text:
            entry["description"] = help_text
        entries.append(entry)
    if description is None:
        description = "Suggested command:" if len(entries) == 1 else "Suggested commands:"
    return {"description": description, "commands": entries}


class LinkError(Exception):
    """A failure with a stable machine-readable code and a human message."""

    code: ClassVar[str] = "UNKNOWN"
    default_retryable: ClassVar[bool | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = _derive_code(cls.__name__)

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool | None = None,
        field_errors: list[dict[str, Any]] | None = None,
        cta: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # instance override (duplicate spend request, main's mapping)
        self.retryable = self.default_retryable if retryable is None else retryable
        self.field_errors = field_errors
        self.cta = cta

    def to_dict(self, *, include_cta: bool = True) -> dict[str, Any]:
        """The agent-facing error object, keys in the order of contract §5.1."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.retryable is not None:
            body["retryable"] = self.retryable
        if self.field_errors is not None:
            body["fieldErrors"] = self.field_errors
        if include_cta and self.cta is not None:
            body["cta"] = self.cta
        return body


class NotAuthenticated(LinkError):
    """No stored credentials and no LINK_ACCESS_TOKEN; raised before any request."""

    def __init__(self, message: str = NOT_AUTHENTICATED_MESSAGE) -> None:
        super().__init__(message, cta=make_cta(("auth login", "Log in to Link")))


class InvalidInput(LinkError):
    """A command-specific input rule was broken (checked before any network call)."""


class NotFound(LinkError):
    """The requested object does not exist (HTTP 404)."""


class PollingTimeout(LinkError):
    """Polling hit --max-attempts or --timeout before a terminal status."""

    default_retryable = True


class OutputFileExists(LinkError):
    """--output-file names an existing entry and --force was not given."""


class OutputFileWriteError(LinkError):
    """--output-file could not be written (symlink, permissions, missing directory)."""


class ApiErrorWithUrl(LinkError):
    """An API error that carries a verification or support URL for the user."""

    code = "api_error"


class DuplicateSpendRequest(LinkError):
    """A matching spend request already exists; its code comes from the response body."""

    code = "spend_request_rate_limited"


class InvalidResponse(LinkError):
    """A server answered with something the protocol does not allow."""


class NoPaymentMethod(LinkError):
    """The account has no payment method to pay with."""


class RequiresTty(LinkError):
    """The command is interactive and stdout is not a terminal."""


class ValidationError(LinkError):
    """Arguments violate the command's schema; carries ``fieldErrors`` (contract §5.2)."""


class CommandNotFound(LinkError):
    """The command path names no command."""

    token: str | None = None
    """The word that named no command (``meta.command`` of the ``--full-output`` envelope)."""


class Unknown(LinkError):
    """Any other failure; the message is the underlying error's message."""

    code = "UNKNOWN"
