"""What counts as a control character in text people and agents type into the wallet.

Shown on the person's pages and returned to agents, such text must read as what it is:
C0/C1 controls could hide a line break or an escape sequence, and the Unicode bidirectional
embeddings, overrides and isolates could make a name read differently than it is.
"""

from __future__ import annotations

import re

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Controls in multi-line text (tab and newline allowed)."""

CONTROL_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Controls in single-line text (no tab, no newline)."""
