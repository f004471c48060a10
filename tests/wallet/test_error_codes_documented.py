"""Every error code the wallet can answer is listed in docs/errors.md ("Wallet API error codes").

The codes are collected from the wallet's source, so a new code without documentation fails
here. Redemption (the Stripe-compatible ``/v1`` routes) is a separate surface and not scanned.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WALLET = REPO / "src" / "link_cli" / "wallet"
# The Stripe-compatible redemption surface, by module.
NOT_LINK_API = {
    "redemption.py",
    "payment_intent_params.py",
    "stripe_errors.py",
    "stripe_form.py",
    "stripe_list.py",
    "stripe_objects.py",
    "idempotency.py",
    "payment_intents.py",
    "cli_merchant.py",
    "merchants.py",
}
SECTION = "## Wallet API error codes"


def _codes_in(tree: ast.AST) -> set[str]:
    found: set[str] = set()

    def text(node: ast.AST | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "code" and text(node.value):
            found.add(text(node.value))  # type: ignore[arg-type]
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "default_code" for t in node.targets
        ):
            found.add(text(node.value) or "")
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.target.id == "default_code":
                found.add(text(node.value) or "")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "_fail" and node.args and text(node.args[0]):
                found.add(text(node.args[0]))  # type: ignore[arg-type]
        elif isinstance(node, ast.Dict) and node.keys:
            # status → code tables such as {404: "not_found", 405: "method_not_allowed"}
            if all(isinstance(k, ast.Constant) and isinstance(k.value, int) for k in node.keys):
                found.update(t for t in map(text, node.values) if t)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "codes"
            and len(node.args) == 2
            and text(node.args[1])
        ):
            found.add(text(node.args[1]))  # type: ignore[arg-type]
    found.discard("")
    return found


def wallet_error_codes() -> set[str]:
    """Every code literal the wallet's Link API, OAuth endpoints, pages and commands use."""
    codes: set[str] = set()
    for path in sorted(WALLET.rglob("*.py")):
        if path.name in NOT_LINK_API or "migrations" in path.parts:
            continue
        codes |= _codes_in(ast.parse(path.read_text(encoding="utf-8")))
    return codes


def documented_codes() -> set[str]:
    text = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
    assert SECTION in text, f"docs/errors.md has no {SECTION!r} section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([a-z_]+)`", section))


def test_the_scan_finds_the_codes_it_should() -> None:
    codes = wallet_error_codes()
    # One of each way a code is written: keyword, class default, validation helper, tables.
    assert {"invalid_grant", "spend_request_invalid_state", "parameter_unknown"} <= codes
    assert {"not_found", "http_error", "spend_limit_exceeded", "csrf_failed"} <= codes


def test_every_wallet_error_code_is_documented() -> None:
    missing = sorted(wallet_error_codes() - documented_codes())
    assert not missing, f"add these codes to docs/errors.md ({SECTION}): {missing}"
