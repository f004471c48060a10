"""What counts as a control character in text people and agents type into the wallet.

Shown on the person's pages and returned to agents, such text must read as what it is:
C0/C1 controls could hide a line break or an escape sequence, and the Unicode bidirectional
marks, embeddings, overrides and isolates could make a name or an amount read differently
than it is. The left-to-right and right-to-left marks (U+200E, U+200F) count too: they are
invisible and change the order in which the digits and punctuation beside them show, and
nobody needs one to type a name, an address or a purchase's description.

This is the wallet's rule for text it stores or shows. The client's terminal sweep
(``link_cli._sanitize``) is another rule: it mirrors the official CLI's output exactly.
"""

from __future__ import annotations

import re

__all__ = ["CONTROL", "CONTROL_SINGLE_LINE", "clean_label"]

_INVISIBLE_OR_BIDI = "\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"

CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f{_INVISIBLE_OR_BIDI}]")
"""Controls in multi-line text (tab and newline allowed)."""

CONTROL_SINGLE_LINE = re.compile(f"[\x00-\x1f{_INVISIBLE_OR_BIDI}]")
"""Controls in single-line text (no tab, no newline)."""


def clean_label(value: str | None, limit: int = 200) -> str | None:
    """Agent-supplied display text with control characters removed, trimmed and bounded."""
    if value is None:
        return None
    cleaned = CONTROL_SINGLE_LINE.sub("", value).strip()
    return cleaned[:limit] or None
