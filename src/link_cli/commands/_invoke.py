"""Run a declared command: validate, apply its auth policy, call its handler.

Shared by the CLI (``cli/main.py``) and the MCP adapter so both apply exactly the same
rules. A streaming command's handler is a generator; its errors surface while iterating.
"""

from __future__ import annotations

from link_cli.commands import load_handler
from link_cli.commands._context import Context
from link_cli.commands._spec import Command, validate

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def invoke(command: Command, raw: Mapping[str, Any], ctx: Context) -> Any:
    """Apply the auth middleware, validate ``raw``, then call the handler.

    As in incur, ``middleware`` commands fail with NOT_AUTHENTICATED first, before their
    arguments are even validated and before any request; ``guard`` commands check inside
    their handler, after validation and their own input rules.
    """
    if command.auth == "middleware":
        ctx.require_auth()
    params = validate(command, raw)
    return load_handler(command)(params, ctx)
