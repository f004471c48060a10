"""`link-cli serve`: expose link-cli as an MCP endpoint over HTTP (contract §3.19, §9.5).

Only the declaration lives here; the server is ``link_cli.mcp.http``, imported when the
command runs so that nothing else pays for the MCP SDK.
"""

from __future__ import annotations

from link_cli.commands._spec import Command, Option

TYPE_CHECKING = False  # keep `typing` off the start-up path
if TYPE_CHECKING:
    from typing import Any

COMMANDS = (
    Command(
        path=("serve",),
        description="Start an HTTP server exposing link-cli as an MCP endpoint at /mcp",
        handler="link_cli.commands.serve:run",
        options=(
            Option(
                "port",
                "integer",
                default=54321,
                minimum=0,
                maximum=65535,
                help="Port to listen on (0 picks a free one; the listening line shows it)",
            ),
            Option(
                "host",
                default="127.0.0.1",
                help="Address to bind; anything but loopback exposes your Link session",
            ),
        ),
        agent_only=False,
    ),
)


def run(params: dict[str, Any], ctx: Any) -> None:
    """Serve until interrupted; a port already in use is a command error."""
    from link_cli.mcp.http import serve

    if ctx.auth_given and ctx.auth_path:
        import os

        os.environ["LINK_AUTH_FILE"] = ctx.auth_path  # tools use the same session (contract §9.5)
    serve(params["host"], int(params["port"]))
