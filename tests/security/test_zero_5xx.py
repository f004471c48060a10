"""Zero 5xx on any input, both backends (issue 10, class 6): schemathesis over the wallet's
OpenAPI document, in-process (ASGI) against a migrated wallet on SQLite and on PostgreSQL.

Every operation of the document is fuzzed with schema-valid and schema-violating requests
(schemathesis' coverage and fuzzing phases). The requests reach past authentication: agent
routes carry a real access token of an approved device login (all scopes), ``/v1`` routes a
real merchant secret key (set up in-process through ``tests/support/wallet_store.py``), and
path ids are real ids half of the time. Each answer must not be a 5xx, must have a
documented status, content type and headers, and its body must match the documented schema
(the contract's error body for every 4xx). Deterministic (``derandomize``, no example
database) and bounded (``FUZZ_EXAMPLES`` per operation).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from tests.conftest import _POSTGRES_URL, POSTGRES_ENV, fresh_postgres_database
from tests.support.approvals import CONTEXT
from tests.support.fuzzing import fuzz
from tests.support.wallet import DEFAULT_CARD, DEFAULT_PASSWORD
from tests.support.wallet_store import WalletStore

from link_cli.demo.pages import parse_forms
from link_cli.wallet.app import create_app
from link_cli.wallet.clock import Clock
from link_cli.wallet.domain.oauth import KNOWN_SCOPES
from link_cli.wallet.domain.oauth import PUBLIC_CLIENT_ID as OAUTH_CLIENT_ID

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FUZZ_EXAMPLES = 5
"""Generated requests per operation and mode (schema-valid, schema-violating): enough to
reach every operation both ways on every run; bench/wallet_fuzz.py searches with 150."""


PUBLIC_URL = "http://testserver"  # schemathesis' ASGI client sends this Host


def fuzz_env() -> dict[str, str]:
    """The settings of a wallet under fuzzing: cheap hashing, throttles out of the way."""
    return {
        "LINK_WALLET_PUBLIC_URL": PUBLIC_URL,
        "LINK_WALLET_PASSWORD_HASH": "fast",
        "LINK_WALLET_THROTTLE_SIGNIN_PER_ADDRESS": "100000",
        "LINK_WALLET_THROTTLE_DEVICE_CODE_PER_ADDRESS": "100000",
    }


@dataclass
class FuzzTarget:
    """An in-process wallet with one person, one agent, one merchant and real ids."""

    app: Any
    agent_token: str
    merchant_key: str
    ids: dict[str, list[str]]
    email: str = ""


def seed(
    data_dir: Path, database_url: str | None, env: dict[str, str]
) -> tuple[WalletStore, dict[str, str]]:
    """A person with a card, an agent with every scope, a merchant: their credentials."""
    store = WalletStore(data_dir, database_url, env)
    email = f"fuzz-{secrets.token_hex(4)}@example.com"
    store.create_user(email, DEFAULT_PASSWORD, "Fuzz Person")
    store.add_card(email, DEFAULT_CARD, shipping=True)
    tokens = store.grant_agent(email, sorted(KNOWN_SCOPES))
    # Live: the spend requests charged below are live, and a key sees only its own mode.
    merchant = store.create_merchant("Fuzz Shop", f"profile_{secrets.token_hex(4)}", livemode=True)
    return store, {
        "email": email,
        "agent": tokens["access_token"],
        "merchant": merchant["secret_key"],
        "network_id": merchant["network_id"],
    }


def real_ids(client: httpx2.Client, credentials: dict[str, str]) -> dict[str, list[str]]:
    """Ids that exist, made through ``client`` (in-process or over HTTP): a pending spend
    request, a delegated one whose SPT the merchant charged (so a PaymentIntent and a used
    token), the person's card."""
    agent = {"Authorization": f"Bearer {credentials['agent']}"}
    created = client.post(
        "/spend_requests",
        headers=agent,
        json={
            "amount": 1200,
            "currency": "usd",
            "merchant_name": "Fuzz Shop",
            "merchant_url": "https://shop.example/checkout",
            "context": CONTEXT,
            "request_approval": True,
        },
    )
    assert created.status_code == 200, created.text
    methods = client.get("/payment-details", headers=agent).json()["payment_details"]
    delegated = client.post(
        "/spend_requests/create_delegated",
        headers=agent,
        json={
            "credential_type": "shared_payment_token",
            "network_id": credentials["network_id"],
            "amount": 500,
            "currency": "usd",
            "context": CONTEXT,
            "approval_details": {
                "approved_at": int(Clock().now().timestamp()) - 5,
                "approval_method": "programmatic",
                "app_name": "fuzzing",
                "external_user_id": "fuzz-1",
            },
        },
    )
    assert delegated.status_code == 200, delegated.text
    spt = client.get(
        f"/spend_requests/{delegated.json()['id']}",
        headers=agent,
        params={"include": "shared_payment_token"},
    ).json()["shared_payment_token"]["id"]
    charged = client.post(
        "/v1/payment_intents",
        headers={"Authorization": f"Bearer {credentials['merchant']}"},
        data={
            "amount": "500",
            "currency": "usd",
            "confirm": "true",
            "shared_payment_granted_token": spt,
        },
    )
    assert charged.status_code == 200, charged.text
    return {
        "request_id": [created.json()["id"], delegated.json()["id"]],
        "intent_id": [charged.json()["id"]],
        "token_id": [spt],
        "payment_details": [m["id"] for m in methods],
    }


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    """A migrated wallet app on SQLite, then on a fresh PostgreSQL database."""
    database_url = None
    if request.param == "postgres":
        if not _POSTGRES_URL:
            pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
        database_url = fresh_postgres_database(_POSTGRES_URL, migrated=True)
    env = fuzz_env()
    store, credentials = seed(tmp_path_factory.mktemp("fuzz"), database_url, env)
    app = create_app(store.settings)
    try:
        ids = real_ids(TestClient(app, base_url=PUBLIC_URL), credentials)
        yield FuzzTarget(
            app, credentials["agent"], credentials["merchant"], ids, credentials["email"]
        )
    finally:
        app.state.db.dispose()
        store.close()


def credentials_for(target: FuzzTarget) -> Any:
    """The real credential each operation wants: agent token, merchant key or none."""

    def credentials(case: Any) -> dict[str, str]:
        path = case.operation.path
        if path.startswith("/v1/"):
            return {"Authorization": f"Bearer {target.merchant_key}"}
        if path.startswith("/device/") or path == "/healthz":
            return {}
        return {"Authorization": f"Bearer {target.agent_token}"}

    return credentials


# A whole wallet under ~250 requests per backend (about 8 s of CPU each): in `make test`,
# kept out of `make check`'s one-minute loop like the tests that start a wallet process.
@pytest.mark.server
def test_no_5xx_and_every_answer_documented(fuzz_target: FuzzTarget) -> None:
    """Any request to any operation, valid or not: never a 5xx; status, content type,
    headers and body as the document says."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_target.app)
    report = fuzz(
        schema,
        credentials=credentials_for(fuzz_target),
        real_ids=fuzz_target.ids,
        examples=FUZZ_EXAMPLES,
    )
    print(report.summary())
    assert report.server_errors == [], "\n".join(report.server_errors[:10])
    assert report.violations == [], "\n".join(report.violations[:10])
    # The run reached past authentication and into the state machine.
    assert report.statuses[200] > 0 and report.statuses[404] > 0, report.summary()


# -- the parsers of ids, queries and headers over HTTP, on both backends ---------------------

HTTP_PROPERTIES = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
_IDS = st.one_of(
    # "." and ".." are dot-segments: clients remove them before sending.
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40).filter(
        lambda text: text not in {".", ".."}
    ),
    st.sampled_from(["\x00", "lsrq_\x00", "...", "%", "١٢٣", "\u202e", "a" * 5000]),
)
# Header values as a client can put them on the wire: Latin-1 text without line breaks.
_HEADER_TEXT = st.text(
    st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n"), max_size=60
)


UNKNOWN_TOKEN_CHARGE = {
    "amount": "100",
    "currency": "usd",
    "confirm": "true",
    "shared_payment_granted_token": "spt_unknown",
}


@pytest.fixture(scope="module")
def client(fuzz_target: FuzzTarget) -> TestClient:
    return TestClient(fuzz_target.app, base_url=PUBLIC_URL, raise_server_exceptions=False)


def error_code(response: Any) -> str:
    """The ``code`` of the contract's error body (ours or Stripe's)."""
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str), body
    return body["error"].get("code", "")


@HTTP_PROPERTIES
@given(request_id=_IDS, route=st.sampled_from(["", "/cancel", "/request_approval", "update"]))
def test_any_spend_request_id_is_a_404_or_a_400(
    client: TestClient, fuzz_target: FuzzTarget, request_id: str, route: str
) -> None:
    agent = {"Authorization": f"Bearer {fuzz_target.agent_token}"}
    path = "/spend_requests/" + quote(request_id, safe="")
    if route == "update":
        response = client.post(path, headers=agent, json={"amount": 100})
    elif route:
        response = client.post(path + route, headers=agent)
    else:
        response = client.get(path, headers=agent)
    assert response.status_code in (400, 404), response.text
    assert error_code(response) in {"resource_missing", "invalid_request", "not_found"}


@HTTP_PROPERTIES
@given(object_id=_IDS, kind=st.sampled_from(["payment_intents", "shared_payment/granted_tokens"]))
def test_any_stripe_object_id_is_a_404_or_a_400(
    client: TestClient, fuzz_target: FuzzTarget, object_id: str, kind: str
) -> None:
    response = client.get(
        f"/v1/{kind}/" + quote(object_id, safe=""),
        headers={"Authorization": f"Bearer {fuzz_target.merchant_key}"},
    )
    assert response.status_code in (400, 404), response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


@HTTP_PROPERTIES
@given(include=st.lists(_HEADER_TEXT, max_size=3), history=_HEADER_TEXT)
def test_any_query_parameters_are_answered_or_a_400(
    client: TestClient, fuzz_target: FuzzTarget, include: list[str], history: str
) -> None:
    agent = {"Authorization": f"Bearer {fuzz_target.agent_token}"}
    request_id = fuzz_target.ids["request_id"][0]
    retrieved = client.get(
        f"/spend_requests/{request_id}", headers=agent, params=[("include", v) for v in include]
    )
    assert retrieved.status_code in (200, 400), retrieved.text
    listed = client.get("/spend_requests", headers=agent, params={"include_history": history})
    assert listed.status_code in (200, 400), listed.text
    for response in (retrieved, listed):
        if response.status_code == 400:
            error_code(response)


@HTTP_PROPERTIES
@given(value=_HEADER_TEXT, scheme=st.sampled_from(["", "Bearer ", "bearer  ", "Basic ", "Token "]))
def test_any_authorization_header_is_a_401(
    client: TestClient, fuzz_target: FuzzTarget, value: str, scheme: str
) -> None:
    header = {"Authorization": (scheme + value).encode("latin-1")}
    agent = client.get("/spend_requests", headers=header)
    assert agent.status_code == 401 and error_code(agent) == "invalid_token", agent.text
    merchant = client.get("/v1/payment_intents/pi_1", headers=header)
    assert merchant.status_code == 401, merchant.text
    assert merchant.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("value", ["Basic À", "Basic \xff\xfe", "Basic \x85", "Basic YQBi"])
def test_non_base64_basic_credentials_are_a_401(
    client: TestClient, fuzz_target: FuzzTarget, value: str
) -> None:
    """Regression (fuzzing): ``Authorization: Basic`` with non-ASCII bytes (which HTTP/1.1
    carries) made base64 raise ValueError: 500 on every /v1 route."""
    for method, path in (("GET", "/v1/payment_intents/pi_1"), ("POST", "/v1/payment_intents")):
        response = client.request(method, path, headers={"Authorization": value.encode("latin-1")})
        assert response.status_code == 401, response.text
        assert response.json()["error"]["type"] == "invalid_request_error"


@HTTP_PROPERTIES
@given(key=st.text(st.characters(max_codepoint=127, exclude_characters="\r\n"), max_size=300))
def test_any_idempotency_key_is_used_or_a_400(
    client: TestClient, fuzz_target: FuzzTarget, key: str
) -> None:
    response = client.post(
        "/v1/payment_intents",
        headers={
            "Authorization": f"Bearer {fuzz_target.merchant_key}",
            "Idempotency-Key": key.encode("ascii"),
        },
        data=UNKNOWN_TOKEN_CHARGE,
    )
    # Either refused for the key, or the key passed and the unknown token is refused.
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert ("Idempotency-Key" in message) == (not (0 < len(key) <= 255 and key.isprintable()))


@pytest.fixture(scope="module")
def person(fuzz_target: FuzzTarget) -> TestClient:
    """The person, signed in through the real sign-in form (a browser's cookie jar)."""
    browser = TestClient(fuzz_target.app, base_url=PUBLIC_URL, raise_server_exceptions=False)
    page = browser.get("/signin")
    form = next(f for f in parse_forms(page.text) if f.action == "/signin")
    fields = {**form.fields, "email": fuzz_target.email, "password": DEFAULT_PASSWORD}
    signed_in = browser.post("/signin", data=fields)
    assert urlsplit(str(signed_in.url)).path != "/signin", signed_in.text
    return browser


@HTTP_PROPERTIES
@given(request_id=_IDS, accept=st.sampled_from(["text/html", "application/json"]))
def test_any_approval_page_id_is_a_404_or_a_400(
    person: TestClient, request_id: str, accept: str
) -> None:
    """The person's pages take ids too (excluded from the OpenAPI document, fuzzed here)."""
    path = "/approve/" + quote(request_id, safe="")
    for response in (
        person.get(path, headers={"Accept": accept}),
        person.get(path + "/status"),
    ):
        assert response.status_code in (400, 404), response.text[:300]


@HTTP_PROPERTIES
@given(
    action=st.one_of(st.sampled_from(["approve", "deny"]), _HEADER_TEXT),
    revision=st.one_of(
        st.integers(-1, 10**20).map(str), _HEADER_TEXT, st.sampled_from(["١", "²", "0" * 40])
    ),
)
def test_any_approval_form_is_answered_without_a_5xx(
    person: TestClient, fuzz_target: FuzzTarget, action: str, revision: str
) -> None:
    """Random decisions and revisions on a real pending request: a page or a 4xx, never 5xx
    (CSRF token from the page itself, as a browser sends it)."""
    path = f"/approve/{fuzz_target.ids['request_id'][0]}"
    # Once an example approved or denied it, the page has no form: post without one.
    forms = [f.fields for f in parse_forms(person.get(path).text) if f.action == path]
    fields = forms[0] if forms else {}
    response = person.post(path, data={**fields, "action": action, "revision": revision})
    assert response.status_code < 500, response.text[:300]


# -- regressions found by fuzzing ------------------------------------------------------------


def test_deep_authorization_details_names_are_a_400_not_a_recursion_error(
    client: TestClient,
) -> None:
    """``authorization_details`` followed by 5000 ``[]`` reached Python's recursion limit: 500."""
    response = client.post(
        "/device/code",
        content=(
            f"client_id={OAUTH_CLIENT_ID}&scope=userinfo:read&authorization_details"
            + "%5B%5D" * 5000
            + "=x"
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("key", ["a\x00b", "\x00", "key\x1b[31m", "tab\there"])
def test_control_characters_in_the_idempotency_key_are_a_400(
    client: TestClient, fuzz_target: FuzzTarget, key: str
) -> None:
    """A NUL in ``Idempotency-Key`` reached PostgreSQL, which refuses NUL in text: 500."""
    response = client.post(
        "/v1/payment_intents",
        headers={"Authorization": f"Bearer {fuzz_target.merchant_key}", "Idempotency-Key": key},
        data=UNKNOWN_TOKEN_CHARGE,
    )
    assert response.status_code == 400, response.text
    assert "Idempotency-Key" in response.json()["error"]["message"]
