"""JSON Lines for plain values: one compact line per array element, or one for an object."""

from __future__ import annotations

from link_cli.cli.render.json import compact

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def encode(value: Any) -> str:
    """Arrays → one line per element; anything else → one line (contract §2.1)."""
    if isinstance(value, list):
        return "\n".join(compact(item) for item in value)
    return compact(value)
