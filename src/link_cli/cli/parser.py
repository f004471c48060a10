"""argv → (command, raw option values, global flags), with the rules of contract §1.1–§1.5.

A small hand-written tokenizer driven by the registry rather than argparse: the official
CLI's rules (kebab *and* camel flags, ``--no-x`` for every option, booleans that never
consume ``true``/``false``, global flags anywhere, its exact ``Unknown flag: --x`` /
``Missing value for flag: --x`` / ``COMMAND_NOT_FOUND`` messages) are not argparse's, and
re-creating them on top of argparse would override most of it.

Plain classes rather than dataclasses here keep ``inspect`` off the ``--help`` path.
"""

from __future__ import annotations

from link_cli import commands as registry
from link_cli.cli.render import FORMATS
from link_cli.commands._spec import Command, Group, Option
from link_cli.errors import CommandNotFound, LinkError, make_cta

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

PROGRAM = "link-cli"


class GlobalFlags:
    """Framework flags of contract §1.4 that are recognised anywhere on the line."""

    def __init__(self) -> None:
        self.format: str | None = None
        self.full_output = False
        self.schema = False
        self.llms = False
        self.llms_full = False
        self.help = False
        self.version = False
        self.mcp = False

    @property
    def format_explicit(self) -> bool:
        return self.format is not None


class Invocation:
    """What the command line asks for."""

    def __init__(self, flags: GlobalFlags) -> None:
        self.flags = flags
        self.path: tuple[str, ...] = ()
        self.command: Command | None = None
        self.group: Group | None = None  # set when the path names a group (or the root)
        self.raw: dict[str, Any] = {}


class Preprocessed:
    """Result of the CLI's own pre-processing (contract §1.1)."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.verbose = False
        self.auth_path: str | None = None
        self.auth_given = False


def preprocess(argv: list[str]) -> Preprocessed:
    """Remove the first ``--verbose`` and the first ``--auth <path>`` (contract §1.1 steps 1–2)."""
    argv = list(argv)
    result = Preprocessed(argv)
    if "--verbose" in argv:
        argv.remove("--verbose")
        result.verbose = True
    if "--auth" in argv:
        index = argv.index("--auth")
        result.auth_given = True
        # `--auth` last: undefined path → the default location, not LINK_AUTH_FILE (contract §1.1).
        result.auth_path = argv[index + 1] if index + 1 < len(argv) else None
        del argv[index : index + 2]
    result.argv = argv
    return result


def _invalid_format(value: str) -> LinkError:
    return LinkError(f'Invalid format: "{value}". Expected one of: {", ".join(FORMATS)}')


def _extract_globals(argv: list[str]) -> tuple[GlobalFlags, list[str]]:
    flags = GlobalFlags()
    rest: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--format" or token.startswith("--format="):
            if "=" in token:
                value = token.partition("=")[2]
            elif i + 1 < len(argv):
                i += 1
                value = argv[i]
            else:
                raise LinkError("Missing value for flag: --format")
            if value not in FORMATS:
                raise _invalid_format(value)
            flags.format = value
        elif token == "--json":
            flags.format = "json"
        elif token == "--full-output":
            flags.full_output = True
        elif token == "--schema":
            flags.schema = True
        elif token == "--llms":
            flags.llms = True
        elif token == "--llms-full":
            flags.llms_full = True
        elif token in ("--help", "-h"):
            flags.help = True
        elif token == "--mcp":
            flags.mcp = True
        elif token == "--version" and (i + 1 == len(argv) or argv[i + 1].startswith("-")):
            flags.version = True
        else:
            rest.append(token)
        i += 1
    return flags, rest


def _suggest(token: str, names: list[str]) -> str | None:
    import difflib  # error path only

    matches = difflib.get_close_matches(token, names, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _not_found(
    token: str, parent: tuple[str, ...], names: list[str], argv: list[str]
) -> CommandNotFound:
    """contract §1.5: the message, then the whole line with the typo corrected and the help command."""
    parent_name = " ".join((PROGRAM, *parent))
    suggestion = _suggest(token, names)
    message = f"'{token}' is not a command for '{parent_name}'."
    commands: list[tuple[str, str | None]] = []
    if suggestion:
        message += f" Did you mean '{suggestion}'?"
        corrected = [suggestion if word == token else word for word in argv]
        commands.append((" ".join(corrected), None))
    commands.append((" ".join((*parent, "--help")), "see all available commands"))
    error = CommandNotFound(message, cta=make_cta(*commands))
    error.token = token
    return error


def _children(path: tuple[str, ...]) -> list[str]:
    """Names directly under ``path`` (top-level names for the root)."""
    if not path:
        return sorted(registry.TOP_LEVEL)
    names = {c.path[len(path)] for c in registry.commands_for(path[0]) if len(c.path) > len(path)}
    return sorted(names)


def _resolve_path(
    tokens: list[str], argv: list[str]
) -> tuple[tuple[str, ...], Command | None, Group | None, int]:
    """Walk leading positional tokens down the tree; return how many were used."""
    path: tuple[str, ...] = ()
    used = 0
    while used < len(tokens) and not tokens[used].startswith("-"):
        candidate = (*path, tokens[used])
        command = registry.find_command(candidate)
        if command is not None:
            return candidate, command, None, used + 1
        if registry.find_group(candidate) is not None:
            path, used = candidate, used + 1
            continue
        raise _not_found(tokens[used], path, _children(path), argv)
    return path, None, registry.find_group(path) if path else None, used


def _option_index(command: Command) -> dict[str, Option]:
    index: dict[str, Option] = {}
    for option in command.options:
        index[option.flag[2:]] = option
        index[option.name] = option
    return index


def _negated(name: str, index: dict[str, Option]) -> Option | None:
    """``no-request-approval`` / ``noRequestApproval`` → the option it sets to false."""
    if name.startswith("no-"):
        return index.get(name[3:])
    if name.startswith("no") and name[2:3].isupper():
        return index.get(name[2].lower() + name[3:])
    return None


def _store(raw: dict[str, Any], option: Option, value: Any) -> None:
    if option.repeatable and value is not False:
        raw.setdefault(option.name, []).append(value)
    else:
        raw[option.name] = value


def parse_options(command: Command, tokens: list[str]) -> dict[str, Any]:
    """Parse a command's own flags and positionals into raw (unvalidated) values."""
    index = _option_index(command)
    shorts = {o.short: o for o in command.options if o.short}
    raw: dict[str, Any] = {}
    positionals: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("--") and len(token) > 2:
            name, has_value, inline = token[2:].partition("=")
            option = index.get(name)
            negated = _negated(name, index) if option is None else None
            if negated is not None:
                _store(raw, negated, False)
                i += 1
                continue
            if option is None:
                raise LinkError(f"Unknown flag: --{name}")
            if option.type == "boolean" and not option.accepts_object:
                _store(raw, option, inline != "false" if has_value else True)
            elif has_value:
                _store(raw, option, inline)
            elif i + 1 < len(tokens):
                i += 1
                _store(raw, option, tokens[i])
            else:
                raise LinkError(f"Missing value for flag: --{name}")
        elif token.startswith("-") and len(token) > 1 and not token[1].isdigit():
            letters = token[1:]
            for position, letter in enumerate(letters):
                option = shorts.get(letter)
                if option is None:
                    raise LinkError(f"Unknown flag: -{letter}")
                if option.type == "boolean":
                    _store(raw, option, True)
                    continue
                if position != len(letters) - 1 or i + 1 >= len(tokens):
                    raise LinkError(f"Missing value for flag: -{letter}")
                i += 1
                _store(raw, option, tokens[i])
        else:
            positionals.append(token)
        i += 1
    for argument, value in zip(command.args, positionals, strict=False):
        raw[argument.name] = value  # extra positionals are ignored (contract §1.5)
    return raw


def parse(argv: list[str]) -> Invocation:
    """Parse a pre-processed argv. Raises LinkError (UNKNOWN / COMMAND_NOT_FOUND)."""
    flags, rest = parse_globals(argv)
    return parse_command(flags, rest, argv)


def parse_globals(argv: list[str]) -> tuple[GlobalFlags, list[str]]:
    """The framework flags of contract §1.4 and the remaining tokens; raises on a bad ``--format``."""
    return _extract_globals(argv)


def parse_command(flags: GlobalFlags, rest: list[str], argv: list[str]) -> Invocation:
    """Resolve the command in ``rest`` and parse its options (``argv``: the whole line).

    Errors raised here are rendered in the ``--format`` already read from ``flags``.
    """
    invocation = Invocation(flags)
    if flags.version and not rest:
        return invocation
    path, command, group, used = _resolve_path(rest, argv)
    invocation.path, invocation.command, invocation.group = path, command, group
    remaining = rest[used:]
    if command is None:
        if remaining and not flags.help:
            first = remaining[0]
            raise LinkError(f"Unknown flag: {first.partition('=')[0]}")
        return invocation
    if not (flags.help or flags.schema):  # help and schema never need the values
        invocation.raw = parse_options(command, remaining)
    return invocation
