"""Two processes refreshing the same credentials at once must not lose the rotated token.

The stub auth server rotates refresh tokens and rejects any it already rotated (as a real
one with refresh-token rotation does). It holds the first refresh open until the other
process has found the credentials lock taken, so the test proves the two overlapped inside
the refresh window instead of hoping a delay made them. Each process is a real interpreter
using the real SDK.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.sdk.stub import RecordedRequest, StubResponse, StubServer

from link_cli.sdk import TokenStore

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_BOUND_SECONDS = 20.0

CHILD = r"""
import fcntl, os, sys, time
from link_cli.sdk import LinkClient
base, auth_file, ready, go, blocked = sys.argv[1:6]
client = LinkClient(api_base_url=base, auth_base_url=base, auth_file=auth_file, env={})
client.token_store.get_auth()           # warm up: imports and the first read
store = client.token_store
acquire = store._acquire_file_lock

def acquire_noting_contention():
    # Record that another process holds the lock at the moment this one asks for it.
    probe = os.open(f"{store.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        open(blocked, "w").close()
    finally:
        os.close(probe)
    return acquire()

store._acquire_file_lock = acquire_noting_contention
open(ready, "w").close()
deadline = time.monotonic() + 20
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.005)
print([m["id"] for m in client.payment_methods.list()])
"""


class RotatingAuthServer:
    """Rotates refresh tokens; each refresh waits until a child reported lock contention."""

    def __init__(self, blocked_markers: list[Path]) -> None:
        self.lock = threading.Lock()
        self.generation = 1
        self.rejected: list[str] = []
        self.refreshes = 0
        self.blocked_markers = blocked_markers
        self.overlapped: list[bool] = []

    def _wait_for_contention(self) -> bool:
        deadline = time.monotonic() + WAIT_BOUND_SECONDS
        while time.monotonic() < deadline:
            if any(marker.exists() for marker in self.blocked_markers):
                return True
            time.sleep(0.01)
        return False

    def __call__(self, request: RecordedRequest) -> StubResponse:
        if request.path == "/device/token":
            form = dict(request.form())
            # The refreshing child holds the credentials lock for as long as this answer takes.
            self.overlapped.append(self._wait_for_contention())
            with self.lock:
                if form.get("refresh_token") != f"rt_{self.generation}":
                    self.rejected.append(form.get("refresh_token", ""))
                    return StubResponse.json(
                        {"error": "invalid_grant", "error_description": "rotated"}, 400
                    )
                self.generation += 1
                self.refreshes += 1
                generation = self.generation
            return StubResponse.json(
                {
                    "access_token": f"at_{generation}",
                    "refresh_token": f"rt_{generation}",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }
            )
        with self.lock:
            current = f"Bearer at_{self.generation}"
        if request.header("Authorization") != current:
            return StubResponse.json({"error": "invalid_token"}, 401)
        return StubResponse.json({"payment_details": [{"id": "csmrpd_1"}]})


def wait_for(paths: list[Path]) -> None:
    deadline = time.monotonic() + WAIT_BOUND_SECONDS
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline, "children never became ready"
        time.sleep(0.01)


def test_concurrent_refresh_keeps_a_working_token_in_both_processes(stub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocked = [tmp_path / f"blocked{i}" for i in range(2)]
    auth_server = RotatingAuthServer(blocked)
    server: StubServer = stub(auth_server)
    auth_file = tmp_path / "creds.json"
    TokenStore(auth_file).set_auth(
        {
            "access_token": "at_1",
            "refresh_token": "rt_1",
            "token_type": "Bearer",
            "expires_in": 3600,
            "expires_at": 0,  # long expired: both processes want to refresh
        }
    )
    go = tmp_path / "go"
    readies = [tmp_path / f"ready{i}" for i in range(2)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, server.url, str(auth_file), str(ready), str(go), str(b)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for ready, b in zip(readies, blocked, strict=True)
    ]
    try:
        wait_for(readies)
        go.touch()
        results = [child.communicate(timeout=WAIT_BOUND_SECONDS) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
        assert out.strip() == "['csmrpd_1']"
    assert auth_server.overlapped == [True], "the second process never waited for the lock"
    assert auth_server.rejected == []
    assert auth_server.refreshes == 1
    stored = json.loads(auth_file.read_text())["auth"]
    assert stored["refresh_token"] == f"rt_{auth_server.generation}"
    assert stored["access_token"] == f"at_{auth_server.generation}"
