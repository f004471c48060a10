"""Human mode of the financial lists: fixed-width tables, `has_more` and the next cursor
(contract §3.17)."""

from __future__ import annotations

import io

import pytest

from link_cli.cli import tty
from link_cli.commands import find_command

TRANSACTION = {
    "id": "pi_123",
    "source_id": "csmrpd_1",
    "amount": -1850,
    "currency": "usd",
    "created_date": "2026-03-05",
    "description": "Trailhead Supply Co. and a name far too long for its column " * 2,
    "origin": "link",
    "category": None,
    "status": "succeeded",
}


def shown(path: tuple[str, ...], page: object, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COLUMNS", "140")
    out = io.StringIO()
    command = find_command(path)
    assert command is not None
    assert tty.present(command, page, out) == 0
    return out.getvalue().splitlines()


def test_transactions_are_a_table_with_the_next_cursor(monkeypatch) -> None:
    lines = shown(("transactions", "list"), {"data": [TRANSACTION], "has_more": True}, monkeypatch)
    assert lines[0].split() == [
        "DATE",
        "DESCRIPTION",
        "AMOUNT",
        "CATEGORY",
        "ORIGIN",
        "STATUS",
        "ID",
    ]
    assert lines[1].startswith("2026-03-05  Trailhead Supply Co.")
    assert "...  -$18.50" in lines[1] and lines[1].endswith("pi_123")
    assert all(len(line) <= 140 for line in lines)
    assert lines[2:] == ["has_more: true", "next page: --starting-after pi_123"]


def test_balances_name_the_source_id_as_the_cursor_and_stop_without_more(monkeypatch) -> None:
    page = {
        "data": [
            {
                "source_id": "src_1",
                "name": "Acme",
                "type": "cash",
                "cash": {"available": {"usd": 99550}},
            }
        ],
        "has_more": False,
    }
    lines = shown(("balances", "list"), page, monkeypatch)
    assert "$995.50" in lines[1] and lines[1].startswith("src_1")
    assert lines[-1] == "has_more: false"


def test_an_empty_page_and_hostile_text(monkeypatch) -> None:
    assert shown(("sources", "list"), {"data": []}, monkeypatch)[1:] == [
        "(none)",
        "has_more: false",
    ]
    page = {"data": [{"id": "src_1", "name": "Evil\x1b[31m bank", "type": "bank_account"}]}
    assert "\x1b" not in "\n".join(shown(("sources", "list"), page, monkeypatch))
