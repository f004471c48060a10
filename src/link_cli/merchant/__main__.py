"""``python -m link_cli.merchant``: run the demo shop."""

from link_cli.merchant.server import main

raise SystemExit(main())
