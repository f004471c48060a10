"""The soak harness behind ``make soak``: races and kill -9 crashes against real wallets.

``python -m tests.soak`` (``make soak``) starts a throwaway PostgreSQL with several
``link-wallet serve`` processes sharing it, and SQLite wallets sharing one file, then runs
every race scenario of :mod:`tests.soak.scenarios` and the crash rounds of
:mod:`tests.soak.crash` in turn until the time or the round counts run out, and prints
attempts against violations. ``tests/soak/test_soak.py`` runs one tiny round of each so the
harness cannot rot. Policy and figures: docs/security.md, "Soak: races and crashes".
"""
