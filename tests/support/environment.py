"""The environment tests run in and hand to child processes.

* :data:`HOME_VARIABLES` point at a temporary directory for every test (tests/conftest.py), so
  nothing reads or writes a real ``~/.config/link-cli``;
* :func:`clean_env` is the environment of a child process: the current one without any
  ``LINK_*`` variable from outside, plus what the test sets;
* :func:`outer_env` is the environment pytest started with, for tools that need the real home
  (npm installing the Node interop peers into the user's cache).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_OUTER_ENVIRON = dict(os.environ)

HOME_VARIABLES = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


def home_layout(directory: Path) -> dict[str, str]:
    """``HOME`` and the XDG base directories inside ``directory`` (created)."""
    home = directory / "home"
    layout = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_STATE_HOME": home / ".local" / "state",
    }
    for path in layout.values():
        path.mkdir(parents=True, exist_ok=True)
    return {name: str(path) for name, path in layout.items()}


def clean_env(
    extra: Mapping[str, str] | None = None, *, drop_prefixes: tuple[str, ...] = ("LINK_",)
) -> dict[str, str]:
    """The current environment without variables starting with ``drop_prefixes``, plus
    ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes)}
    env.update(extra or {})
    return env


def outer_env() -> dict[str, str]:
    """The environment pytest was started with (real home, ``LINK_*`` included)."""
    return dict(_OUTER_ENVIRON)


def node_peers_dir() -> Path:
    """Where scripts/install-node-peers.sh puts the Node interop peers by default."""
    configured = _OUTER_ENVIRON.get("LINK_NODE_PEERS_DIR")
    if configured:
        return Path(configured)
    home = _OUTER_ENVIRON.get("HOME") or str(Path.home())
    cache = _OUTER_ENVIRON.get("XDG_CACHE_HOME") or str(Path(home) / ".cache")
    return Path(cache) / "link-cli-node-peers"
