"""Offering large request bodies to a real wallet over a raw socket, and its memory peak.

``offer_body`` sends the head, then the body in chunks (chunked or with a Content-Length),
and stops as soon as the wallet answers or closes the connection, so a wallet that refuses
early is never sent the rest.
"""

from __future__ import annotations

import contextlib
import select
import socket
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024


@dataclass
class Offered:
    """What came back: the status (0 when the connection closed without one), head and body
    text, and how many body bytes the wallet accepted before answering."""

    status: int
    response: str
    sent: int


def reset_peak_rss(pid: int) -> None:
    """Reset the process's ``VmHWM`` to its current RSS (Linux ``clear_refs`` value 5), so
    one process can measure the peak of several offerings, each on its own."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def vm_hwm_kib(pid: int) -> int:
    """The process's peak resident set size (``VmHWM``) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc status")


def offer_body(
    port: int,
    path: str,
    total: int,
    *,
    chunked: bool,
    declared: int | None = None,
    send_body: bool = True,
    host: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Offered:
    """POST ``total`` bytes of ``a`` to ``path``; stop when the wallet answers or hangs up."""
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: {host or f'127.0.0.1:{port}'}",
        "Content-Type: application/x-www-form-urlencoded",
        "Accept: application/json",
    ]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    else:
        head.append(f"Content-Length: {total if declared is None else declared}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sent = 0
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("ascii"))
        block = b"a" * CHUNK
        while send_body and sent < total:
            if _readable(sock):
                break
            size = min(CHUNK, total - sent)
            data = block[:size]
            frame = b"%x\r\n%s\r\n" % (size, data) if chunked else data
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += size
        else:
            if send_body and chunked:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(b"0\r\n\r\n")
        return Offered(*_read_response(sock), sent=sent)
    finally:
        sock.close()


def _readable(sock: socket.socket) -> bool:
    ready, _, _ = select.select([sock], [], [], 0)
    return bool(ready)


def _read_response(sock: socket.socket) -> tuple[int, str]:
    data = b""
    try:
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
            if _complete(data):
                break
    except (ConnectionResetError, TimeoutError):
        pass
    text = data.decode("latin-1")
    parts = text.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return status, text


def _complete(data: bytes) -> bool:
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False
