"""link-cli: a Python Link CLI and a self-hostable Link wallet."""

__version__ = "0.1.0"
