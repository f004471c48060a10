"""Stripe's form encoding: bracketed names into nested values, and a canonical byte form.

``stripe`` SDKs, pympp and mppx send ``application/x-www-form-urlencoded`` bodies with names
like ``metadata[k]`` and ``payment_method_types[0]``; :func:`decode_form` rebuilds the nesting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from link_cli.money import is_ascii_digits

from .stripe_errors import invalid_request

__all__ = ["canonical_params", "decode_form"]

_MAX_FORM_PAIRS = 200
# Stripe's deepest parameter is payment_method_data[card][number]-like: a few levels. A bound
# keeps rebuilding and walking the nesting far from Python's recursion limit.
_MAX_DEPTH = 8

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_NAME = re.compile(r"[A-Za-z0-9_.\-]+")


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn Stripe's bracket form encoding into nested dicts and lists.

    ``metadata[k]=v`` → ``{"metadata": {"k": "v"}}``; ``a[]=x`` and ``a[0]=x`` → lists.
    Raises :class:`StripeError` (400) on malformed names, conflicting shapes, names nested
    deeper than :data:`_MAX_DEPTH`, NUL characters or too many pairs.
    """
    root: dict[str, Any] = {}
    for count, (name, value) in enumerate(pairs, start=1):
        if count > _MAX_FORM_PAIRS:
            raise invalid_request("Too many parameters.", code="parameter_invalid")
        if "\x00" in name or "\x00" in value:
            raise invalid_request(
                f"Invalid parameter: {name.replace(chr(0), '')[:60]} contains a NUL character.",
                code="parameter_invalid",
            )
        head, _, rest = name.partition("[")
        rest = "[" + rest if rest else ""
        segments = _BRACKETS.findall(rest)
        if not _NAME.fullmatch(head) or "".join(f"[{s}]" for s in segments) != rest:
            raise invalid_request(f"Invalid parameter name: {name[:60]}", code="parameter_unknown")
        if "" in segments[:-1]:  # `a[][x]`: which element is meant is ambiguous
            raise invalid_request(f"Invalid array: {name[:60]}", code="parameter_invalid")
        if len(segments) > _MAX_DEPTH:
            raise invalid_request(
                f"Parameter nested too deeply: {name[:60]}", code="parameter_invalid"
            )
        _insert(root, [head, *segments], value, name)
    return _finish(root)


def _insert(node: dict[str, Any], path: list[str], value: str, name: str) -> None:
    for index, key in enumerate(path[:-1]):
        child_key = path[index + 1]
        list_like = child_key == "" or (is_ascii_digits(child_key) and len(child_key) <= 4)
        child = node.get(key)
        if child is None:
            child = {"__list__": list_like}
            node[key] = child
        if not isinstance(child, dict) or child["__list__"] != list_like:
            raise invalid_request(f"Invalid array or hash: {name[:60]}", param=path[0])
        node = child
    last = path[-1]
    if last == "":
        last = str(sum(1 for k in node if k != "__list__"))
    if last in node:
        raise invalid_request(f"Duplicate parameter: {name[:60]}", param=path[0])
    node[last] = value


def _finish(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    is_list = node.pop("__list__", False)
    if is_list:
        return [_finish(node[k]) for k in sorted(node, key=int)]
    return {k: _finish(v) for k, v in node.items()}


def canonical_params(pairs: Iterable[tuple[str, str]]) -> bytes:
    """A stable byte form of a request's parameters, for idempotency comparisons.

    It still contains card data when a card is charged: callers only ever store a keyed
    MAC of it (never the bytes themselves).
    """
    return json.dumps(sorted(pairs), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
