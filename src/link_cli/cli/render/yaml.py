"""YAML as the official CLI prints it: the ``yaml`` npm package's ``stringify`` with its defaults.

Our own emitter, written from the package's documented behaviour (version 2, core schema),
because PyYAML chooses differently almost everywhere an agent would notice: quoting style,
indentation of sequences inside mappings, line folding, block scalars. The defaults kept:

* indent 2; a sequence inside a mapping is indented under its key (``indentSeq``);
* strings plain wherever the core schema would read them back as strings; otherwise double
  quotes, or single quotes when the string holds ``"`` and no ``'``;
* multi-line strings as block scalars: literal ``|`` when every line fits in 80 columns,
  else folded ``>``; chomping ``-``/``+`` from the trailing newlines;
* plain and quoted strings folded at 80 columns (``lineWidth``) with at least 20 columns of
  content (``minContentWidth``); double-quoted strings of 40+ characters break at ``\\n``;
* empty mappings and sequences as ``{}`` and ``[]``; keys in their original order;
* numbers as ``JSON.stringify`` writes them, ``.nan``/``.inf`` for the others; ``null``.

Lengths are counted in UTF-16 code units, as JavaScript counts them.
"""

from __future__ import annotations

import math
import re

from link_cli.cli.render.toon import js_number_text
from link_cli.commands._spec import strip_undefined

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

LINE_WIDTH = 80
MIN_CONTENT_WIDTH = 20
DOUBLE_QUOTED_MIN_MULTILINE = 40
INDENT_STEP = "  "

_FLOW, _BLOCK, _QUOTED = "flow", "block", "quoted"

# Characters a plain scalar may not start with, sequences it may not contain or end with.
_NEEDS_QUOTES = re.compile(
    r"^[\n\t ,\[\]{}#&*!|>'\"%@`]|^[?-]\Z|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]\Z"
)
_DOCUMENT_MARKER = re.compile(r"^(%|---|\.\.\.)", re.MULTILINE)
# Plain scalars the core schema resolves to something other than a string.
_CORE_NON_STRING = (
    re.compile(r"(?:~|[Nn]ull|NULL)?"),
    re.compile(r"[Tt]rue|TRUE|[Ff]alse|FALSE"),
    re.compile(r"0o[0-7]+"),
    re.compile(r"[-+]?[0-9]+"),
    re.compile(r"0x[0-9a-fA-F]+"),
    re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN"),
    re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+"),
    re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)"),
)
_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_JSON_ESCAPES["\t"] = "\\t"


class _Ctx:
    __slots__ = ("force_block_indent", "implicit_key", "indent", "indent_at_start")

    def __init__(
        self,
        indent: str = "",
        *,
        implicit_key: bool = False,
        indent_at_start: int | None = None,
        force_block_indent: bool = False,
    ) -> None:
        self.indent = indent
        self.implicit_key = implicit_key
        self.indent_at_start = indent_at_start
        self.force_block_indent = force_block_indent

    def copy(self, **changes: Any) -> _Ctx:
        ctx = _Ctx(
            self.indent,
            implicit_key=self.implicit_key,
            indent_at_start=self.indent_at_start,
            force_block_indent=self.force_block_indent,
        )
        for name, value in changes.items():
            setattr(ctx, name, value)
        return ctx


# ---------------------------------------------------------------------------
# JavaScript string helpers: UTF-16 units, JSON.stringify of a string
# ---------------------------------------------------------------------------


def _js(text: str) -> str:
    """Astral characters as surrogate pairs, so ``len`` and indexes are JavaScript's."""
    if all(ord(c) < 0x10000 for c in text):
        return text
    out = []
    for c in text:
        code = ord(c)
        if code < 0x10000:
            out.append(c)
        else:
            code -= 0x10000
            out.append(chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF)))
    return "".join(out)


def _py(text: str) -> str:
    """Back from :func:`_js`: surrogate pairs rejoined."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _json_string(text: str) -> str:
    """``JSON.stringify`` of a (JS) string: well-formed, lone surrogates escaped."""
    out = ['"']
    length = len(text)
    i = 0
    while i < length:
        c = text[i]
        code = ord(c)
        if c in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[c])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDBFF and i + 1 < length and "\udc00" <= text[i + 1] <= "\udfff":
            out.append(c + text[i + 1])
            i += 1
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(c)
        i += 1
    out.append('"')
    return "".join(out)


def _sub(pattern: str, text: str, replace: Callable[[re.Match[str]], str]) -> str:
    return re.sub(pattern, replace, text)


# ---------------------------------------------------------------------------
# Line folding
# ---------------------------------------------------------------------------


def _consume_more_indented(text: str, i: int, indent: int) -> int:
    end = i
    start = i + 1
    ch = text[start] if start < len(text) else ""
    while ch in (" ", "\t") and ch:
        if i < start + indent:
            i += 1
            ch = text[i] if i < len(text) else ""
        else:
            while True:
                i += 1
                ch = text[i] if i < len(text) else ""
                if not ch or ch == "\n":
                    break
            end = i
            start = i + 1
            ch = text[start] if start < len(text) else ""
    return end


def _fold(
    text: str,
    indent: str,
    mode: str,
    indent_at_start: int | None,
    on_overflow: Callable[[], None] | None = None,
) -> str:
    """Break ``text`` at spaces (or, quoted, anywhere with an escaped break) to fit the width."""
    min_content = MIN_CONTENT_WIDTH
    end_step = max(1 + min_content, 1 + LINE_WIDTH - len(indent))
    if len(text) <= end_step:
        return text
    folds: list[int] = []
    escaped_folds: set[int] = set()
    end = LINE_WIDTH - len(indent)
    if indent_at_start is not None:
        if indent_at_start > LINE_WIDTH - max(2, min_content):
            folds.append(0)
        else:
            end = LINE_WIDTH - indent_at_start
    split: int | None = None
    prev = ""
    overflow = False
    i = -1
    esc_start = esc_end = -1
    length = len(text)
    if mode == _BLOCK:
        i = _consume_more_indented(text, i, len(indent))
        if i != -1:
            end = i + end_step
    while True:
        i += 1
        if i >= length:
            break
        ch = text[i]
        if mode == _QUOTED and ch == "\\":
            esc_start = i
            following = text[i + 1] if i + 1 < length else ""
            i += {"x": 3, "u": 5, "U": 9}.get(following, 1)
            esc_end = i
        if ch == "\n":
            if mode == _BLOCK:
                i = _consume_more_indented(text, i, len(indent))
            end = i + len(indent) + end_step
            split = None
        else:
            if ch == " " and prev and prev not in (" ", "\n", "\t"):
                following = text[i + 1] if i + 1 < length else ""
                if following and following not in (" ", "\n", "\t"):
                    split = i
            if i >= end:
                if split:
                    folds.append(split)
                    end = split + end_step
                    split = None
                elif mode == _QUOTED:
                    while prev in (" ", "\t") and prev:
                        prev = ch
                        i += 1
                        ch = text[i] if i < length else ""
                        overflow = True
                    j = i - 2 if i > esc_end + 1 else esc_start - 1
                    if j in escaped_folds:
                        return text
                    folds.append(j)
                    escaped_folds.add(j)
                    end = j + end_step
                    split = None
                else:
                    overflow = True
        prev = ch
    if overflow and on_overflow is not None:
        on_overflow()
    if not folds:
        return text
    result = text[: folds[0]]
    for index, fold in enumerate(folds):
        stop = folds[index + 1] if index + 1 < len(folds) else length
        if fold == 0:
            result = f"\n{indent}{text[0:stop]}"
        else:
            if mode == _QUOTED and fold in escaped_folds:
                result += f"{text[fold]}\\"
            result += f"\n{indent}{text[fold + 1 : stop]}"
    return result


# ---------------------------------------------------------------------------
# Strings
# ---------------------------------------------------------------------------


def _has_document_marker(text: str) -> bool:
    return _DOCUMENT_MARKER.search(text) is not None


def _line_over_limit(text: str, indent_length: int) -> bool:
    limit = LINE_WIDTH - indent_length
    length = len(text)
    if length <= limit:
        return False
    start = 0
    for i, ch in enumerate(text):
        if ch == "\n":
            if i - start > limit:
                return True
            start = i + 1
            if length - start <= limit:
                return False
    return True


def _double_quoted(value: str, ctx: _Ctx) -> str:
    json = _json_string(value)
    indent = ctx.indent or ("  " if _has_document_marker(value) else "")
    out = ""
    start = 0
    i = 0
    length = len(json)
    while i < length:
        ch = json[i]
        if ch == " " and json[i + 1 : i + 3] == "\\n":
            out += json[start:i] + "\\ "  # a space before a line break would be folded away
            i += 1
            start = i
            ch = "\\"
        if ch == "\\":
            following = json[i + 1] if i + 1 < length else ""
            if following == "u":
                out += json[start:i]
                code = json[i + 2 : i + 6]
                named = {
                    "0000": "\\0",
                    "0007": "\\a",
                    "000b": "\\v",
                    "001b": "\\e",
                    "0085": "\\N",
                    "00a0": "\\_",
                    "2028": "\\L",
                    "2029": "\\P",
                }
                if code in named:
                    out += named[code]
                elif code.startswith("00"):
                    out += "\\x" + code[2:]
                else:
                    out += json[i : i + 6]
                i += 5
                start = i + 1
            elif following == "n":
                if (
                    ctx.implicit_key
                    or json[i + 2 : i + 3] == '"'
                    or length < DOUBLE_QUOTED_MIN_MULTILINE
                ):
                    i += 1
                else:
                    out += json[start:i] + "\n\n"  # folding eats the first line break
                    while json[i + 2 : i + 4] == "\\n" and json[i + 4 : i + 5] != '"':
                        out += "\n"
                        i += 2
                    out += indent
                    if json[i + 2 : i + 3] == " ":
                        out += "\\"  # a space after a line break would be folded away
                    i += 1
                    start = i + 1
            else:
                i += 1
        i += 1
    out = out + json[start:] if start else json
    if ctx.implicit_key:
        return out
    return _fold(out, indent, _QUOTED, ctx.indent_at_start)


def _single_quoted(value: str, ctx: _Ctx) -> str:
    if (ctx.implicit_key and "\n" in value) or re.search(r"[ \t]\n|\n[ \t]", value):
        return _double_quoted(value, ctx)
    indent = ctx.indent or ("  " if _has_document_marker(value) else "")
    body = value.replace("'", "''")
    body = _sub(r"\n+", body, lambda m: f"{m.group(0)}\n{indent}")
    quoted = f"'{body}'"
    if ctx.implicit_key:
        return quoted
    return _fold(quoted, indent, _FLOW, ctx.indent_at_start)


def _quoted(value: str, ctx: _Ctx) -> str:
    if '"' in value and "'" not in value:
        return _single_quoted(value, ctx)
    return _double_quoted(value, ctx)


def _block(value: str, ctx: _Ctx) -> str:
    if re.search(r"\n[\t ]+\Z", value) or re.fullmatch(r"\s*", value):
        return _quoted(value, ctx)
    indent = ctx.indent or ("  " if ctx.force_block_indent or _has_document_marker(value) else "")
    literal = not _line_over_limit(value, len(indent))
    if not value:
        return "|\n" if literal else ">\n"
    end_start = len(value)
    while end_start > 0 and value[end_start - 1] in "\n\t ":
        end_start -= 1
    end = value[end_start:]
    newline_at = end.find("\n")
    if newline_at == -1:
        chomp = "-"
    elif value == end or newline_at != len(end) - 1:
        chomp = "+"
    else:
        chomp = ""
    if end:
        value = value[: -len(end)]
        if end.endswith("\n"):
            end = end[:-1]
        end = _sub(r"\n+(?!\n|\Z)", end, lambda m: m.group(0) + indent)
    starts_with_space = False
    last_newline = -1
    for index, ch in enumerate(value):
        if ch == " ":
            starts_with_space = True
        elif ch == "\n":
            last_newline = index
        else:
            break
    start = value[: last_newline + 1]
    if start:
        value = value[len(start) :]
        start = _sub(r"\n+", start, lambda m: m.group(0) + indent)
    header = ("2" if indent else "1") if starts_with_space else ""
    header += chomp
    if not literal:
        folded = _sub(r"\n+", value, lambda m: "\n" + m.group(0))
        folded = _sub(
            r"(?:^|\n)([\t ].*)(?:([\n\t ]*)\n(?![\n\t ]))?",
            folded,
            lambda m: (m.group(1) or "") + (m.group(2) or ""),
        )
        folded = _sub(r"\n+", folded, lambda m: m.group(0) + indent)
        overflowed: list[bool] = []
        body = _fold(
            f"{start}{folded}{end}",
            indent,
            _BLOCK,
            len(ctx.indent),
            on_overflow=lambda: overflowed.append(True),
        )
        if not overflowed:
            return f">{header}\n{indent}{body}"
    value = _sub(r"\n+", value, lambda m: m.group(0) + indent)
    return f"|{header}\n{indent}{start}{value}{end}"


def _plain(value: str, ctx: _Ctx) -> str:
    implicit_key, indent = ctx.implicit_key, ctx.indent
    if implicit_key and "\n" in value:
        return _quoted(value, ctx)
    if _NEEDS_QUOTES.search(value):
        if implicit_key or "\n" not in value:
            return _quoted(value, ctx)
        return _block(value, ctx)
    if not implicit_key and "\n" in value:
        return _block(value, ctx)
    if _has_document_marker(value):
        if indent == "":
            ctx.force_block_indent = True
            return _block(value, ctx)
        if implicit_key and indent == INDENT_STEP:
            return _quoted(value, ctx)
    text = _sub(r"\n+", value, lambda m: f"{m.group(0)}\n{indent}")
    if any(pattern.fullmatch(text) for pattern in _CORE_NON_STRING):
        return _quoted(value, ctx)
    if implicit_key:
        return text
    return _fold(text, indent, _FLOW, ctx.indent_at_start)


def _string(value: str, ctx: _Ctx) -> str:
    value = _js(value)
    if _has_unsafe(value):
        return _py(_double_quoted(value, ctx))
    return _py(_plain(value, ctx))


def _has_unsafe(value: str) -> bool:
    """Control characters, C1 controls, or a surrogate that is not half of a pair."""
    length = len(value)
    i = 0
    while i < length:
        code = ord(value[i])
        if code <= 0x08 or 0x0B <= code <= 0x1F or 0x7F <= code <= 0x9F:
            return True
        if 0xD800 <= code <= 0xDBFF and i + 1 < length and 0xDC00 <= ord(value[i + 1]) <= 0xDFFF:
            i += 2
            continue
        if 0xD800 <= code <= 0xDFFF:
            return True
        i += 1
    return False


# ---------------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------------


def _number(value: int | float) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return "-.inf" if value < 0 else ".inf"
        if value == 0 and math.copysign(1.0, value) < 0:
            return "-0"
    return js_number_text(value)


def _node(value: Any, ctx: _Ctx) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return _string(value, ctx)
    if isinstance(value, dict):
        return _collection([(k, v) for k, v in value.items()], ctx, prefix="", empty="{}")
    if isinstance(value, (list, tuple)):
        return _collection(list(value), ctx, prefix="- ", empty="[]")
    return _string(str(value), ctx)


def _collection(items: list[Any], ctx: _Ctx, *, prefix: str, empty: str) -> str:
    if not items:
        return empty
    item_indent = ctx.indent if prefix == "" else ctx.indent + "  "
    item_ctx = ctx.copy(indent=item_indent)
    lines = []
    for item in items:
        if prefix == "":
            key, value = item
            lines.append(_pair(str(key), value, item_ctx))
        else:
            lines.append(prefix + _node(item, item_ctx.copy()))
    out = lines[0]
    for line in lines[1:]:
        out += f"\n{ctx.indent}{line}" if line else "\n"
    return out


def _pair(key: str, value: Any, ctx: _Ctx) -> str:
    pair_ctx = ctx.copy(implicit_key=True, indent=ctx.indent + INDENT_STEP)
    text = _node(key, pair_ctx) + ":"
    pair_ctx.implicit_key = False
    is_collection = isinstance(value, (dict, list, tuple))
    if not is_collection:
        pair_ctx.indent_at_start = len(_js(text)) + 1
    value_text = _node(value, pair_ctx)
    if is_collection:
        separator = f"\n{pair_ctx.indent}" if value else " "
    elif value_text == "" or value_text.startswith("\n"):
        separator = ""
    else:
        separator = " "
    return text + separator + value_text


def encode(value: Any) -> str:
    """YAML of ``value`` (the document ``yaml.stringify`` returns, without its final newline)."""
    return _node(strip_undefined(value), _Ctx())
