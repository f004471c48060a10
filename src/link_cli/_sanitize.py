"""Strip terminal escape and control sequences from untrusted text (contract §10.1).

Server, merchant and challenge text reaches terminals and agents; an attacker who controls
it could clear the screen, retitle the window, hide a hyperlink target or overwrite a line
with ``\\r``. The rules mirror the official CLI (``strip-ansi`` 7.2.0 over ``ansi-regex``
6.2.2, then a control-character sweep) so both clients show the same text:

1. ``None`` or ``""`` gives ``""``.
2. Fast path: text with no C0 control (other than ``\\t`` and ``\\n``), no DEL and no ESC is
   returned unchanged. An 8-bit CSI (``\\x9b``) alone therefore passes through, as upstream.
3. ANSI sequences are removed: OSC (``ESC ]`` up to the first BEL, ``ESC \\`` or ``\\x9c``)
   and CSI-like sequences introduced by ``ESC`` or ``\\x9b``.
4. Every remaining C0 control except ``\\t`` and ``\\n``, and DEL, is deleted.

This is the client's output rule, kept identical to upstream's; the wallet's rule for text it
accepts (C1 controls and bidi marks too) is ``link_cli.wallet.domain.text``.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["sanitize_deep", "sanitize_text"]

# The characters that trigger the slow path and that step 4 deletes: C0 minus \t and \n,
# plus DEL. \r (0x0d) and ESC (0x1b) are inside these ranges.
_CONTROL_CLASS = "[\x00-\x08\x0b-\x1f\x7f]"
_CONTROL = re.compile(_CONTROL_CLASS)

# ansi-regex 6.2.2: JavaScript's \d is ASCII-only, hence [0-9] rather than Python's \d.
_STRING_TERMINATOR = "(?:\x07|\x1b\\\\|\x9c)"
_OSC = f"(?:\x1b\\][\\s\\S]*?{_STRING_TERMINATOR})"
_CSI = "[\x1b\x9b][\\[\\]()#;?]*(?:[0-9]{1,4}(?:[;:][0-9]{0,4})*)?[0-9A-PR-TZcf-nq-uy=><~]"
_ANSI = re.compile(f"{_OSC}|{_CSI}")


def sanitize_text(text: str | None) -> str:
    """Return ``text`` without ANSI escape sequences and control characters.

    Tabs, newlines and non-ASCII text are kept. ``None`` becomes ``""``.
    """
    if not text:
        return ""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub("", _ANSI.sub("", text))


def sanitize_deep(value: Any) -> Any:
    """Sanitise every string inside ``value``, recursing into lists, tuples and dicts.

    Dictionary keys are left as they are (upstream does the same); numbers, booleans and
    ``None`` are returned untouched. A new container is built; the input is not modified.
    """
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, dict):
        return {key: sanitize_deep(item) for key, item in value.items()}
    if isinstance(value, list):
        return [sanitize_deep(item) for item in value]
    if isinstance(value, tuple):
        return tuple(sanitize_deep(item) for item in value)
    return value
