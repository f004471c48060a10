"""Command declarations as plain data, their validation and their JSON Schema.

A command is declared once (a frozen :class:`Command` with its :class:`Argument` s and
:class:`Option` s). The argv parser, ``--schema``, ``--llms-full`` and the MCP tools all
read the same declaration, and :func:`validate` applies the same rules to raw CLI strings
and to MCP JSON values, producing the ``VALIDATION_ERROR`` of contract §5.2.

Deliberately light: this module is on the path of ``--help`` (budget ~40 ms in total), so
the declarations use :func:`~link_cli._records.frozen_record` rather than
:mod:`dataclasses`, and regular expressions are compiled on first use.
"""

from __future__ import annotations

import math

from link_cli._records import frozen_record
from link_cli.errors import ValidationError

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Literal

    OptionType = Literal["string", "number", "integer", "boolean", "enum"]
    AuthPolicy = Literal["none", "middleware", "guard"]


class _Undefined:
    """JS ``undefined``: a key that JSON output drops and toon prints as ``null`` (contract §2.1)."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()
_NO_DEFAULT: Any = object()


def strip_undefined(value: Any) -> Any:
    """Drop every ``UNDEFINED`` dict value, recursively (what ``JSON.stringify`` does)."""
    if isinstance(value, dict):
        return {k: strip_undefined(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [None if v is UNDEFINED else strip_undefined(v) for v in value]
    return value


def kebab(name: str) -> str:
    """``merchantName`` → ``merchant-name``."""
    return "".join(f"-{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def camel(flag: str) -> str:
    """``merchant-name`` → ``merchantName``."""
    head, *rest = flag.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@frozen_record
class Argument:
    """A positional argument (``<id>``, ``<url>``); always a string."""

    name: str
    help: str = ""
    required: bool = True


@frozen_record
class Option:
    """One ``--flag``. ``name`` is the camelCase schema key; the flag is its kebab form."""

    name: str
    type: OptionType = "string"
    help: str = ""
    default: Any = _NO_DEFAULT
    required: bool = False
    choices: tuple[str, ...] = ()
    repeatable: bool = False
    short: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    accepts_object: bool = False  # MCP may pass objects (line items, metadata, approval detail)
    hidden: bool = False  # left out of --help (still in --schema, as the official CLI does)
    pattern: str | None = None  # a JS regular expression the string must match
    pattern_message: str | None = None  # the message when it does not

    @property
    def flag(self) -> str:
        return "--" + kebab(self.name)

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    def default_value(self) -> Any:
        if self.has_default:
            return list(self.default) if isinstance(self.default, tuple) else self.default
        return [] if self.repeatable else UNDEFINED


@frozen_record
class Command:
    """A leaf command: what it is called, what it takes and which function runs it.

    ``handler`` is a dotted path ``"package.module:function"`` imported only when the
    command runs, so ``--help`` and ``--version`` never load handler dependencies.
    ``auth`` is ``"middleware"`` (NOT_AUTHENTICATED before the handler runs), ``"guard"``
    (the handler checks after its own input validation) or ``"none"``.
    """

    path: tuple[str, ...]
    description: str
    handler: str
    args: tuple[Argument, ...] = ()
    options: tuple[Option, ...] = ()
    streaming: bool = False
    auth: AuthPolicy = "none"
    read_only: bool = False
    agent_only: bool = True  # returned data is not printed in human mode (contract §1.3)
    hidden: bool = False
    examples: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def tool_name(self) -> str:
        """The MCP tool name (contract §9.1): path joined with ``_``."""
        return "_".join(self.path)

    def option(self, name: str) -> Option | None:
        for option in self.options:
            if option.name == name:
                return option
        return None


@frozen_record
class Group:
    """A command group (``spend-request``): only a name and a description."""

    path: tuple[str, ...]
    description: str
    hidden: bool = False


# ---------------------------------------------------------------------------
# JS Number() coercion (contract §1.5)
# ---------------------------------------------------------------------------

_JS_DECIMAL = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_JS_RADIX = r"0([xXoObB])([0-9a-zA-Z]+)"
# What JavaScript's String.prototype.trim() removes (WhiteSpace + LineTerminator).
JS_WHITESPACE = (
    " \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def js_number(text: str) -> float:
    """Convert a string exactly as JavaScript's ``Number(text)`` does (NaN on failure)."""
    text = text.strip(JS_WHITESPACE)
    if not text:
        return 0.0
    import re  # compiled patterns are cached by `re`; kept off the --help path

    if re.fullmatch(_JS_DECIMAL, text):
        return float(text)
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    radix = re.fullmatch(_JS_RADIX, text)
    if radix:
        base = {"x": 16, "o": 8, "b": 2}[radix.group(1).lower()]
        try:
            return float(int(radix.group(2), base))
        except ValueError:
            return math.nan
    return math.nan


def _as_number(value: float) -> int | float:
    """Integral floats become ints so JSON prints ``1000``, not ``1000.0``."""
    if math.isfinite(value) and value == int(value) and abs(value) < 2**63:
        return int(value)
    return value


# ---------------------------------------------------------------------------
# Validation (zod-shaped issues, contract §5.2)
# ---------------------------------------------------------------------------


_MAX_SAFE_INTEGER = 2**53 - 1


def _parsed_type(value: Any) -> str:
    """zod's name for a value in its messages (``received …``)."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def js_to_number(value: Any) -> float | int:
    """JavaScript's ``Number(value)`` for JSON-like values (what ``z.coerce.number()`` does)."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, (int, float)):
        return value
    if value is None:
        return 0
    if isinstance(value, str):
        return js_number(value)
    if isinstance(value, list):  # via String(array): "" → 0, one element → that element
        if not value:
            return 0
        if len(value) == 1 and not isinstance(value[0], (dict, list)):
            item = value[0]
            return 0 if item is None else js_to_number(item if isinstance(item, str) else str(item))
        return math.nan
    return math.nan


def _fmt(number: float) -> str:
    return str(_as_number(number))


class _Issues:
    """Collects zod-style issues (keys in zod's order); ``raise_if_any`` makes VALIDATION_ERROR.

    ``received`` inside an issue exists only where zod puts it (a number that is NaN or
    infinite); ``fieldErrors`` entries always carry ``expected`` and ``received``, empty
    when the issue has none, as incur builds them.
    """

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.issues: list[dict[str, Any]] = []

    def push(self, issue: dict[str, Any], path: list[Any], message: str) -> None:
        self.issues.append({**issue, "path": path, "message": message})

    def type_error(self, path: list[Any], expected: str, value: Any) -> None:
        self.push(
            {"expected": expected, "code": "invalid_type"},
            path,
            f"Invalid input: expected {expected}, received {_parsed_type(value)}",
        )

    def _missing(self, path: list[Any]) -> bool:
        current: Any = self.raw
        for part in path:
            in_dict = isinstance(current, dict) and part in current
            in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
            if not (in_dict or in_list):
                return True
            current = current[part]
        return False

    def raise_if_any(self) -> None:
        if not self.issues:
            return
        field_errors = [
            {
                "code": issue["code"],
                "missing": self._missing(issue["path"]),
                "path": ".".join(str(p) for p in issue["path"]),
                "expected": issue.get("expected", ""),
                "received": issue.get("received", ""),
                "message": issue["message"],
            }
            for issue in self.issues
        ]
        message = "; ".join(i["message"] for i in self.issues)
        import json  # error path only

        message += "\n\nDetails: " + json.dumps(self.issues, indent=2, ensure_ascii=False)
        raise ValidationError(message, field_errors=field_errors)


def _check_string(issues: _Issues, path: list[Any], value: Any, option: Option | None) -> Any:
    if not isinstance(value, str):
        issues.type_error(path, "string", value)
        return value
    if option is None:
        return value
    exact = option.min_length is not None and option.min_length == option.max_length
    length = len(value.encode("utf-16-le")) // 2  # JavaScript counts UTF-16 code units
    if option.min_length is not None and length < option.min_length:
        issues.push(
            {
                "origin": "string",
                "code": "too_small",
                "minimum": option.min_length,
                "inclusive": True,
                **({"exact": True} if exact else {}),
            },
            path,
            f"Too small: expected string to have >={option.min_length} characters",
        )
    if option.max_length is not None and length > option.max_length:
        issues.push(
            {
                "origin": "string",
                "code": "too_big",
                "maximum": option.max_length,
                "inclusive": True,
                **({"exact": True} if exact else {}),
            },
            path,
            f"Too big: expected string to have <={option.max_length} characters",
        )
    if option.pattern is not None and not _matches(option.pattern, value):
        issues.push(
            {
                "origin": "string",
                "code": "invalid_format",
                "format": "regex",
                "pattern": f"/{option.pattern}/",
            },
            path,
            option.pattern_message or f"Invalid string: must match pattern /{option.pattern}/",
        )
    return value


def _matches(pattern: str, value: str) -> bool:
    """``RegExp.test`` for the simple patterns declared here: ``\\d`` is ASCII and ``$`` is the
    very end (JavaScript's rules, not Python's)."""
    import re

    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.search(pattern, value, re.ASCII) is not None


def _check_number(issues: _Issues, path: list[Any], value: Any, option: Option) -> Any:
    """``z.coerce.number()`` [+ ``.int()``] + bounds, with zod's issues in zod's order."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        value = js_to_number(UNDEFINED if value is UNDEFINED else value)
    if isinstance(value, float) and not math.isfinite(value):
        received = "NaN" if math.isnan(value) else "Infinity"
        issues.push(
            {"expected": "number", "code": "invalid_type", "received": received},
            path,
            f"Invalid input: expected number, received {_parsed_type(value)}",
        )
        return value
    number = _as_number(value)
    if option.type == "integer":
        if not isinstance(number, int):
            issues.push(
                {"expected": "int", "format": "safeint", "code": "invalid_type"},
                path,
                "Invalid input: expected int, received number",
            )
            return number
        if abs(number) > _MAX_SAFE_INTEGER:
            big = number > 0
            issues.push(
                {
                    "code": "too_big" if big else "too_small",
                    ("maximum" if big else "minimum"): _MAX_SAFE_INTEGER
                    if big
                    else -_MAX_SAFE_INTEGER,
                    "note": "Integers must be within the safe integer range.",
                    "origin": "int",
                },
                path,
                f"Too big: expected int to be <{_MAX_SAFE_INTEGER}"
                if big
                else f"Too small: expected int to be >-{_MAX_SAFE_INTEGER}",
            )
    if option.exclusive_minimum is not None and not number > option.exclusive_minimum:
        issues.push(
            {
                "origin": "number",
                "code": "too_small",
                "minimum": _as_number(option.exclusive_minimum),
                "inclusive": False,
            },
            path,
            f"Too small: expected number to be >{_fmt(option.exclusive_minimum)}",
        )
    if option.minimum is not None and number < option.minimum:
        issues.push(
            {
                "origin": "number",
                "code": "too_small",
                "minimum": _as_number(option.minimum),
                "inclusive": True,
            },
            path,
            f"Too small: expected number to be >={_fmt(option.minimum)}",
        )
    if option.maximum is not None and number > option.maximum:
        issues.push(
            {
                "origin": "number",
                "code": "too_big",
                "maximum": _as_number(option.maximum),
                "inclusive": True,
            },
            path,
            f"Too big: expected number to be <={_fmt(option.maximum)}",
        )
    return number


def _check_scalar(issues: _Issues, path: list[Any], value: Any, option: Option) -> Any:
    if option.accepts_object and isinstance(value, dict):
        return value  # MCP convenience: passed through unvalidated (contract §9.1)
    if option.type == "boolean":
        if not isinstance(value, bool):
            issues.type_error(path, "boolean", value)
        return value
    if option.type in ("number", "integer"):
        return _check_number(issues, path, value, option)
    if option.type == "enum":
        if value not in option.choices:
            if len(option.choices) == 1:
                message = f'Invalid input: expected "{option.choices[0]}"'
            else:
                message = "Invalid option: expected one of " + "|".join(
                    f'"{c}"' for c in option.choices
                )
            issues.push({"code": "invalid_value", "values": list(option.choices)}, path, message)
        return value
    return _check_string(issues, path, value, option)


def validate(command: Command, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn raw values (CLI strings or MCP JSON) into typed params, or raise ValidationError.

    ``raw`` is keyed by argument names and camelCase option names; absent keys take
    the option's default. Unknown keys are ignored (as zod's non-strict objects do).
    As incur does, positional arguments are checked first and on their own: when one
    is wrong, the options are not reported.
    """
    issues = _Issues({a.name: raw[a.name] for a in command.args if a.name in raw})
    params: dict[str, Any] = {}
    for argument in command.args:
        value = raw.get(argument.name, UNDEFINED)
        if value is UNDEFINED and not argument.required:
            params[argument.name] = UNDEFINED
            continue
        params[argument.name] = _check_string(issues, [argument.name], value, None)
    issues.raise_if_any()
    issues = _Issues({o.name: raw[o.name] for o in command.options if o.name in raw})
    for option in command.options:
        value = raw.get(option.name, UNDEFINED)
        if value is UNDEFINED or (value is None and not option.required):
            if option.required:
                if option.type in ("number", "integer") and not option.repeatable:
                    params[option.name] = _check_number(issues, [option.name], UNDEFINED, option)
                else:
                    expected = "array" if option.repeatable else _expected_name(option)
                    issues.type_error([option.name], expected, UNDEFINED)
                continue
            params[option.name] = option.default_value()
            continue
        if option.repeatable:
            if not isinstance(value, list):
                issues.type_error([option.name], "array", value)
                continue
            params[option.name] = [
                _check_scalar(issues, [option.name, i], item, option)
                for i, item in enumerate(value)
            ]
        else:
            params[option.name] = _check_scalar(issues, [option.name], value, option)
    issues.raise_if_any()
    return params


def _expected_name(option: Option) -> str:
    if option.accepts_object:
        return "string"
    return {"integer": "number", "enum": "string"}.get(option.type, option.type)


# ---------------------------------------------------------------------------
# JSON Schema (--schema, --llms-full, MCP inputSchema)
# ---------------------------------------------------------------------------


def _base_schema(option: Option) -> dict[str, Any]:
    """The JSON Schema zod v4 emits for the option's type and checks, in zod's key order."""
    schema: dict[str, Any]
    if option.accepts_object:
        return {
            "anyOf": [
                {"type": "string"},
                {"type": "object", "propertyNames": {"type": "string"}, "additionalProperties": {}},
            ]
        }
    if option.type == "enum":
        return {"type": "string", "enum": list(option.choices)}
    if option.type in ("number", "integer"):
        integer = option.type == "integer"
        schema = {"type": "integer" if integer else "number"}
        minimum = option.minimum
        maximum = option.maximum
        if integer:  # .int() is the safe-integer format: its bounds come with it
            minimum = -_MAX_SAFE_INTEGER if minimum is None else max(minimum, -_MAX_SAFE_INTEGER)
            maximum = _MAX_SAFE_INTEGER if maximum is None else min(maximum, _MAX_SAFE_INTEGER)
        if option.exclusive_minimum is not None:
            schema["exclusiveMinimum"] = _as_number(option.exclusive_minimum)
        if minimum is not None and not (
            option.exclusive_minimum is not None and option.exclusive_minimum >= minimum
        ):
            schema["minimum"] = _as_number(minimum)
        if maximum is not None:
            schema["maximum"] = _as_number(maximum)
        return schema
    if option.type == "boolean":
        return {"type": "boolean"}
    schema = {"type": "string"}
    if option.min_length is not None:
        schema["minLength"] = option.min_length
    if option.max_length is not None:
        schema["maxLength"] = option.max_length
    if option.pattern is not None:
        schema["pattern"] = option.pattern
    return schema


def option_schema(option: Option) -> dict[str, Any]:
    """One property as ``z.toJSONSchema`` writes it: ``description`` (from ``.describe()``)
    first, then ``default``, then the type's own keys."""
    schema: dict[str, Any] = {"description": option.help}
    if option.has_default:
        schema["default"] = option.default_value()
    base = _base_schema(option)
    if option.repeatable:
        base = {"type": "array", "items": base}
    schema.update(base)
    return schema


def _object_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A closed object schema; ``required`` only when something is."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def args_schema(command: Command) -> dict[str, Any]:
    """JSON Schema of the positional arguments."""
    properties = {a.name: {"description": a.help, "type": "string"} for a in command.args}
    return _object_schema(properties, [a.name for a in command.args if a.required])


def options_schema(command: Command) -> dict[str, Any]:
    """JSON Schema of the options; ``required`` lists what a caller must pass (MCP tools)."""
    properties = {o.name: option_schema(o) for o in command.options}
    return _object_schema(properties, [o.name for o in command.options if o.required])


def input_schema(command: Command) -> dict[str, Any]:
    """The merged args + options schema an MCP tool exposes (contract §9.1)."""
    args, options = args_schema(command), options_schema(command)
    return {
        "type": "object",
        "properties": {**args["properties"], **options["properties"]},
        "required": args.get("required", []) + options.get("required", []),
        "additionalProperties": False,
    }
