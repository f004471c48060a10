"""The person imports a bank CSV on the Transactions page in Chromium and sees its lines, the
account among the sources and its balance; a file the wallet cannot read is explained."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.support.person import Person
from tests.support.wallet import WalletProcess

Screenshot = Callable[[Page, str], Path]

STATEMENT = (
    "Date,Description,Amount\n2026-04-02,Corner Coffee,-4.50\n2026-04-03,Payroll ACME,1000.00\n"
)


def test_the_person_imports_a_csv_and_sees_transactions_and_balances(
    page: Page, wallet: WalletProcess, person: Person, screenshot: Screenshot, tmp_path: Path
) -> None:
    page.goto(f"{wallet.url}/signin")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="See transactions").click()
    expect(page.get_by_role("heading", name="Import a bank statement")).to_be_visible()
    expect(page.locator("#balances")).to_contain_text("Visa •••• 4242")

    bad = tmp_path / "notes.csv"
    bad.write_text("hello,world\n1,2\n")
    page.get_by_label("Statement file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("needs a Date column")

    statement = tmp_path / "acme.csv"
    statement.write_text(STATEMENT)
    page.get_by_label("Statement file").set_input_files(str(statement))
    page.get_by_label("Account name (CSV only)").fill("Acme Checking 6789")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported 2 new transactions")
    rows = page.locator("#transactions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Payroll ACME")
    expect(rows.nth(0)).to_contain_text("$1,000.00")
    expect(rows.nth(1)).to_contain_text("Corner Coffee")
    expect(rows.nth(1)).to_contain_text("-$4.50")
    expect(rows.nth(1)).to_contain_text("dining")
    balance = page.locator("#balances tr", has_text="Acme Checking 6789")
    expect(balance).to_contain_text("Cash available")
    expect(balance).to_contain_text("$995.50")
    expect(page.locator("#sources")).to_contain_text("bank_account")
    screenshot(page, "imported")
