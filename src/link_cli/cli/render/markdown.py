"""Markdown as the official CLI prints it (contract §2.1, §2.1a).

* a flat object at the top → one ``| Key | Value |`` table;
* an array of objects → one table, a column per key (first-seen order), cells padded to the
  widest cell under a ``|---…|`` rule of the same widths, ``null`` cells empty;
* any other object → one ``## dotted.path`` section per leaf, in key order: the heading, a
  blank line, the value; sections separated by a blank line. An array of objects inside is
  one section holding its table; an array of plain values prints them comma-joined.

Two official defects are not reproduced (docs/compatibility.md): an object or array inside
a table cell is written as compact JSON instead of ``[object Object]``, and a missing
optional field is left out instead of printing ``undefined``.
"""

from __future__ import annotations

import json

from link_cli.cli.render.toon import js_number_text
from link_cli.commands._spec import strip_undefined

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def _js_length(text: str) -> int:
    """``String.prototype.length``: UTF-16 code units."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple))


def _text(value: Any) -> str:
    """``String(value)`` for a leaf: ``null``, ``true``, JavaScript number text."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return js_number_text(value)
    if isinstance(value, (list, tuple)):
        return _joined(list(value))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _joined(items: list[Any]) -> str:
    """``String(array)`` for plain values (``null`` → empty); JSON when an item is nested."""
    if any(not _is_scalar(item) for item in items):
        return json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    return ",".join("" if item is None else _text(item) for item in items)


def _cell(value: Any) -> str:
    return "" if value is None else _text(value)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max([_js_length(header)] + [_js_length(row[i]) for row in rows])
        for i, header in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        padded = (cell + " " * (widths[i] - _js_length(cell)) for i, cell in enumerate(cells))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    if not rows:
        return f"{line(headers)}\n{rule}\n"  # as the official table(): an empty last line
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def _key_value_table(obj: dict[str, Any]) -> str:
    return _table(["Key", "Value"], [[str(k), _text(v)] for k, v in obj.items()])


def _columnar_table(items: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for item in items:
        columns += [str(k) for k in item if str(k) not in columns]
    return _table(columns, [[_cell(item.get(c)) for c in columns] for item in items])


def _is_array_of_objects(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _sections(obj: dict[str, Any], path: list[str]) -> list[str]:
    sections: list[str] = []
    for key, value in obj.items():
        child = [*path, str(key)]
        heading = "## " + ".".join(child)
        if isinstance(value, dict) and value:
            sections += _sections(value, child)
        elif isinstance(value, dict):
            sections.append(f"{heading}\n\n{_key_value_table(value)}")
        elif _is_array_of_objects(value):
            sections.append(f"{heading}\n\n{_columnar_table(value)}")
        else:
            sections.append(f"{heading}\n\n{_text(value)}")
    return sections


def _render(value: Any) -> str:
    if _is_scalar(value):
        return _text(value)
    if isinstance(value, (list, tuple)):
        items = list(value)
        return _columnar_table(items) if _is_array_of_objects(items) else _joined(items)
    if all(_is_scalar(v) for v in value.values()):
        return _key_value_table(value)
    return "\n\n".join(_sections(value, []))


def encode(value: Any) -> str:
    """Render ``value`` as Markdown (may be empty: an empty list prints nothing)."""
    value = strip_undefined(value)
    if value is None:
        return ""
    text = _render(value)
    return text[:-1] if text.endswith("\n") else text  # the caller ends the output with one
