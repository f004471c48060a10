"""The one error type of the MPP codec.

Every parser in :mod:`link_cli.mpp` raises :class:`MppParseError` and nothing else, whatever
the input. Messages describe *what* was wrong ("Duplicate parameter: id") and never echo
credential data, so they are safe to show to a user or to log.
"""

from __future__ import annotations

__all__ = ["MppParseError"]


class MppParseError(ValueError):
    """A header, credential, receipt or request object could not be accepted."""
