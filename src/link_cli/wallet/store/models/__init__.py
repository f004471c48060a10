"""Every model module is imported here so ``Base.metadata`` knows every table.

Other parts add their own line below (e.g. ``from . import spend  # noqa: F401``).
"""

# -- spend requests (WB) and redemption models register here --
from . import (  # noqa: F401
    accounts,
    financial,
    issuing,
    merchants,
    notify,
    reports,
    spend,
    throttle,
)
from . import policies as policies
from .base import Base

__all__ = ["Base"]
