"""What counts as a control character in text people and agents type into the wallet.

Shown on the person's pages and returned to agents, such text must read as what it is:
C0/C1 controls could hide a line break or an escape sequence, and the Unicode bidirectional
marks, embeddings, overrides and isolates could make a name or an amount read differently
than it is. Invisible characters count too: the left-to-right and right-to-left marks
(U+200E, U+200F, U+061C) change the order in which the digits and punctuation beside them
show; zero-width spaces and joiners (U+200B–U+200D, U+2060–U+2064), the byte order mark
(U+FEFF) and the soft hyphen (U+00AD) make two different strings look the same; the line and
paragraph separators (U+2028, U+2029) break a line where no newline is seen. Nobody needs
one to type a name, an address or a purchase's description (the price: an emoji joined with
U+200D and a Persian word with U+200C are refused too).

Every person-visible field uses this rule: spend-request text (merchant name, context, line
items, totals, metadata, approval details), card fields and nickname, person names, merchant
names, OAuth connection labels (those are cleaned with :func:`clean_label`, not refused).

This is the wallet's rule for text it stores or shows. The client's terminal sweep
(``link_cli._sanitize``) is another rule: it mirrors the official CLI's output exactly.
"""

from __future__ import annotations

import re

__all__ = ["CONTROL", "CONTROL_SINGLE_LINE", "clean_label"]

_INVISIBLE_OR_BIDI = (
    "\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
)

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
