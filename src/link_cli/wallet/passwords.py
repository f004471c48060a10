"""Password hashing with argon2id (argon2-cffi).

``fast=True`` selects cheap parameters for test suites only (``LINK_WALLET_PASSWORD_HASH=fast``);
verification reads the parameters from the stored hash, so either kind verifies anywhere.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_STRONG = PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both paths cost about the same time.

    Made on first use: a strong hash costs tens of milliseconds, which every ``link-wallet``
    command would otherwise pay at import.
    """
    return _STRONG.hash("not-a-real-password")


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


def hash_password(password: str, *, fast: bool = False) -> str:
    """Hash ``password`` with argon2id."""
    return (_FAST if fast else _STRONG).hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-time check of ``password`` against a stored hash (or a dummy when None)."""
    try:
        return (
            _STRONG.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """A human sentence saying why ``password`` is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password must have at most {MAX_PASSWORD_LENGTH} characters."
    return None
