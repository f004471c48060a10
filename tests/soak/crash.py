"""The crash harness: kill -9 a wallet process while work is in flight, restart it, check.

Each round prepares approved SPTs and cards to redeem (each presented twice: to the victim
and to another process), pending requests for the person to approve, and delegated
creations (approved and issued at once), releases all of it together, SIGKILLs the victim
after a seeded delay, waits for every call to end and starts the victim again on its port.
Then, against the HTTP answers and the database:

* an answer given (200, 303) survived the crash: the success it reported is stored;
* no credential was charged twice (HTTP: at most one 200 per credential; database: at most
  one succeeded PaymentIntent), and one that was not charged still pays, once, after the
  restart; a request whose approval was cut off can be approved afterwards;
* every request is in a consistent state (tests/soak/invariants.py), for the whole database;
* only calls to the victim failed to answer; no 5xx other than 503;
* SQLite: ``PRAGMA integrity_check`` is ``ok`` and ``foreign_key_check`` finds nothing.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2
from tests.redemption.delegated import DelegatedAgent, card_form, confirm, spt_form
from tests.support.approvals import approval_path, card_body, spt_body
from tests.support.racing import race

from .cluster import Cluster
from .invariants import consistency, credentials_for, request_row, succeeded_intents
from .rounds import Round, status_of

MAX_DELAY_SECONDS = 0.3


@dataclass
class Op:
    """One call in flight when the victim is killed."""

    kind: str
    target: int
    send: Callable[[], httpx2.Response]
    request_id: str | None = None
    credential: str | None = None
    """The SPT id or card number it presents (redemptions)."""
    result: Any = None


def _elsewhere(r: Round, victim: int) -> int:
    others = [i for i in range(len(r.cluster.processes)) if i != victim]
    return r.rng.choice(others) if others else victim


def _prepare(r: Round, victim: int) -> tuple[list[Op], dict[str, Callable[[], httpx2.Response]]]:
    """The round's calls, and how to present each credential again after the restart."""
    cluster = r.cluster
    spt_merchant = cluster.merchant()
    card_merchant = cluster.card_merchant()
    delegated = cluster.delegated()
    agent = cluster.agent()
    per_kind = max(1, r.racers // 4)
    ops: list[Op] = []
    retry: dict[str, Callable[[], httpx2.Response]] = {}

    def redeem(credential: str, request_id: str, form: dict[str, str], kind: str) -> None:
        merchant = card_merchant if kind == "redeem card" else spt_merchant
        keys = [f"soak-{secrets.token_hex(8)}" for _ in range(2)]
        for target, key in zip((victim, _elsewhere(r, victim)), keys, strict=True):
            process = cluster.processes[target]
            send = lambda p=process, k=key: confirm(p, merchant, form, idempotency_key=k)  # noqa: E731
            ops.append(Op(kind, target, send, request_id, credential))
        # After the restart the merchant retries the call sent to the victim, same key, as
        # a merchant does when its connection dropped.
        retry[credential] = lambda: confirm(
            cluster.processes[_elsewhere(r, victim)], merchant, form, idempotency_key=keys[0]
        )

    # The credentials are issued concurrently too (seeded amounts and processes first).
    plan = [
        (kind, cluster.next_amount(), cluster.on(delegated, r.process()))
        for _ in range(per_kind)
        for kind in ("spt", "card")
    ]

    def issue(kind: str, amount: int, on: DelegatedAgent) -> tuple[str, Any]:
        if kind == "spt":
            return on.approved_spt(spt_merchant.network_id, amount=amount)
        return on.approved_card(amount=amount)

    issued = race([(lambda p=p: issue(*p)) for p in plan])
    for (kind, amount, _on), result in zip(plan, issued, strict=True):
        if isinstance(result, BaseException):
            raise result
        request_id, credential = result
        if kind == "spt":
            redeem(credential, request_id, spt_form(credential, amount=amount), "redeem spt")
        else:
            cluster.known_cards.add((credential["number"], credential["cvc"]))
            form = card_form(credential, amount=amount)
            redeem(credential["number"], request_id, form, "redeem card")

    person = agent.person
    if not person.is_signed_in():
        person.sign_in()
    cookies = dict(person.client.cookies)
    for _ in range(per_kind):
        amount = cluster.next_amount()
        if r.rng.random() < 0.5:
            body = card_body(amount=amount)
        else:
            body = spt_body(network_id=spt_merchant.network_id, amount=amount)
        created = agent.create_ok(body)
        path = approval_path(created["approval_url"])
        _page, form = person.get_form(path, action=path)
        target = victim if r.rng.random() < 0.7 else _elsewhere(r, victim)
        url = cluster.processes[target].url
        data = {**form.fields, "action": "approve"}

        def approve(url: str = url, path: str = path, data: dict[str, str] = data) -> Any:
            with httpx2.Client(base_url=url, cookies=cookies, timeout=30) as client:
                return client.post(path, data=data, follow_redirects=False)

        ops.append(Op("approve", target, approve, created["id"]))

    for _ in range(per_kind):
        target = victim if r.rng.random() < 0.7 else _elsewhere(r, victim)
        body = {
            "credential_type": "card",
            "merchant_name": "Soak Supply",
            "merchant_url": "https://soak.example",
            "amount": cluster.next_amount(),
            "currency": "usd",
        }
        on = cluster.on(delegated, target)
        ops.append(Op("delegate", target, lambda on=on, body=body: on.post_delegated(body)))
    r.rng.shuffle(ops)
    return ops, retry


def crash_round(r: Round) -> None:
    cluster = r.cluster
    victim = r.process()
    delay = r.rng.uniform(0.0, MAX_DELAY_SECONDS)
    ops, retry = _prepare(r, victim)

    results: list[Any] = []
    burst = threading.Thread(target=lambda: results.extend(race([op.send for op in ops])))
    burst.start()
    killed = threading.Event()
    killed.wait(delay)
    cluster.kill(victim)
    burst.join()
    # The victim starts again while the survivors are checked (retries go to them).
    failed_restart: list[BaseException] = []

    def restart() -> None:
        try:
            cluster.restart(victim)
        except Exception as error:  # recorded below
            failed_restart.append(error)

    restarting = threading.Thread(target=restart)
    restarting.start()
    if len(cluster.processes) == 1:
        restarting.join()  # no survivor to check against meanwhile
    r.tally.note("crashes injected")
    for op, result in zip(ops, results, strict=True):
        op.result = result
    r.attempt(len(ops))
    unanswered = [op for op in ops if not isinstance(op.result, httpx2.Response)]
    r.tally.note("calls cut off", len(unanswered))
    where = f"victim {victim} after {delay * 1000:.0f} ms"

    for op in ops:
        status = status_of(op.result)
        if isinstance(status, int):
            r.check(status < 500 or status == 503, f"{op.kind}: {status} ({where})")
        else:
            r.check(op.target == victim, f"{op.kind} on survivor {op.target}: {status} ({where})")

    try:
        _check_redemptions(r, ops, retry, where)
        _check_approvals(r, ops, victim, where)
        _check_delegated(r, ops, where)
    finally:
        restarting.join()
    r.check(not failed_restart, f"the victim did not start again: {failed_restart} ({where})")
    _check_database(r, cluster, where)


def _check_redemptions(
    r: Round, ops: list[Op], retry: dict[str, Callable[[], httpx2.Response]], where: str
) -> None:
    cluster = r.cluster
    by_credential: dict[str, list[Op]] = {}
    for op in ops:
        if op.kind.startswith("redeem"):
            assert op.credential is not None
            by_credential.setdefault(op.credential, []).append(op)
    for credential, presented in by_credential.items():
        label = f"{presented[0].kind} {credential[-4:]} ({where})"
        acked = [op.result for op in presented if status_of(op.result) == 200]
        r.check(len(acked) <= 1, f"{label}: charged {len(acked)} times")
        request_id = presented[0].request_id
        assert request_id is not None
        with cluster.session() as session:
            stored = credentials_for(session, request_id)
            consumed = bool(stored) and stored[0].consumed_at is not None
            intents = succeeded_intents(session, stored[0].id) if stored else []
        if acked:
            r.check(consumed, f"{label}: a 200 was answered, the charge is not stored")
            r.check(
                [i.id for i in intents] == [acked[0].json()["id"]],
                f"{label}: stored PaymentIntents {[i.id for i in intents]}",
            )
        again = retry[credential]()
        r.attempt()
        # Consumed: a replay of the victim's own success (200, same PaymentIntent) or a
        # refusal (an SPT's is Stripe's 400). Unused: the retry charges it now.
        expected = (200, 400, 402) if consumed else (200,)
        r.check(
            again.status_code in (*expected, 503),
            f"{label}: retried after the restart ({'consumed' if consumed else 'unused'}): "
            f"{again.status_code}",
        )
        with cluster.session() as session:
            intents = succeeded_intents(session, stored[0].id) if stored else []
            row = request_row(session, request_id)
        r.check(len(intents) <= 1, f"{label}: {len(intents)} succeeded PaymentIntents")
        if again.status_code == 200:
            r.check(
                [i.id for i in intents] == [again.json()["id"]],
                f"{label}: the retry answered {again.json()['id']}, stored {[i.id for i in intents]}",
            )
            if acked and presented[0].result is acked[0]:
                r.check(again.json()["id"] == acked[0].json()["id"], f"{label}: replay differs")
        if again.status_code != 503:
            r.check(
                row is not None and row.status == "succeeded" and len(intents) == 1,
                f"{label}: after the retry the request is {row.status if row else None}",
            )


def _check_approvals(r: Round, ops: list[Op], victim: int, where: str) -> None:
    cluster = r.cluster
    owner = cluster.agent().person
    person = cluster.person_on(owner, _elsewhere(r, victim))
    person.client.cookies.update(owner.client.cookies)
    try:
        for op in ops:
            if op.kind != "approve":
                continue
            assert op.request_id is not None
            label = f"approval of {op.request_id} ({where})"
            acked = status_of(op.result) == 303
            with cluster.session() as session:
                row = request_row(session, op.request_id)
                count = len(credentials_for(session, op.request_id))
            if row is None:
                r.check(False, f"{label}: the request vanished")
                continue
            if acked:
                r.check(row.status == "approved" and count == 1, f"{label}: acked, {row.status}")
            r.check(
                (row.status, count) in {("approved", 1), ("pending_approval", 0)},
                f"{label}: stored {row.status} with {count} credentials",
            )
            if row.status == "pending_approval":
                # Cut off before its commit: the person can still approve it.
                path = f"/approve/{op.request_id}"
                answer = person.submit_form(path, {"action": "approve"}, action=path)
                r.attempt()
                r.check(
                    answer.status_code == 200, f"{label}: approving again got {answer.status_code}"
                )
                with cluster.session() as session:
                    row = request_row(session, op.request_id)
                    count = len(credentials_for(session, op.request_id))
                r.check(
                    row is not None and row.status == "approved" and count == 1,
                    f"{label}: approved again, stored {row.status if row else None} with {count}",
                )
    finally:
        person.close()


def _check_delegated(r: Round, ops: list[Op], where: str) -> None:
    cluster = r.cluster
    for op in ops:
        if op.kind != "delegate" or status_of(op.result) != 200:
            continue
        request_id = op.result.json()["id"]
        with cluster.session() as session:
            row = request_row(session, request_id)
            count = len(credentials_for(session, request_id))
        r.check(
            row is not None and row.status == "approved" and count == 1,
            f"delegated {request_id} answered 200, stored {row.status if row else None} "
            f"with {count} credentials ({where})",
        )


def _check_database(r: Round, cluster: Cluster, where: str) -> None:
    with cluster.session() as session:
        checked, problems = consistency(session)
    r.tally.note("request checks", checked)
    for problem in problems:
        r.check(False, f"{problem} ({where})")
    sqlite_file = cluster.sqlite_file
    if sqlite_file is not None:
        connection = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
        try:
            integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            foreign = connection.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            connection.close()
        r.check(integrity == ["ok"], f"integrity_check: {integrity[:5]} ({where})")
        r.check(not foreign, f"foreign_key_check: {foreign[:5]} ({where})")
