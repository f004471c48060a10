"""YAML via PyYAML's safe dumper, keys in their original order."""

from __future__ import annotations

from typing import Any

from link_cli.commands._spec import strip_undefined


def encode(value: Any) -> str:
    """Block-style YAML (no trailing newline)."""
    import yaml  # lazy: ~15 ms, only for --format yaml

    text = yaml.safe_dump(
        strip_undefined(value), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return text.rstrip("\n")
