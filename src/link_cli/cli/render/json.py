"""``JSON.stringify(value, null, 2)``: 2-space indent, ``undefined`` keys dropped."""

from __future__ import annotations

import json

from link_cli.commands._spec import strip_undefined

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def encode(value: Any) -> str:
    """Pretty JSON as the official CLI prints it."""
    return json.dumps(strip_undefined(value), indent=2, ensure_ascii=False)


def compact(value: Any) -> str:
    """One-line JSON (jsonl lines, MCP results)."""
    return json.dumps(strip_undefined(value), separators=(",", ":"), ensure_ascii=False)
