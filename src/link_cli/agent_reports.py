"""The vocabulary of agent reports (contract §3.16), one home for both sides.

The client's ``report`` command offers exactly these choices and the wallet accepts exactly
these values, so the two can never disagree about what an agent may say.
"""

from __future__ import annotations

__all__ = ["OUTCOMES", "TAGS", "TEXT_LIMIT"]

OUTCOMES = ("success", "blocked", "abandoned")
"""How a purchase attempt on a site ended."""

TAGS = (
    "stripe_checkout",
    "captcha",
    "anti_bot_script",
    "cdn_block",
    "waf_block",
    "dns_block",
    "rate_limited",
    "login_required",
    "3ds_challenge",
    "page_inaccessible",
    "timeout",
    "site_error",
    "payment_declined",
    "other",
)
"""What the agent met on the way (any number of them)."""

TEXT_LIMIT = 500
"""Characters of ``step`` and ``freeform_context``."""
