"""Helpers shared by every test suite: free ports, a real wallet process, a simulated person.

* ``ports.free_port()`` — an unused loopback TCP port.
* ``wallet.WalletProcess`` — a real ``link-wallet serve`` subprocess (test clock on, fast
  password hashing); ``create_person()``, ``advance_clock()``, ``stop()``, ``log_text()``.
* ``person.Person`` — plays a person through the real HTML forms (sign in, approve a device).
* ``person.wallet_tokens(wallet, person)`` — a complete device login over HTTP, returning the
  token response, for API tests.
"""
