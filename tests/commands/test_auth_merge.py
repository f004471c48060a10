"""Access merging for ``auth upgrade`` (contract §6.4) and token previews."""

from __future__ import annotations

from link_cli.commands.auth import merge_details, merge_scopes, token_preview


def test_scopes_requested_first_then_existing_commas_accepted():
    assert merge_scopes("b a", "a,c") == "b a c"


def test_absent_scope_counts_as_the_default():
    assert merge_scopes(None, "x") == "userinfo:read payment_methods.agentic x"
    assert merge_scopes("x", "") == "x userinfo:read payment_methods.agentic"


def test_action_details_are_unioned_by_type_and_other_fields_dropped():
    requested = [{"type": "source", "actions": ["read_external_transactions"]}]
    existing = [{"type": "source", "resource_id": "src_123", "actions": ["read_balances"]}]
    assert merge_details(requested, existing) == [
        {"type": "source", "actions": ["read_external_transactions", "read_balances"]}
    ]


def test_opaque_details_are_kept_once_in_order():
    a, b = {"type": "account", "filters": ["x"]}, True
    assert merge_details([a, b], [b, a, {"type": "t", "actions": ["r"]}]) == [
        a,
        b,
        {"type": "t", "actions": ["r"]},
    ]


def test_token_preview_shows_twenty_characters():
    assert token_preview("abcdefghijklmnopqrstuvwxyz") == "abcdefghijklmnopqrst..."
