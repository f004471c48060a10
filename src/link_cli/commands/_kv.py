"""The ``key:value[,key:value…]`` syntax of --line-item, --total and --metadata (contract §11.2).

Errors are plain ``ValueError`` s carrying the official messages; the command turns them
into ``UNKNOWN`` (as the official CLI does, contract §3.5 step 6).
"""

from __future__ import annotations

from link_cli.commands._spec import JS_WHITESPACE, js_number

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

LINE_ITEM_KEYS = (
    "name",
    "url",
    "image_url",
    "description",
    "sku",
    "quantity",
    "unit_amount",
    "product_url",
)
TOTAL_KEYS = ("type", "display_text", "amount")
_LINE_ITEM_NUMBERS = ("quantity", "unit_amount")


def parse_pairs(text: str) -> dict[str, str]:
    """Split on every ``,``, then each piece at its first ``:``; trim as JS does; last wins."""
    pairs: dict[str, str] = {}
    for piece in text.split(","):
        key, colon, value = piece.partition(":")
        if not colon:
            raise ValueError(f"Invalid field (missing ':'): {piece}")
        pairs[key.strip(JS_WHITESPACE)] = value.strip(JS_WHITESPACE)
    return pairs


def _number_issue(raw: str | None) -> tuple[Any, str | None]:
    """JS-``Number`` a field; return (value, zod message or None)."""
    if raw is None:
        return None, "Invalid input: expected number, received undefined"
    number = js_number(raw)
    if number != number:  # NaN
        return None, "Invalid input: expected number, received NaN"
    if number in (float("inf"), float("-inf")):
        return None, "Invalid input: expected number, received Infinity"
    return (int(number) if number == int(number) else number), None


def _check_keys(pairs: dict[str, str], allowed: tuple[str, ...], label: str) -> None:
    for key in pairs:
        if key not in allowed:
            raise ValueError(
                f'{label}: unrecognized key "{key}". Allowed keys: {", ".join(allowed)}'
            )


def parse_line_item(text: str) -> dict[str, Any]:
    """Parse one --line-item; keys in schema order; ``quantity``/``unit_amount`` numeric."""
    pairs = parse_pairs(text)
    _check_keys(pairs, LINE_ITEM_KEYS, "Line item")
    problems: list[str] = []
    item: dict[str, Any] = {}
    for key in LINE_ITEM_KEYS:
        if key in _LINE_ITEM_NUMBERS:
            if key in pairs:
                value, issue = _number_issue(pairs[key])
                if issue:
                    problems.append(f"Line item {key}: {issue}")
                else:
                    item[key] = value
        elif key in pairs:
            item[key] = pairs[key]
        elif key == "name":
            problems.append("Line item name: Invalid input: expected string, received undefined")
    if problems:
        raise ValueError("\n".join(problems))
    return item


def parse_total(text: str) -> dict[str, Any]:
    """Parse one --total: ``type``, ``display_text`` and numeric ``amount``, all required."""
    pairs = parse_pairs(text)
    _check_keys(pairs, TOTAL_KEYS, "Total")
    problems: list[str] = []
    total: dict[str, Any] = {}
    for key in ("type", "display_text"):
        if key in pairs:
            total[key] = pairs[key]
        else:
            problems.append(f"Total {key}: Invalid input: expected string, received undefined")
    # zod coerces a missing amount with Number(undefined) → NaN (contract §11.2).
    value, issue = _number_issue(pairs.get("amount", "NaN"))
    if issue:
        problems.append(f"Total amount: {issue}")
    else:
        total["amount"] = value
    if problems:
        raise ValueError("\n".join(problems))
    return total


def parse_metadata(values: list[Any]) -> dict[str, str]:
    """Merge every --metadata value (``k:v[,k:v]`` strings or MCP objects); later wins."""
    merged: dict[str, str] = {}
    for value in values:
        if isinstance(value, dict):
            merged.update({str(k): v for k, v in value.items()})
        else:
            merged.update(parse_pairs(value))
    return merged
