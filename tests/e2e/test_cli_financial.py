"""`balances list`, `sources list`, `transactions list` end to end: the real CLI against a real
wallet, whose data is the person's card, a payment that settled and one that was refused at
a merchant of this wallet, and a bank statement the person imported on their page."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from tests.redemption.delegated import DelegatedAgent, card_form, confirm, register_merchant
from tests.support.agent import LINK_CLI, Agent, finish, login
from tests.support.person import bearer, wallet_tokens
from tests.support.racing import race

MERCHANT = "Trailhead Supply Co."
STATEMENT = (
    "Date,Description,Amount,Category\n"
    "2026-03-01,Corner Coffee,-4.50,\n"
    "2026-03-03,Payroll ACME,2500.00,income\n"
    "2026-03-05,Fresh Market,-62.10,\n"
    "2026-03-05,Fresh Market,-62.10,\n"
)


def import_statement(person: Any, content: str, name: str = "statement.csv", **fields: str):
    """Upload through the person's own Transactions page (CSRF token from the page)."""
    if not person.is_signed_in():
        person.sign_in()
    _page, form = person.get_form("/wallet/transactions", "/wallet/transactions/import")
    data = {**form.fields, **fields}
    files = {"statement": (name, content.encode(), "text/csv")}
    return person.client.post("/wallet/transactions/import", data=data, files=files)


@pytest.fixture(scope="module")
def world(wallet, tmp_path_factory):
    person = wallet.create_person()
    tokens = wallet_tokens(
        wallet,
        person,
        scope="userinfo:read payment_methods.agentic spend_requests:approve",
        grant_approve_scope=True,
    )
    payer = DelegatedAgent(wallet, person.payment_method_id, bearer(tokens))
    merchant = register_merchant(wallet)
    _paid_id, card = payer.approved_card(amount=1850)
    assert confirm(wallet, merchant, card_form(card, amount=1850)).status_code == 200
    _refused_id, small = payer.approved_card(amount=1200)
    assert confirm(wallet, merchant, card_form(small, amount=1850)).status_code == 402
    imported = import_statement(person, STATEMENT, account_name="Acme Bank 6789")
    assert imported.status_code == 200 and "Imported 4 new transactions" in imported.text
    agent = Agent(wallet.url, tmp_path_factory.mktemp("financial") / "auth.json")
    login(agent, person)
    yield agent, person, tokens
    person.close()


def _ok(agent: Agent, *args: str) -> dict[str, Any]:
    code, page = agent.json(*args)
    assert code == 0, page
    return page


def test_sources_are_the_card_and_the_imported_account(world) -> None:
    agent, person, _ = world
    page = _ok(agent, "sources", "list")
    assert list(page)[-2:] == ["data", "has_more"] and page["has_more"] is False
    card, bank = page["data"]
    assert (card["id"], card["type"], card["name"]) == (
        person.payment_method_id,
        "card",
        "Visa •••• 4242",
    )
    assert card["capabilities"]["transactions"] == {"status": "eligible"}
    assert (bank["type"], bank["name"]) == ("bank_account", "Acme Bank 6789")
    assert bank["external_connection"] == {"status": "active"}
    first = _ok(agent, "sources", "list", "--limit", "1")
    assert first["has_more"] is True and first["data"] == [card]
    rest = _ok(agent, "sources", "list", "--starting-after", card["id"])
    assert rest["data"] == [bank] and rest["has_more"] is False
    before = _ok(agent, "sources", "list", "--ending-before", bank["id"])
    assert before["data"] == [card]


def test_payments_are_link_transactions_and_imports_external_ones(world) -> None:
    agent, person, _ = world
    page = _ok(agent, "transactions", "list", "--limit", "100")
    by_origin: dict[str, list[dict[str, Any]]] = {}
    for item in page["data"]:
        by_origin.setdefault(item["origin"], []).append(item)
    link = sorted(by_origin["link"], key=lambda t: t["status"])
    assert [(t["status"], t["amount"]) for t in link] == [("failed", -1850), ("succeeded", -1850)]
    for item in link:
        assert (item["description"], item["currency"], item["source_id"]) == (
            MERCHANT,
            "usd",
            person.payment_method_id,
        )
        assert list(item) == [
            "id", "source_id", "amount", "currency", "created_date",
            "description", "origin", "category", "status",
        ]  # fmt: skip
    external = by_origin["external_connection"]
    assert sorted((t["created_date"], t["amount"], t["description"]) for t in external) == [
        ("2026-03-01", -450, "Corner Coffee"),
        ("2026-03-03", 250000, "Payroll ACME"),
        ("2026-03-05", -6210, "Fresh Market"),
        ("2026-03-05", -6210, "Fresh Market"),
    ]
    categories = {t["description"]: t["category"] for t in external}
    assert categories == {
        "Corner Coffee": "dining",
        "Payroll ACME": "income",
        "Fresh Market": "groceries",
    }
    dates = [t["created_date"] for t in page["data"]]
    assert dates == sorted(dates, reverse=True)


def test_every_filter_reaches_the_wallet(world) -> None:
    agent, person, _ = world
    sources = _ok(agent, "sources", "list")["data"]
    bank = sources[1]["id"]

    def ids(*args: str) -> list[str]:
        return [t["description"] for t in _ok(agent, "transactions", "list", *args)["data"]]

    assert set(ids("--origin", "link")) == {MERCHANT}
    assert len(ids("--origin", "external_connection")) == 4
    assert ids("--start-date", "2026-03-02", "--end-date", "2026-03-04") == ["Payroll ACME"]
    assert ids("--category", "groceries") == ["Fresh Market", "Fresh Market"]
    assert len(ids("--source", bank)) == 4
    assert set(ids("--source", person.payment_method_id)) == {MERCHANT}
    assert len(ids("--source", bank, "--source", person.payment_method_id)) == 6


def test_cursor_pagination_walks_every_transaction_once(world) -> None:
    agent, _person, _ = world
    everything = [t["id"] for t in _ok(agent, "transactions", "list")["data"]]
    seen: list[str] = []
    cursor: list[str] = []
    while True:
        page = _ok(agent, "transactions", "list", "--limit", "4", *cursor)
        seen += [t["id"] for t in page["data"]]
        if not page["has_more"]:
            break
        cursor = ["--starting-after", page["data"][-1]["id"]]
    assert seen == everything and len(seen) == 6
    back = _ok(agent, "transactions", "list", "--limit", "2", "--ending-before", everything[4])
    assert [t["id"] for t in back["data"]] == everything[2:4] and back["has_more"] is True


def test_balances_per_source(world) -> None:
    agent, person, _ = world
    page = _ok(agent, "balances", "list")
    card, bank = page["data"]
    assert (card["source_id"], card["type"], card["credit"]) == (
        person.payment_method_id,
        "credit",
        {"used": {"usd": 1850}},
    )
    assert (bank["type"], bank["cash"]) == ("cash", {"available": {"usd": -450 + 250000 - 12420}})
    assert card["as_of"].endswith("Z")
    only = _ok(agent, "balances", "list", "--source", bank["source_id"])
    assert only["data"] == [bank]  # as of its import, not of the request


def test_importing_the_same_statement_again_adds_nothing(world) -> None:
    agent, person, _ = world
    again = import_statement(person, STATEMENT, account_name="Acme Bank 6789")
    assert again.status_code == 200 and "Imported 0 new transactions" in again.text
    bad = import_statement(person, "Date,Amount\nnot a date,1\n", account_name="x")
    assert bad.status_code == 400 and "Description column" in bad.text
    assert len(_ok(agent, "transactions", "list", "--origin", "external_connection")["data"]) == 4


def test_the_cli_refuses_bad_values_before_any_request(world) -> None:
    agent, _person, _ = world
    code, error = agent.json("transactions", "list", "--start-date", "03/01/2026")
    assert code == 1 and error["code"] == "VALIDATION_ERROR"
    assert error["fieldErrors"][0]["message"] == "Date must be in YYYY-MM-DD format."
    for args in (("--limit", "0"), ("--limit", "101"), ("--origin", "bank")):
        code, error = agent.json("transactions", "list", *args)
        assert code == 1 and error["code"] == "VALIDATION_ERROR", args


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1e3",
        "limit=%EF%BC%91",
        "starting_after=pi_nope",
        "ending_before=" + "x" * 200,
        "starting_after=a&ending_before=b",
        "date_start=2026-02-30",
        "date_start=2026-03-05&date_end=2026-03-01",
        "date_end=yesterday",
        "origin=cash",
        "sources%5B%5D=src_someone_else",
        "category=%20",
        "limit=5&limit=6",
    ],
)
def test_the_wallet_answers_bad_queries_with_400(wallet, world, query) -> None:
    _agent, _person, tokens = world
    response = httpx2.get(f"{wallet.url}/transactions?{query}", headers=bearer(tokens), timeout=15)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_token_without_the_scope_gets_the_scope_error(wallet, world, tmp_path) -> None:
    _agent, person, _ = world
    narrow = Agent(wallet.url, tmp_path / "narrow.json")
    process = narrow.popen(
        "auth", "login", "--scope", "userinfo:read", "--interval", "0.2", "--format", "jsonl"
    )
    first = json.loads(process.stdout.readline())  # type: ignore[union-attr]
    person.approve_device(first["data"]["verification_url"])
    code, rest = finish(process)
    assert code == 0, rest
    for command in ("transactions", "sources", "balances"):
        code, error = narrow.json(command, "list")
        assert code == 1
        assert error["message"] == (
            f"Failed to list {command} (403): "
            "This access token was not granted the payment_methods.agentic scope."
        )


def test_without_a_login_the_commands_say_not_authenticated(wallet, tmp_path) -> None:
    stranger = Agent(wallet.url, tmp_path / "none.json")
    for command in ("transactions", "sources", "balances"):
        code, error = stranger.json(command, "list")
        assert code == 1 and error["code"] == "NOT_AUTHENTICATED"


@pytest.mark.postgres
def test_concurrent_imports_of_one_statement_store_each_line_once(any_wallet) -> None:
    person = any_wallet.create_person()
    person.sign_in()
    _page, form = person.get_form("/wallet/transactions", "/wallet/transactions/import")
    data = {**form.fields, "account_name": "Race Bank"}

    def upload():
        files = {"statement": ("race.csv", STATEMENT.encode(), "text/csv")}
        return person.client.post("/wallet/transactions/import", data=data, files=files)

    answers = race([upload] * 4)
    assert all(not isinstance(a, Exception) and a.status_code in (200, 409) for a in answers)
    assert any(a.status_code == 200 for a in answers)
    page = person.client.get("/wallet/transactions")
    assert page.text.count('data-origin="external_connection"') == 4
    assert page.text.count('<span class="pm-brand">Race Bank</span>') == 1  # one account
    person.close()


@pytest.mark.anyio
async def test_the_mcp_tools_answer_the_same_pages(world) -> None:
    import anyio

    from mcp import Client, StdioServerParameters

    agent, person, _ = world
    params = StdioServerParameters(command=LINK_CLI, args=["--mcp"], env=agent.env())
    async with Client(params) as client:
        with anyio.fail_after(60):
            result = await client.call_tool(
                "transactions_list", {"origin": "external_connection", "limit": 2}
            )
            refused = await client.call_tool("transactions_list", {"startDate": "2026/03/01"})
            sources = await client.call_tool("sources_list", {})
            balances = await client.call_tool(
                "balances_list", {"source": [person.payment_method_id]}
            )
    page = json.loads(result.content[0].text)
    assert result.is_error is False and page["has_more"] is True
    assert [t["origin"] for t in page["data"]] == ["external_connection"] * 2
    assert refused.is_error is True
    assert "Date must be in YYYY-MM-DD format." in refused.content[0].text
    assert len(json.loads(sources.content[0].text)["data"]) == 2
    [balance] = json.loads(balances.content[0].text)["data"]
    assert balance["credit"] == {"used": {"usd": 1850}}


def test_another_persons_ids_answer_like_unknown_ones(wallet, world) -> None:
    _agent, _person, tokens = world
    other = wallet.create_person()
    assert import_statement(other, STATEMENT, account_name="Other Bank").status_code == 200
    other_tokens = wallet_tokens(wallet, other)
    theirs = httpx2.get(f"{wallet.url}/transactions", headers=bearer(other_tokens), timeout=15)
    their_txn = theirs.json()["data"][0]["id"]
    their_source = theirs.json()["data"][0]["source_id"]
    other.close()

    def answer(path: str, query: str) -> tuple[int, str]:
        response = httpx2.get(f"{wallet.url}/{path}?{query}", headers=bearer(tokens), timeout=15)
        return response.status_code, response.json()["error"]["message"]

    for path, query, unknown in (
        ("transactions", f"starting_after={their_txn}", "starting_after=txn_unknown"),
        ("transactions", f"sources%5B%5D={their_source}", "sources%5B%5D=src_unknown"),
        ("balances", f"sources%5B%5D={their_source}", "sources%5B%5D=src_unknown"),
        ("sources", f"ending_before={their_source}", "ending_before=src_unknown"),
    ):
        mine_status, mine_message = answer(path, query)
        unknown_status, unknown_message = answer(path, unknown)
        assert mine_status == unknown_status == 400
        assert mine_message.split(":")[0] == unknown_message.split(":")[0]


def test_an_upload_over_the_import_bound_is_refused_before_it_is_read(wallet, world) -> None:
    _agent, person, _ = world
    big = "Date,Description,Amount\n" + "2026-03-01,Corner Coffee,-4.50\n" * 40_000  # ~1.3 MB
    response = import_statement(person, big, account_name="Big Bank")
    assert response.status_code == 413, response.text[:200]
    assert "too large" in response.text
    # Other forms keep their 64 KiB bound.
    signin = person.client.post("/signin", data={"email": "x" * 70_000, "password": "y"})
    assert signin.status_code == 413


OFX = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261201
<LANGUAGE>ENG<FI><ORG>Acme Bank<FID>1</FI></SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS><CURDEF>USD
<BANKACCTFROM><BANKID>121000248<ACCTID>000123456789<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20261101<DTEND>20261130
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261105<TRNAMT>-12.34<FITID>A1<NAME>Corner Coffee</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>2500.10<DTASOF>20261130</LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


def test_an_ofx_export_brings_its_bank_and_ledger_balance(wallet) -> None:
    person = wallet.create_person()
    imported = import_statement(person, OFX, name="export.qfx")
    assert imported.status_code == 200 and "Imported 1 new transaction." in imported.text
    page = imported.text
    assert "Acme Bank •••• 6789" in page and "$2,500.10" in page and "-$12.34" in page
    person.close()


def test_the_date_rule_reports_zods_regex_issue(tmp_path) -> None:
    agent = Agent("http://127.0.0.1:9", tmp_path / "none.json")
    # The auth middleware runs before validation (as in incur): an env token passes it.
    code, error = agent.json(
        "transactions", "list", "--end-date", "2026-3-1", LINK_ACCESS_TOKEN="liwltoken_x"
    )
    assert code == 1
    details = json.loads(error["message"].split("Details: ", 1)[1])
    assert details == [
        {
            "origin": "string",
            "code": "invalid_format",
            "format": "regex",
            "pattern": "/^\\d{4}-\\d{2}-\\d{2}$/",
            "path": ["endDate"],
            "message": "Date must be in YYYY-MM-DD format.",
        }
    ]
