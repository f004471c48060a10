"""A person runs their spending policies in Chromium: creates one (a bad field is explained),
edits it, pauses and resumes it, asks the dry run, sees an agent's request approved under it,
revokes that credential and deletes the policy. Screenshots are kept under test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from tests.support.approvals import card_body, new_agent
from tests.support.wallet import WalletProcess

Screenshot = Callable[[Page, str], Path]
DESKTOP = {"width": 1280, "height": 900}


def test_a_person_creates_edits_pauses_dry_runs_revokes_and_deletes_a_policy(
    browser: Browser, wallet: WalletProcess, screenshot: Screenshot
) -> None:
    api = new_agent(wallet)
    person = api.person
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        page.goto(f"{wallet.url}/signin?next=/wallet/policies")
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill(person.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Spending policies")).to_be_visible()

        # A budget without a period is explained, and the form keeps what was typed.
        page.get_by_label("Name").fill("Coffee budget")
        page.get_by_role("textbox", name="Merchants").fill("https://coffee.example")
        page.get_by_label("At most per request").fill("20.00")
        page.get_by_label("Budget, all agents together").fill("50.00")
        page.get_by_role("button", name="Create policy").click()
        expect(page.get_by_role("alert")).to_contain_text("a budget needs a period")
        expect(page.get_by_label("Name")).to_have_value("Coffee budget")
        page.get_by_label("Budget resets every").select_option("week")
        page.get_by_role("button", name="Create policy").click()
        expect(page.get_by_role("status")).to_contain_text("Policy created")
        row = page.locator(".policies li", has_text="Coffee budget")
        expect(row).to_contain_text("up to $20.00 at coffee.example, $50.00 a week")
        screenshot(page, "desktop-policies")

        # Edit: a larger amount per request.
        row.get_by_role("link", name="Edit Coffee budget").click()
        page.get_by_label("At most per request").fill("25.00")
        screenshot(page, "desktop-policy-edit")
        page.get_by_role("button", name="Save policy").click()
        expect(page.get_by_role("status")).to_contain_text("Policy saved")
        expect(row).to_contain_text("up to $25.00")

        # Pause, then resume.
        row.get_by_role("button", name="Pause").click()
        expect(page.get_by_role("status")).to_contain_text("Policy paused")
        expect(row).to_contain_text("paused")
        row.get_by_role("button", name="Resume").click()
        expect(page.get_by_role("status")).to_contain_text("Policy resumed")

        # Dry run: what would happen to a $12.00 request at the shop?
        page.get_by_role("link", name="Dry run").click()
        page.get_by_label("Amount").fill("12.00")
        page.get_by_label("Merchant site (cards)").fill("https://www.coffee.example/cart")
        page.get_by_role("button", name="Check").click()
        result = page.locator(".dry-run-result")
        expect(result).to_contain_text("Approved without asking")
        expect(result).to_contain_text("$38.00 left this week")
        screenshot(page, "desktop-policy-dry-run")

        # An agent's request is approved under it; the person revokes the credential.
        body = card_body(amount=1200, merchant_name="Bean Bar",
                         merchant_url="https://coffee.example/cart")  # fmt: skip
        created = api.create_ok(body)
        assert created["status"] == "approved"
        page.goto(f"{wallet.url}/wallet/policies")
        approval = page.locator(f"[data-request='{created['id']}']")
        expect(approval).to_contain_text("auto-approved $12.00 at Bean Bar under 'Coffee budget'")
        approval.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("status")).to_contain_text("Credential revoked")
        assert api.status_of(created["id"]) == "canceled"

        row.get_by_role("button", name="Delete Coffee budget").click()
        expect(page.get_by_role("status")).to_contain_text("Policy deleted")
        expect(page.locator(".policies li")).to_have_count(0)
    finally:
        context.close()
        api.close()
