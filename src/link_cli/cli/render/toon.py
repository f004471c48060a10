"""TOON text, byte-compatible with ``@toon-format/toon`` 2.3.0 as used by the official CLI.

Why our own encoder: the ``toon-format`` package on PyPI implements a later TOON spec
whose nested-tabular headers (``[2]{id,card_details{brand,last4}}:``) and keyed tables
change the output agents already parse (contract §2.1 golden samples). This module
keeps the 2.3.0 shapes: tabular form only for uniform objects of primitives, everything
else as ``- `` list items. It is also ~30 ms cheaper to import.
"""

from __future__ import annotations

import math
import re

from link_cli.commands._spec import JS_WHITESPACE, UNDEFINED

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_DELIMITER = ","
_INDENT = "  "
_UNQUOTED_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
# The 2.3.0 rules: numeric-looking (incl. leading zeros), JS-trim whitespace at either end,
# a leading list marker "-"; control characters are always quoted (and escaped).
_NUMERIC_LIKE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|0[0-9]+")
_NEEDS_QUOTES = re.compile(r'[:"\\\[\]{}\x00-\x1f\x7f]')
_ESCAPE = re.compile(r'[\\"\x00-\x1f]')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _quote(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return _ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _ESCAPE.sub(escape, text) + '"'


def _string(text: str) -> str:
    if (
        not text
        or text != text.strip(JS_WHITESPACE)
        or text in ("true", "false", "null")
        or text[0] == "-"
        or _DELIMITER in text
        or _NEEDS_QUOTES.search(text)
        or _NUMERIC_LIKE.fullmatch(text)
    ):
        return _quote(text)
    return text


def _key(key: str) -> str:
    return key if _UNQUOTED_KEY.fullmatch(key) else _quote(key)


def js_number_text(value: int | float) -> str:
    """``String(n)`` in JavaScript: plain digits in [1e-6, 1e21), exponent form outside."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "0"  # also -0
    from decimal import Decimal  # only floats need it; most outputs have none

    exact = Decimal(repr(value))
    if Decimal("1e-6") <= abs(exact) < Decimal("1e21"):
        text = f"{exact:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    sign, digits, exponent = exact.as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    exponent += len(digits) - 1
    if len(mantissa) > 1:
        mantissa = f"{mantissa[0]}.{mantissa[1:]}"
    return f"{'-' if sign else ''}{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"


def _primitive(value: Any) -> str:
    if value is None or value is UNDEFINED:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return js_number_text(value)
    return _string(str(value))


def _is_primitive(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple))


def _tabular_fields(items: list[Any]) -> list[str] | None:
    """Header fields when every item is an object with the same keys and primitive values."""
    first = items[0]
    if not isinstance(first, dict) or not first:
        return None
    keys = list(first)
    for item in items:
        if not isinstance(item, dict) or len(item) != len(keys):
            return None
        for key in keys:
            if key not in item or not _is_primitive(item[key]):
                return None
    return keys


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, depth: int, text: str) -> None:
        self.lines.append(_INDENT * depth + text)

    def fields(self, obj: dict[str, Any], depth: int) -> None:
        for key, value in obj.items():
            self.field(_key(str(key)), value, depth)

    def field(self, key: str, value: Any, depth: int) -> None:
        if isinstance(value, dict):
            self.emit(depth, key + ":")
            self.fields(value, depth + 1)
        elif isinstance(value, (list, tuple)):
            self.array(key, list(value), depth, allow_table=True)
        else:
            self.emit(depth, f"{key}: {_primitive(value)}")

    def array(self, prefix: str, items: list[Any], depth: int, *, allow_table: bool) -> None:
        if not items:
            self.emit(depth, f"{prefix}: []" if prefix and prefix != "- " else f"{prefix}[0]:")
            return
        head = f"{prefix}[{len(items)}]"
        if all(map(_is_primitive, items)):
            self.emit(depth, f"{head}: " + _DELIMITER.join(map(_primitive, items)))
            return
        fields = _tabular_fields(items) if allow_table else None
        if fields is not None:
            self.emit(depth, head + "{" + _DELIMITER.join(map(_key, fields)) + "}:")
            for item in items:
                row = _DELIMITER.join(_primitive(item[f]) for f in fields)
                self.emit(depth + 1, row)
            return
        self.emit(depth, head + ":")
        for item in items:
            self.item(item, depth + 1)

    def item(self, value: Any, depth: int) -> None:
        if isinstance(value, dict):
            if not value:
                self.emit(depth, "-")
                return
            # Fields sit at depth + 1; the first one moves onto the hyphen line.
            first = len(self.lines)
            self.fields(value, depth + 1)
            indent = _INDENT * depth
            self.lines[first] = indent + "- " + self.lines[first][len(indent + _INDENT) :]
        elif isinstance(value, (list, tuple)):
            self.array("- ", list(value), depth, allow_table=False)
        else:
            self.emit(depth, "- " + _primitive(value))


def encode(value: Any) -> str:
    """Encode a JSON-like value as a TOON document (no trailing newline)."""
    writer = _Writer()
    if isinstance(value, dict):
        writer.fields(value, 0)
    elif isinstance(value, (list, tuple)):
        if value:
            writer.array("", list(value), 0, allow_table=True)
        else:
            writer.emit(0, "[]")
    else:
        writer.emit(0, _primitive(value))
    return "\n".join(writer.lines)
