"""``link-cli demo``: both payment flows on one machine, with nothing running beforehand.

``link_cli.commands.demo`` declares the command; this package runs it (``handler.run``),
imported only when the command runs. The demo drives the real programs as child processes
(``link-wallet``, the demo shop, ``link-cli``) and reads the wallet's and the shop's pages
over HTTP, so it never imports the wallet, the merchant or the CLI's renderer.
"""
