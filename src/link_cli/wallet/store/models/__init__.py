"""Every model module is imported here so ``Base.metadata`` knows every table.

Other parts add their own line below (e.g. ``from . import spend  # noqa: F401``).
"""

# -- spend requests (WB) and redemption models register here --
from . import accounts, financial, merchants, notify, reports, spend, throttle  # noqa: F401
from . import policies as policies
from .base import Base

__all__ = ["Base"]
