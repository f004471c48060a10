"""``merchant inspect``: how to pay at a URL, what the site says about agents, what looks wrong.

One GET (or the request ``--method/--data/--header`` describe), at most a few redirects,
then the site's /agents.txt, /llms.txt and /robots.txt. No credential or cookie is ever
sent, every body is read up to a bound, and the result is a plain dict for the command to
sanitise and print. The HTML parser, the robots parser and the Public Suffix List load only
here, so ``link-cli --version`` never pays for them.
"""

from __future__ import annotations

from link_cli.inspection.inspect import Inspection, inspect_merchant, parse_resolve

__all__ = ["Inspection", "inspect_merchant", "parse_resolve"]
