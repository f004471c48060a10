"""The demo's server supervisor: start-up failures are explained and nothing is left behind."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from link_cli.demo.processes import (
    ProcessStartError,
    ServerSupervisor,
    free_loopback_port,
)

pytestmark = pytest.mark.server  # starts server processes itself


def start(supervisor: ServerSupervisor, code: str, timeout: float) -> None:
    url = f"http://127.0.0.1:{free_loopback_port()}"
    supervisor.start(
        "server",
        [sys.executable, "-c", code],
        base_url=url,
        env={},
        health_path="/healthz",
        timeout_seconds=timeout,
    )


def test_a_server_that_dies_says_so_with_its_log(tmp_path: Path) -> None:
    supervisor = ServerSupervisor(log_dir=tmp_path)
    with pytest.raises(ProcessStartError) as caught:
        start(supervisor, "import sys; print('port already in use'); sys.exit(3)", 30)
    assert caught.value.exited is True
    assert "exited with status 3" in str(caught.value)
    assert "port already in use" in str(caught.value)
    assert supervisor.servers == []


def test_a_server_that_never_answers_is_stopped_and_not_worth_a_retry(tmp_path: Path) -> None:
    supervisor = ServerSupervisor(log_dir=tmp_path)
    with pytest.raises(ProcessStartError) as caught:
        start(supervisor, "import time; print('stuck', flush=True); time.sleep(60)", 0.5)
    assert caught.value.exited is False
    assert "did not answer" in str(caught.value)
    assert supervisor.servers == []  # stopped (SIGTERM to its group) before the error
