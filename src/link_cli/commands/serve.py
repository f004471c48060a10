"""`link-cli serve`: expose link-cli as an MCP endpoint over HTTP (contract §3.19, §9.5).

Only the declaration lives here; the handler is ``link_cli.mcp.http.serve_command``, beside
the server it starts: the MCP adapter sits above the commands, and it is imported only when
the command runs, so that nothing else pays for the MCP SDK.
"""

from __future__ import annotations

from link_cli.commands._spec import Command, Option

COMMANDS = (
    Command(
        path=("serve",),
        description="Start an HTTP server exposing link-cli as an MCP endpoint at /mcp",
        handler="link_cli.mcp.http:serve_command",
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
