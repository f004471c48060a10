"""RFC 9457 problem details for payment errors (mpp §1.6).

Bodies are ``application/problem+json`` with `type`, `title`, `status`, `detail` and, as both
SDKs add, `challengeId`. Clients key on `type`, never on `detail` text.
"""

from __future__ import annotations

import json
from enum import Enum

from link_cli._records import frozen_record
from link_cli.mpp import _wire
from link_cli.mpp.errors import MppParseError

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["PROBLEM_BASE", "PROBLEM_CONTENT_TYPE", "Problem", "ProblemType", "parse_problem"]

PROBLEM_BASE = "https://paymentauth.org/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemType(Enum):
    """Known problem types: (slug, title, HTTP status)."""

    PAYMENT_REQUIRED = ("payment-required", "Payment Required", 402)
    PAYMENT_INSUFFICIENT = ("payment-insufficient", "Payment Insufficient", 402)
    PAYMENT_EXPIRED = ("payment-expired", "Payment Expired", 402)
    VERIFICATION_FAILED = ("verification-failed", "Verification Failed", 402)
    METHOD_UNSUPPORTED = ("method-unsupported", "Method Unsupported", 400)
    MALFORMED_CREDENTIAL = ("malformed-credential", "Malformed Credential", 402)
    INVALID_CHALLENGE = ("invalid-challenge", "Invalid Challenge", 402)
    INVALID_PAYLOAD = ("invalid-payload", "Invalid Payload", 402)
    BAD_REQUEST = ("bad-request", "Bad Request", 400)
    PAYMENT_ACTION_REQUIRED = ("payment-action-required", "Payment Action Required", 402)
    INTERNAL_PAYMENT_ERROR = ("internal-payment-error", "Internal Payment Error", 500)

    @property
    def slug(self) -> str:
        """The last path segment of the type URI."""
        return self.value[0]

    @property
    def uri(self) -> str:
        """The full `type` URI."""
        return PROBLEM_BASE + self.value[0]

    @property
    def title(self) -> str:
        """Human title."""
        return self.value[1]

    @property
    def status(self) -> int:
        """The HTTP status that goes with this problem."""
        return self.value[2]


@frozen_record
class Problem:
    """One problem document. `type` is a URI; known ones come from :class:`ProblemType`."""

    type: str
    title: str
    status: int
    detail: str = ""
    challenge_id: str | None = None

    @classmethod
    def of(cls, kind: ProblemType, detail: str = "", challenge_id: str | None = None) -> Problem:
        """A problem of a known type."""
        return cls(kind.uri, kind.title, kind.status, detail, challenge_id)

    @property
    def kind(self) -> ProblemType | None:
        """The known type, or None for a foreign one."""
        return next((kind for kind in ProblemType if kind.uri == self.type), None)

    def to_json(self) -> dict[str, Any]:
        """The JSON body."""
        out: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.challenge_id is not None:
            out["challengeId"] = self.challenge_id
        return out

    def to_body(self) -> bytes:
        """The encoded body, to send with :data:`PROBLEM_CONTENT_TYPE`."""
        return json.dumps(self.to_json(), separators=(",", ":")).encode("utf-8")


def parse_problem(body: bytes | str) -> Problem:
    """Read a problem+json body; `type` is required, other members get defaults."""
    data = _wire.loads_object(body)
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise MppParseError("Problem type must be a non-empty string.")
    title, status, detail = data.get("title", ""), data.get("status", 0), data.get("detail", "")
    challenge_id = data.get("challengeId")
    if not isinstance(title, str) or not isinstance(detail, str):
        raise MppParseError("Problem title and detail must be strings.")
    if isinstance(status, bool) or not isinstance(status, int):
        raise MppParseError("Problem status must be an integer.")
    if challenge_id is not None and not isinstance(challenge_id, str):
        raise MppParseError("Problem challengeId must be a string.")
    return Problem(kind, title, status, detail, challenge_id)
