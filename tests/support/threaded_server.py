"""One way to run a small stub HTTP server in a thread for the length of a block."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# serve_forever checks for shutdown this often; the default 0.5 s would be paid by every test.
POLL_INTERVAL_SECONDS = 0.05
JOIN_TIMEOUT_SECONDS = 10.0


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[None]:
    """Serve ``server`` in a daemon thread; shut it down and close it when the block ends."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL_SECONDS}, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=JOIN_TIMEOUT_SECONDS)
