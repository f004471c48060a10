"""The race scenarios: each round releases its calls together (tests/support/racing.py)
across the cluster's processes, then checks its invariant against the HTTP answers and
against the database (tests/soak/invariants.py).

| scenario | race | holds when |
|---|---|---|
| spt-redeem-once | N confirmations of one SPT | one 200, the others `shared_payment_token_consumed`; one succeeded PaymentIntent |
| card-redeem-once | N confirmations of one virtual card | one 200, the others 402; one succeeded PaymentIntent |
| approve-issues-once | N approvals of one request + reveals | one approval, one credential, every reveal shows it |
| update-vs-approve | the agent's update vs the person's approval | one wins, the other 409; the approved amount is the one shown |
| cancel-vs-approve | the agent's cancel vs the person's approval | the answers match the final state; a canceled credential never pays |
| signin-guesses | N sign-in guesses for one email | exactly the limit checked, in answers and attempt rows |
| phrase-guesses | N device phrases by one person | exactly the limit checked, in answers and attempt rows |
| agent-isolation | agent B on agent A's approved request, A revealing | B always 404, A's request unchanged |
| no-self-approval | an agent without the approve scope approving its own request | refused; nothing approved or created |
| failed-auth-per-key | N failed card authorizations by one merchant key | exactly the key's limit checked (skipped if the wallet has none) |
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx2
from tests.redemption.delegated import card_form, confirm, register_merchant, spt_form
from tests.support.approvals import (
    ApiAgent,
    approval_path,
    approve_spend_request,
    card_body,
    spt_body,
)
from tests.support.person import Person, bearer, wallet_tokens
from tests.support.racing import race

from .cluster import Cluster
from .invariants import (
    attempt_rows,
    credentials_for,
    intents_of_merchant,
    request_row,
    requests_of,
    succeeded_intents,
)
from .rounds import Round, error_code, no_server_errors, status_of, statuses

SIGNIN_LIMIT = 5  # ThrottleSettings.signin_per_account_address
PHRASE_LIMIT = 5  # ThrottleSettings.phrase_per_person
APPROVE_SCOPE = "userinfo:read payment_methods.agentic spend_requests:approve"
WRONG_PHRASE = "apple-apple-apple"
# Per-address budgets are raised for test wallets (tests/support/wallet.py), so the
# per-account budget is the one a round from 127.0.0.1 meets.


def _clients(cluster: Cluster, **kwargs: Any) -> list[httpx2.Client]:
    return [httpx2.Client(base_url=p.url, timeout=60, **kwargs) for p in cluster.processes]


def _close(clients: list[httpx2.Client]) -> None:
    for client in clients:
        client.close()


def _signed_in(person: Person) -> Person:
    if not person.is_signed_in():
        person.sign_in()
    return person


def _agent_on(cluster: Cluster, agent: ApiAgent) -> list[httpx2.Client]:
    """One client per process carrying ``agent``'s token."""
    return _clients(cluster, headers=bearer(agent.tokens))


def _revealed(body: dict[str, Any], include: str) -> str | None:
    """The card number or SPT id a retrieve with ``include`` revealed."""
    value = body.get(include)
    if isinstance(value, dict):
        return str(value.get("number") or value.get("id") or "") or None
    return value if isinstance(value, str) else None


# -- one-time redemption -------------------------------------------------------------------


def _redeemed_once(r: Round, results: list[Any], request_id: str, loser_code: str | None) -> None:
    no_server_errors(r, results, "confirmation")
    winners = [x for x in results if status_of(x) == 200]
    r.check(len(winners) == 1, f"{len(winners)} confirmations succeeded: {statuses(results)}")
    for result in results:
        if status_of(result) in (200, 503) or not isinstance(result, httpx2.Response):
            continue
        if result.status_code == 429 and error_code(result) == "rate_limit":
            continue  # past the key's budget of declines: refused before any card is read
        r.check(result.status_code in (400, 402), f"a losing confirmation got {result.status_code}")
        if loser_code is not None:
            code = error_code(result)
            r.check(code == loser_code, f"a losing confirmation said {code}, not {loser_code}")
    with r.cluster.session() as session:
        credentials = credentials_for(session, request_id)
        if not r.check(len(credentials) == 1, f"{len(credentials)} credentials"):
            return
        credential = credentials[0]
        intents = succeeded_intents(session, credential.id)
        r.check(len(intents) == 1, f"{len(intents)} succeeded PaymentIntents for one credential")
        r.check(credential.consumed_at is not None, "the credential is not consumed")
        row = request_row(session, request_id)
        r.check(row is not None and row.status == "succeeded", "the request is not succeeded")
        if len(winners) == 1 and len(intents) == 1:
            r.check(winners[0].json()["id"] == intents[0].id, "the winner's PaymentIntent differs")


def spt_redeem_once(r: Round) -> None:
    cluster = r.cluster
    merchant = cluster.merchant()
    agent = cluster.on(cluster.delegated(), r.process())
    amount = cluster.next_amount()
    request_id, spt = agent.approved_spt(merchant.network_id, amount=amount)
    form = spt_form(spt, amount=amount)
    calls = [
        (lambda i=i: confirm(cluster.processes[i], merchant, form)) for i in r.spread(r.racers)
    ]
    results = race(calls)
    r.attempt(len(results))
    _redeemed_once(r, results, request_id, "shared_payment_token_consumed")


def card_redeem_once(r: Round) -> None:
    cluster = r.cluster
    merchant = cluster.card_merchant()
    agent = cluster.on(cluster.delegated(), r.process())
    amount = cluster.next_amount()
    request_id, card = agent.approved_card(amount=amount)
    cluster.known_cards.add((card["number"], card["cvc"]))
    form = card_form(card, amount=amount)
    calls = [
        (lambda i=i: confirm(cluster.processes[i], merchant, form)) for i in r.spread(r.racers)
    ]
    results = race(calls)
    r.attempt(len(results))
    _redeemed_once(r, results, request_id, "card_declined")


# -- approval: issued once, no lost update, cancel --------------------------------------------


def _pending(r: Round, kind: str) -> tuple[ApiAgent, dict[str, Any], str, dict[str, str]]:
    """A pending request of the cluster's agent and the approval form its person sees."""
    cluster = r.cluster
    agent = cluster.agent()
    amount = cluster.next_amount()
    if kind == "card":
        body = card_body(amount=amount)
    else:
        body = spt_body(network_id=cluster.merchant().network_id, amount=amount)
    created = agent.create_ok(body)
    path = approval_path(created["approval_url"])
    _page, form = _signed_in(agent.person).get_form(path, action=path)
    return agent, created, path, form.fields


def _approved(response: Any, path: str) -> bool:
    """The approval was accepted: 303 back to the request's page."""
    return (
        isinstance(response, httpx2.Response)
        and response.status_code == 303
        and urlsplit(response.headers.get("location", "")).path == path
    )


def approve_issues_once(r: Round) -> None:
    cluster = r.cluster
    kind = r.rng.choice(["card", "shared_payment_token"])
    agent, created, path, fields = _pending(r, kind)
    people = _clients(cluster, cookies=dict(agent.person.client.cookies))
    agents = _agent_on(cluster, agent)
    try:
        approve = {**fields, "action": "approve"}
        approvals = [
            (lambda i=i: people[i].post(path, data=approve, follow_redirects=False))
            for i in r.spread(max(2, r.racers // 2))
        ]
        reveals = [
            (
                lambda i=i: agents[i].get(
                    f"/spend_requests/{created['id']}", params={"include": kind}
                )
            )
            for i in r.spread(max(2, r.racers // 2))
        ]
        results = race(approvals + reveals)
        final = agents[0].get(f"/spend_requests/{created['id']}", params={"include": kind})
    finally:
        _close(people + agents)
    r.attempt(len(results))
    decided, shown = results[: len(approvals)], results[len(approvals) :]
    no_server_errors(r, results, "approve or reveal")
    winners = sum(_approved(x, path) for x in decided)
    busy = sum(status_of(x) == 503 for x in decided)
    r.check(winners == 1 or (winners == 0 and busy), f"{winners} approvals: {statuses(decided)}")
    for result in decided:
        if not _approved(result, path) and status_of(result) != 503:
            r.check(status_of(result) == 409, f"a second approval got {status_of(result)}")
    r.check(final.status_code == 200, f"final retrieve {final.status_code}")
    final_value = _revealed(final.json(), kind)
    values = set()
    for result in shown:
        if status_of(result) != 200:
            continue
        body = result.json()
        value = _revealed(body, kind)
        if body["status"] == "approved":
            r.check(value is not None, "an approved request revealed no credential")
        if value is not None:
            values.add(value)
    r.check(len(values) <= 1, f"{len(values)} different credentials revealed")
    r.check(values <= {final_value}, "a reveal differs from the final credential")
    if kind == "card" and final_value:
        card = final.json()["card"]
        cluster.known_cards.add((card["number"], card["cvc"]))
    with cluster.session() as session:
        row = request_row(session, created["id"])
        credentials = credentials_for(session, created["id"])
        expected = 1 if winners else 0
        r.check(len(credentials) == expected, f"{len(credentials)} credentials, {winners} wins")
        if winners and row is not None:
            r.check(row.status == "approved", f"approved, yet stored {row.status}")
        if credentials and final_value:
            stored = credentials[0]
            same = (
                final_value[-4:] == stored.card_last4
                if kind == "card"
                else final_value == stored.id
            )
            r.check(same, "the revealed credential is not the stored one")


def _new_amount(amount: int) -> dict[str, Any]:
    return {
        "amount": amount,
        "totals": [{"type": "total", "display_text": "Total", "amount": amount}],
    }


def update_vs_approve(r: Round) -> None:
    cluster = r.cluster
    agent, created, path, fields = _pending(r, "card")
    seen = created["amount"]
    new_amount = cluster.next_amount()
    person = httpx2.Client(
        base_url=cluster.processes[r.process()].url,
        cookies=dict(agent.person.client.cookies),
        timeout=60,
    )
    agents = _agent_on(cluster, agent)
    mine = agents[r.process()]
    try:
        update, approval = race(
            [
                lambda: mine.post(f"/spend_requests/{created['id']}", json=_new_amount(new_amount)),
                lambda: person.post(
                    path, data={**fields, "action": "approve"}, follow_redirects=False
                ),
            ]
        )
    finally:
        _close([person, *agents])
    r.attempt(2)
    no_server_errors(r, [update, approval], "update or approval")
    with cluster.session() as session:
        row = request_row(session, created["id"])
        credentials = credentials_for(session, created["id"])
    if row is None:
        r.check(False, "the request vanished")
        return
    updated = status_of(update) == 200
    approved = _approved(approval, path)
    if updated and status_of(approval) == 409:
        r.check(row.status == "pending_approval", f"update won, stored {row.status}")
        r.check(row.amount == new_amount, f"update won, stored amount {row.amount}")
        r.check(not credentials, "update won, yet a credential was issued")
        r.tally.note("update won")
    elif approved and status_of(update) == 409:
        r.check(
            error_code(update) in {"spend_request_invalid_state", "spend_request_changed"},
            f"the losing update said {error_code(update)}",
        )
        r.check(row.status == "approved", f"approval won, stored {row.status}")
        r.check(row.amount == seen, f"lost update: approved {seen}, stored {row.amount}")
        r.check(
            len(credentials) == 1 and credentials[0].max_amount == seen,
            f"credential for {[c.max_amount for c in credentials]}, the person saw {seen}",
        )
        r.tally.note("approval won")
    elif 503 in (status_of(update), status_of(approval)):
        r.tally.note("busy")
    else:
        r.check(
            False,
            f"update {status_of(update)}, approval {status_of(approval)}, "
            f"stored {row.status} {row.amount} (seen {seen}, update {new_amount})",
        )


def cancel_vs_approve(r: Round) -> None:
    cluster = r.cluster
    agent, created, path, fields = _pending(r, "shared_payment_token")
    person = httpx2.Client(
        base_url=cluster.processes[r.process()].url,
        cookies=dict(agent.person.client.cookies),
        timeout=60,
    )
    agents = _agent_on(cluster, agent)
    mine = agents[r.process()]
    try:
        cancel, approval = race(
            [
                lambda: mine.post(f"/spend_requests/{created['id']}/cancel"),
                lambda: person.post(
                    path, data={**fields, "action": "approve"}, follow_redirects=False
                ),
            ]
        )
    finally:
        _close([person, *agents])
    r.attempt(2)
    no_server_errors(r, [cancel, approval], "cancel or approval")
    with cluster.session() as session:
        row = request_row(session, created["id"])
        credentials = credentials_for(session, created["id"])
    if row is None:
        r.check(False, "the request vanished")
        return
    canceled, approved = status_of(cancel) == 200, _approved(approval, path)
    outcome = f"cancel {status_of(cancel)}, approval {status_of(approval)}, stored {row.status}"
    if canceled:
        r.check(row.status == "canceled", outcome)
        r.check(len(credentials) == (1 if approved else 0), f"{outcome}, {len(credentials)} cred")
        r.tally.note("canceled after approval" if approved else "cancel won")
    elif approved:
        r.check(status_of(cancel) == 409 and row.status == "approved", outcome)
        r.check(len(credentials) == 1, f"{outcome}, {len(credentials)} credentials")
        r.tally.note("approval won")
    else:
        r.check(503 in (status_of(cancel), status_of(approval)), f"nobody won: {outcome}")
        return
    if credentials:
        # A canceled request's token must not pay; an approved one's must, once.
        merchant = cluster.merchant()
        index = r.process()
        paid = confirm(
            cluster.processes[index], merchant, spt_form(credentials[0].id, amount=row.amount)
        )
        r.attempt()
        expected = (200,) if row.status == "approved" else (400, 402)
        r.check(paid.status_code in expected, f"{outcome}: redemption got {paid.status_code}")


# -- throttles -----------------------------------------------------------------------------


def signin_guesses(r: Round) -> None:
    cluster = r.cluster
    owner = cluster.processes[0].create_person()
    count = max(2 * SIGNIN_LIMIT, 2 * r.racers)
    passwords = [f"wrong-{secrets.token_hex(4)}" for _ in range(count)]
    with_right = r.rng.random() < 0.5
    if with_right:
        passwords[r.rng.randrange(count)] = owner.password
    people = [cluster.person_on(owner, i) for i in r.spread(count)]
    try:
        forms = [p.get_form("/signin", action="/signin")[1].fields for p in people]
        calls = [
            (
                lambda p=p, f=f, w=w: p.client.post(
                    "/signin",
                    data={**f, "email": owner.email, "password": w},
                    follow_redirects=False,
                )
            )
            for p, f, w in zip(people, forms, passwords, strict=True)
        ]
        results = race(calls)
    finally:
        for person in people:
            person.close()
        owner.close()
    r.attempt(count)
    no_server_errors(r, results, "sign-in")
    seen = Counter(status_of(x) for x in results)
    r.check(set(seen) <= {401, 303, 429}, f"unexpected answers {dict(seen)}")
    if seen.get(303):
        # The owner got in, which clears this address's failures once (docs/security.md).
        r.check(seen[401] <= 2 * SIGNIN_LIMIT - 1, f"{seen[401]} wrong guesses checked")
    else:
        r.check(seen[401] == SIGNIN_LIMIT, f"{seen[401]} guesses checked, limit {SIGNIN_LIMIT}")
    with cluster.session() as session:
        kept = attempt_rows(session, "signin_account", owner.email)
    r.check(kept == seen[401], f"{kept} attempt rows for {seen[401]} checked failures")


def phrase_guesses(r: Round) -> None:
    cluster = r.cluster
    owner = cluster.processes[0].create_person()
    owner.sign_in()
    count = max(2 * PHRASE_LIMIT, 2 * r.racers)
    clients = [
        httpx2.Client(
            base_url=cluster.processes[i].url, cookies=dict(owner.client.cookies), timeout=60
        )
        for i in r.spread(count)
    ]
    try:
        results = race(
            [(lambda c=c: c.get("/device/setup", params={"code": WRONG_PHRASE})) for c in clients]
        )
    finally:
        _close(clients)
        owner.close()
    r.attempt(count)
    no_server_errors(r, results, "phrase guess")
    seen = Counter(status_of(x) for x in results)
    r.check(
        seen == Counter({400: PHRASE_LIMIT, 429: count - PHRASE_LIMIT}),
        f"phrase answers {dict(seen)}, limit {PHRASE_LIMIT}",
    )
    with cluster.session() as session:
        kept = attempt_rows(session, "device_phrase", owner.user_id)
    r.check(kept == PHRASE_LIMIT, f"{kept} phrase attempt rows, limit {PHRASE_LIMIT}")


# -- agents: isolation, no self-approval ---------------------------------------------------


def _login(cluster: Cluster, person: Person, scope: str | None = None) -> ApiAgent:
    """A new device login (a new grant) of ``person`` on process 0."""
    tokens = wallet_tokens(cluster.processes[0], person, scope)
    client = httpx2.Client(base_url=cluster.processes[0].url, headers=bearer(tokens), timeout=60)
    return ApiAgent(person=person, tokens=tokens, client=client)


class _Pair:
    """Two agents (grants) of one person."""

    def __init__(self, cluster: Cluster) -> None:
        self.person = cluster.processes[0].create_person()
        self.a = _login(cluster, self.person)
        self.b = _login(cluster, self.person)

    def close(self) -> None:
        self.a.client.close()
        self.b.client.close()
        self.person.close()


def agent_isolation(r: Round) -> None:
    cluster = r.cluster
    pair: _Pair = cluster.actor("pair", lambda: _Pair(cluster))
    created = pair.a.create_ok(card_body(amount=cluster.next_amount()))
    approve_spend_request(_signed_in(pair.person), created["approval_url"])
    request_id = created["id"]
    card = pair.a.retrieve(request_id, include="card").json()["card"]
    cluster.known_cards.add((card["number"], card["cvc"]))
    with cluster.session() as session:
        row = request_row(session, request_id)
        before = (row.revision, row.status) if row else None
    theirs, mine = _agent_on(cluster, pair.b), _agent_on(cluster, pair.a)
    base = f"/spend_requests/{request_id}"
    strangers: list[Callable[[httpx2.Client], httpx2.Response]] = [
        lambda c: c.get(base),
        lambda c: c.get(base, params={"include": "card"}),
        lambda c: c.get(base, params={"include": "shared_payment_token"}),
        lambda c: c.post(base, json=_new_amount(4000)),
        lambda c: c.post(f"{base}/request_approval"),
        lambda c: c.post(f"{base}/cancel"),
    ]
    calls = [
        (lambda i=i, f=f: f(theirs[i]))
        for f in strangers
        for i in r.spread(max(1, r.racers // len(strangers)))
    ]
    owners = [
        (lambda i=i: mine[i].get(base, params={"include": "card"}))
        for i in r.spread(max(2, r.racers // 3))
    ]
    try:
        results = race(calls + owners)
        listed = theirs[r.process()].get("/spend_requests", params={"include_history": "true"})
    finally:
        _close(theirs + mine)
    r.attempt(len(results) + 1)
    no_server_errors(r, results, "agent call")
    for result in results[: len(calls)]:
        if status_of(result) == 503:
            continue
        r.check(
            status_of(result) == 404 and error_code(result) == "resource_missing",
            f"agent B got {status_of(result)} on agent A's request",
        )
        if isinstance(result, httpx2.Response):
            r.check(card["number"] not in result.text, "agent B was shown A's card number")
    for result in results[len(calls) :]:
        ok = (
            status_of(result) == 200
            and result.json().get("card", {}).get("number") == card["number"]
        )
        r.check(ok or status_of(result) == 503, f"agent A's own reveal got {status_of(result)}")
    r.check(
        listed.status_code == 200 and request_id not in listed.text,
        "agent B's list shows A's request",
    )
    with cluster.session() as session:
        row = request_row(session, request_id)
        after = (row.revision, row.status) if row else None
    r.check(before == after, f"agent B changed A's request: {before} -> {after}")
    pair.a.cancel(request_id)  # keep the person's approved requests few


def no_self_approval(r: Round) -> None:
    cluster = r.cluster

    def make() -> ApiAgent:
        # The agent asks for the approve scope; its person does not grant it.
        return _login(cluster, cluster.processes[0].create_person(), scope=APPROVE_SCOPE)

    agent: ApiAgent = cluster.actor("unscoped", make)
    created = agent.create_ok(card_body(amount=cluster.next_amount()))
    path = approval_path(created["approval_url"])
    with cluster.session() as session:
        before = requests_of(session, agent.person.user_id)
    clients = _agent_on(cluster, agent)
    delegated = card_body(
        amount=cluster.next_amount(),
        approval_details={
            "approved_at": 1,
            "approval_method": "programmatic",
            "app_name": "soak",
            "external_user_id": "soak",
        },
    )
    form = {"action": "approve", "revision": "1"}
    kinds: list[Callable[[httpx2.Client], httpx2.Response]] = [
        lambda c: c.post("/spend_requests/create_delegated", json=delegated),
        lambda c: c.post(path, data=form, follow_redirects=False),
    ]
    calls = [
        (lambda i=i, f=f: f(clients[i]))
        for f in kinds
        for i in r.spread(max(1, r.racers // len(kinds)))
    ]
    try:
        results = race(calls)
    finally:
        _close(clients)
    r.attempt(len(results))
    no_server_errors(r, results, "self-approval attempt")
    for result in results:
        r.check(
            not _approved(result, path) and status_of(result) not in (200, 201),
            f"an agent's own approval attempt got {status_of(result)}",
        )
        if isinstance(result, httpx2.Response) and result.request.url.path.endswith("delegated"):
            r.check(
                result.status_code == 403,
                f"create_delegated without scope got {result.status_code}",
            )
    with cluster.session() as session:
        row = request_row(session, created["id"])
        r.check(row is not None and row.status == "pending_approval", "the agent approved its own")
        r.check(not credentials_for(session, created["id"]), "a credential was issued")
        after = requests_of(session, agent.person.user_id)
    r.check(after == before, f"requests of the person went from {before} to {after}")
    agent.cancel(created["id"])


# -- failed authorizations per merchant key -------------------------------------------------


def unknown_card(rng: Any) -> dict[str, str]:
    """A Luhn-valid Visa test-range number no one was issued."""
    digits = [4, 0, 0, 0] + [rng.randrange(10) for _ in range(11)]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    digits.append((10 - total % 10) % 10)
    return {
        "number": "".join(map(str, digits)),
        "exp_month": "12",
        "exp_year": "2034",
        "cvc": "123",
    }


def per_key_limit(r: Round, probe: int) -> int | None:
    """How many failed authorizations a fresh merchant key gets before 429, or None when
    the wallet has no such limit (no 429 within ``probe`` failures, sent in concurrent
    batches: an exact limit answers exactly that many 402s however they arrive)."""
    cluster = r.cluster
    merchant = register_merchant(cluster.processes[0])
    seen: Counter[int | str] = Counter()
    batch = max(2, 2 * r.racers)
    while sum(seen.values()) < probe:
        size = min(batch, probe - sum(seen.values()))
        forms = [card_form(unknown_card(r.rng)) for _ in range(size)]
        results = race(
            [
                (lambda i=i, f=f: confirm(cluster.processes[i], merchant, f))
                for i, f in zip(r.spread(size), forms, strict=True)
            ]
        )
        r.attempt(size)
        no_server_errors(r, results, "probe")
        seen.update(status_of(x) for x in results)
        if seen[429]:
            return seen[402]
    r.check(set(seen) <= {402, 503}, f"probe answers {dict(seen)}")
    return None


def failed_auth_per_key(r: Round) -> None:
    cluster = r.cluster
    probe = r.probe_failures
    limit = cluster.actor("per-key-limit", lambda: per_key_limit(r, probe))
    if limit is None:
        r.tally.skipped = f"no per-key limit within {probe} failed authorizations"
        return
    merchant = register_merchant(cluster.processes[0])
    count = limit + max(2, r.racers)
    forms = [card_form(unknown_card(r.rng)) for _ in range(count)]
    calls = [
        (lambda i=i, f=f: confirm(cluster.processes[i], merchant, f))
        for i, f in zip(r.spread(count), forms, strict=True)
    ]
    results = race(calls)
    r.attempt(count)
    no_server_errors(r, results, "failed authorization")
    seen = Counter(status_of(x) for x in results)
    r.check(seen[402] == limit, f"{seen[402]} failures checked, the key's limit is {limit}")
    r.check(seen[429] == count - limit, f"answers {dict(seen)}")
    with cluster.session() as session:
        recorded = intents_of_merchant(session, merchant.id)
    r.check(recorded == limit, f"{recorded} PaymentIntents recorded, the key's limit is {limit}")


SCENARIOS: dict[str, Callable[[Round], None]] = {
    "spt-redeem-once": spt_redeem_once,
    "card-redeem-once": card_redeem_once,
    "approve-issues-once": approve_issues_once,
    "update-vs-approve": update_vs_approve,
    "cancel-vs-approve": cancel_vs_approve,
    "signin-guesses": signin_guesses,
    "phrase-guesses": phrase_guesses,
    "agent-isolation": agent_isolation,
    "no-self-approval": no_self_approval,
    "failed-auth-per-key": failed_auth_per_key,
}
