"""Helpers shared by every test suite.

* ``ports.free_port()`` — an unused loopback TCP port.
* ``environment`` — ``clean_env()`` for child processes (no ``LINK_*`` from outside), the
  temporary home every test runs with, and where the Node interop peers live.
* ``wallet.WalletProcess`` — a real ``link-wallet serve`` subprocess (test clock on, fast
  password hashing); ``create_person()``, ``advance_clock()``, ``stop()``, ``log_text()``.
* ``wallet_store.WalletStore`` — people, cards and merchants written in-process through the
  wallet's store, as its CLI would (the one test module using wallet internals).
* ``person.Person`` — plays a person through the real HTML forms (sign in, approve a device).
* ``person.wallet_tokens(wallet, person)`` — a complete device login over HTTP, returning the
  token response, for API tests.
* ``approvals`` — both sides of a spend request over HTTP (an API-level agent, the page).
* ``agent.Agent`` — the real ``link-cli`` as a subprocess with its own credentials file.
"""
