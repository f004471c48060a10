"""The command registry: every link-cli command, declared once.

Each top-level name (``auth``, ``spend-request``, ``demo``…) maps to the module that
declares it; a module exposes ``GROUPS`` (tuple of :class:`Group`) and ``COMMANDS`` (tuple
of :class:`Command`). Only the module a command line names is imported, so
``link-cli auth status`` never loads the spend-request module, and a handler's own
dependencies are imported only when it runs (:func:`load_handler`).

To add a command group, add its module to ``TOP_LEVEL`` below.
"""

from __future__ import annotations

import importlib

from link_cli.commands._spec import (
    UNDEFINED,
    Argument,
    Command,
    Group,
    Option,
    strip_undefined,
    validate,
)

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "ROOT_DESCRIPTION",
    "TOP_LEVEL",
    "UNDEFINED",
    "Argument",
    "Command",
    "Group",
    "Option",
    "all_commands",
    "all_groups",
    "commands_for",
    "find_command",
    "find_group",
    "load_handler",
    "strip_undefined",
    "validate",
]

ROOT_DESCRIPTION = (
    "Create a secure, one-time payment credential from a Link wallet to let agents "
    "complete purchases on behalf of users."
)

# Top-level command name → declaring module. Later groups (mpp, demo, serve…) add a line.
TOP_LEVEL: dict[str, str] = {
    "auth": "link_cli.commands.auth",
    "balances": "link_cli.commands.financial",
    "demo": "link_cli.commands.demo",
    "merchant": "link_cli.commands.merchant",
    "mpp": "link_cli.commands.mpp",
    "onboard": "link_cli.commands.demo",
    "payment-methods": "link_cli.commands.payment_methods",
    "report": "link_cli.commands.report",
    "shipping-address": "link_cli.commands.shipping_address",
    "sources": "link_cli.commands.financial",
    "serve": "link_cli.commands.serve",
    "spend-request": "link_cli.commands.spend_request",
    "transactions": "link_cli.commands.financial",
    "user-info": "link_cli.commands.user_info",
}


_loaded: dict[str, tuple[tuple[Group, ...], tuple[Command, ...]]] = {}


def _declarations(top: str) -> tuple[tuple[Group, ...], tuple[Command, ...]]:
    if top not in _loaded:
        module = importlib.import_module(TOP_LEVEL[top])
        groups = tuple(g for g in getattr(module, "GROUPS", ()) if g.path[0] == top)
        commands = tuple(c for c in module.COMMANDS if c.path[0] == top)
        _loaded[top] = (groups, commands)
    return _loaded[top]


def commands_for(top: str) -> tuple[Command, ...]:
    """Every command under one top-level name (empty if the name is unknown)."""
    if top not in TOP_LEVEL:
        return ()
    return _declarations(top)[1]


def all_commands() -> tuple[Command, ...]:
    """Every command, sorted by path (imports every declaring module)."""
    found = [c for top in TOP_LEVEL for c in _declarations(top)[1]]
    return tuple(sorted(found, key=lambda c: c.path))


def all_groups() -> tuple[Group, ...]:
    """Every group, sorted by path."""
    found = [g for top in TOP_LEVEL for g in _declarations(top)[0]]
    return tuple(sorted(found, key=lambda g: g.path))


def find_command(path: tuple[str, ...]) -> Command | None:
    """The command whose path is exactly ``path``."""
    if not path:
        return None
    for command in commands_for(path[0]):
        if command.path == path:
            return command
    return None


def find_group(path: tuple[str, ...]) -> Group | None:
    """The group whose path is exactly ``path``."""
    if not path or path[0] not in TOP_LEVEL:
        return None
    for group in _declarations(path[0])[0]:
        if group.path == path:
            return group
    return None


def load_handler(command: Command) -> Callable[..., Any]:
    """Import and return the function named by ``command.handler`` (``"mod:func"``)."""
    module_name, _, function_name = command.handler.partition(":")
    return getattr(importlib.import_module(module_name), function_name)
