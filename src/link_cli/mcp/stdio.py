"""`link-cli --mcp`: the MCP server on stdin/stdout (contract §9.4).

Newline-delimited JSON-RPC on the process's own stdin and stdout. While it runs the SDK
points fd 1 at stderr, so nothing a handler prints can corrupt the protocol stream.
"""

from __future__ import annotations

import contextlib


async def _serve() -> None:
    from mcp.server.stdio import stdio_server

    from link_cli.mcp.server import build_server

    server = build_server()
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def main() -> int:
    """Serve MCP on stdio until the client closes stdin; returns the exit code."""
    import anyio

    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(_serve)
    return 0
