"""Markdown (contract §2.1): flat object → Key/Value table, array of objects → columnar table,
nested values → ``## path`` sections."""

from __future__ import annotations

import json
from typing import Any

from link_cli.commands._spec import strip_undefined


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _is_flat(obj: dict[str, Any]) -> bool:
    return all(not isinstance(v, (dict, list)) for v in obj.values())


def _key_value_table(obj: dict[str, Any]) -> list[str]:
    lines = ["| Key | Value |", "|---|---|"]
    lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in obj.items()]
    return lines


def _columnar_table(items: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for item in items:
        columns += [k for k in item if k not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for item in items:
        lines.append("| " + " | ".join(_cell(item.get(c)) for c in columns) + " |")
    return lines


def _block(value: Any, path: str) -> list[str]:
    if isinstance(value, dict):
        if _is_flat(value):
            return _key_value_table(value) if value else []
        lines: list[str] = []
        scalars = {k: v for k, v in value.items() if not isinstance(v, (dict, list))}
        if scalars:
            lines += _key_value_table(scalars)
        for key, nested in value.items():
            if isinstance(nested, (dict, list)):
                child = f"{path}.{key}" if path else str(key)
                lines += ["", f"## {child}", "", *_block(nested, child)]
        return lines
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and _is_flat(v) for v in value):
            return _columnar_table(value)
        if all(not isinstance(v, (dict, list)) for v in value):
            return [f"- {_cell(v)}" for v in value]
        lines = []
        for index, item in enumerate(value):
            child = f"{path}[{index}]"
            lines += ["", f"## {child}", "", *_block(item, child)]
        return lines
    return [_cell(value)]


def encode(value: Any) -> str:
    """Render ``value`` as Markdown."""
    return "\n".join(_block(strip_undefined(value), "")).strip("\n")
