"""Output formats of contract §2.1: one module per format, imported only when used."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("toon", "json", "yaml", "md", "jsonl")

_MODULES = {
    "toon": "link_cli.cli.render.toon",
    "json": "link_cli.cli.render.json",
    "yaml": "link_cli.cli.render.yaml",
    "md": "link_cli.cli.render.markdown",
    "jsonl": "link_cli.cli.render.jsonl",
}


def render(value: Any, fmt: str) -> str:
    """Render one value in ``fmt`` (no trailing newline)."""
    return importlib.import_module(_MODULES[fmt]).encode(value)
