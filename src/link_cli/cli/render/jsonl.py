"""JSON Lines for plain values: one compact line per array element, or one for an object."""

from __future__ import annotations

from typing import Any

from link_cli.cli.render.json import compact


def encode(value: Any) -> str:
    """Arrays → one line per element; anything else → one line (§2.1)."""
    if isinstance(value, list):
        return "\n".join(compact(item) for item in value)
    return compact(value)
