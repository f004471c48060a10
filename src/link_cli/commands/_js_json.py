"""``JSON.parse`` with Node 20's (V8 11) error messages.

The official CLI passes ``--approval-detail`` straight to ``JSON.parse`` and reports the
``SyntaxError`` message as the error (contract §3.5). Agents see, and may match on, that
text, so a bad value fails here with the same words and the same positions: positions are
counted in UTF-16 code units, as JavaScript counts them.

Python's :func:`json.loads` accepts the same documents except ``NaN``/``Infinity``, so it
parses; only on failure does :func:`_v8_message` walk the text the way V8's parser does to
find the first error and name it.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_WHITESPACE = " \t\n\r"
_ESCAPES = '"\\/bfnrt'
_HEX = "0123456789abcdefABCDEF"
_SPECIAL = ("[object Object]", "undefined", "Infinity", "NaN")
_CONTEXT = 10  # characters shown on each side of an unexpected token in a long input


class JsonSyntaxError(ValueError):
    """What ``JSON.parse`` throws; ``str()`` is V8's message."""


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def parse(text: str) -> Any:
    """Parse ``text`` as ``JSON.parse`` does, raising :class:`JsonSyntaxError` with V8's message."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        pass
    raise JsonSyntaxError(_v8_message(text))


def _to_utf16_units(text: str) -> str:
    """Astral characters become surrogate pairs, so indexes are JavaScript's."""
    if all(ord(c) < 0x10000 for c in text):
        return text
    return "".join(
        c
        if ord(c) < 0x10000
        else chr(0xD800 + ((ord(c) - 0x10000) >> 10)) + chr(0xDC00 + ((ord(c) - 0x10000) & 0x3FF))
        for c in text
    )


def _from_utf16_units(text: str) -> str:
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


class _Fail(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Scanner:
    def __init__(self, source: str) -> None:
        self.s = source
        self.n = len(source)
        self.pos = 0

    # -- reporting ------------------------------------------------------------------

    def report(self, template: str, at: int | None = None) -> _Fail:
        """A message that names the position (``… at position N``)."""
        return _Fail(f"{template} at position {self.pos if at is None else at}")

    def unexpected(self, at: int) -> _Fail:
        """V8's message for an unexpected character (or the end) at ``at``."""
        if at >= self.n:
            return _Fail("Unexpected end of JSON input")
        char = self.s[at]
        if char == '"':
            return self.report("Unexpected string in JSON", at)
        if (char.isascii() and char.isdigit()) or char == "-":
            return self.report("Unexpected number in JSON", at)
        if self.s in _SPECIAL:
            return _Fail(f'"{self.s}" is not valid JSON')
        if self.n < 2 * _CONTEXT + 1:
            return _Fail(f"Unexpected token '{char}', \"{self.s}\" is not valid JSON")
        if at < _CONTEXT:
            part = self.s[: at + _CONTEXT]
            return _Fail(f"Unexpected token '{char}', \"{part}\"... is not valid JSON")
        if at < self.n - _CONTEXT:
            part = self.s[at - _CONTEXT : at + _CONTEXT]
            return _Fail(f"Unexpected token '{char}', ...\"{part}\"... is not valid JSON")
        part = self.s[at - _CONTEXT :]
        return _Fail(f"Unexpected token '{char}', ...\"{part}\" is not valid JSON")

    # -- scanning -------------------------------------------------------------------

    def peek(self) -> str:
        """Skip whitespace; the next character, or '' at the end."""
        while self.pos < self.n and self.s[self.pos] in _WHITESPACE:
            self.pos += 1
        return self.s[self.pos] if self.pos < self.n else ""

    def document(self) -> None:
        self.value()
        if self.peek():
            raise self.report("Unexpected non-whitespace character after JSON")

    def value(self) -> None:
        char = self.peek()
        if char == '"':
            self.string()
        elif char == "-" or (char.isascii() and char.isdigit() and char):
            self.number()
        elif char == "{":
            self.object()
        elif char == "[":
            self.array()
        elif char in ("t", "f", "n"):
            self.literal({"t": "true", "f": "false", "n": "null"}[char])
        else:
            raise self.unexpected(self.pos)

    def literal(self, word: str) -> None:
        for expected in word[1:]:
            self.pos += 1
            if self.pos >= self.n:
                raise self.unexpected(self.pos)
            if self.s[self.pos] != expected:
                raise self.unexpected(self.pos)
        self.pos += 1

    def digits(self) -> int:
        start = self.pos
        while self.pos < self.n and "0" <= self.s[self.pos] <= "9":
            self.pos += 1
        return self.pos - start

    def current(self) -> str:
        return self.s[self.pos] if self.pos < self.n else ""

    def number(self) -> None:
        if self.current() == "-":
            self.pos += 1
        if self.current() == "0":
            self.pos += 1
            if "0" <= self.current() <= "9" and self.current():
                raise self.report("Unexpected number in JSON")
        elif not self.digits():
            raise self.report("No number after minus sign in JSON")
        if self.current() == ".":
            self.pos += 1
            if not self.digits():
                raise self.report("Unterminated fractional number in JSON")
        if self.current() in ("e", "E") and self.current():
            self.pos += 1
            if self.current() in ("-", "+") and self.current():
                self.pos += 1
            if not self.digits():
                raise self.report("Exponent part is missing a number in JSON")

    def string(self) -> None:
        self.pos += 1  # the opening quote
        while True:
            if self.pos >= self.n:
                raise self.report("Unterminated string in JSON")
            char = self.s[self.pos]
            if char == '"':
                self.pos += 1
                return
            if char == "\\":
                self.pos += 1
                if self.pos >= self.n:
                    raise self.unexpected(self.pos)
                escaped = self.s[self.pos]
                if ord(escaped) > 0xFF:
                    raise self.unexpected(self.pos)
                if escaped == "u":
                    for _ in range(4):
                        self.pos += 1
                        if self.pos >= self.n or self.s[self.pos] not in _HEX:
                            raise self.report("Bad Unicode escape in JSON")
                elif escaped not in _ESCAPES:
                    raise self.report("Bad escaped character in JSON")
                self.pos += 1
                continue
            if ord(char) < 0x20:
                raise self.report("Bad control character in string literal in JSON")
            self.pos += 1

    def object(self) -> None:
        self.pos += 1
        if self.peek() == "}":
            self.pos += 1
            return
        expect_key = "Expected property name or '}' in JSON"
        while True:
            if self.peek() != '"':
                raise self.report(expect_key)
            self.string()
            if self.peek() != ":":
                raise self.report("Expected ':' after property name in JSON")
            self.pos += 1
            self.value()
            char = self.peek()
            if char == ",":
                self.pos += 1
                expect_key = "Expected double-quoted property name in JSON"
                continue
            if char != "}":
                raise self.report("Expected ',' or '}' after property value in JSON")
            self.pos += 1
            return

    def array(self) -> None:
        self.pos += 1
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            self.value()
            char = self.peek()
            if char == ",":
                self.pos += 1
                continue
            if char != "]":
                raise self.report("Expected ',' or ']' after array element in JSON")
            self.pos += 1
            return


def _v8_message(text: str) -> str:
    scanner = _Scanner(_to_utf16_units(text))
    try:
        scanner.document()
    except _Fail as failure:
        return _from_utf16_units(failure.message)
    return "Unexpected end of JSON input"  # not reached: json.loads refused the text
