"""The demo merchant: a small shop that takes HTTP 402 payments and card checkouts,
settling both against a Link wallet (see :mod:`link_cli.merchant.app`)."""
