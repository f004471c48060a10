"""The merchant half: HMAC-bound ids (mpp §1.3 vectors), issuing, verifying, replay."""

from __future__ import annotations

import base64
import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from link_cli.mpp import (
    Credential,
    ProblemType,
    _wire,
    build_credential,
    format_authorization,
    parse_problem,
    parse_www_authenticate,
)
from link_cli.mpp.methods import stripe
from link_cli.mpp.server import (
    MemoryReplayStore,
    PaymentProblem,
    PaymentServer,
    SQLiteReplayStore,
    body_digest,
    compute_challenge_id,
    payment_required_response,
)

SECRET = b"mpp-python-brief-secret-0123456789abcdef"
VECTOR_REQUEST = {
    "amount": "250",
    "currency": "usd",
    "methodDetails": {"networkId": "profile_test_123", "paymentMethodTypes": ["card", "link"]},
}
VECTOR_REQUEST_B64 = (
    "eyJhbW91bnQiOiIyNTAiLCJjdXJyZW5jeSI6InVzZCIsIm1ldGhvZERldGFpbHMiOnsibmV0d29ya0lkIjoicHJv"
    "ZmlsZV90ZXN0XzEyMyIsInBheW1lbnRNZXRob2RUeXBlcyI6WyJjYXJkIiwibGluayJdfX0"
)
EXPIRES = "2030-01-01T00:00:00Z"
OPAQUE_B64 = "eyJvcmRlciI6Im8tNzcifQ"
DIGEST = "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_vector_request_encodes_as_jcs_base64url() -> None:
    assert _wire.encode_b64_json(VECTOR_REQUEST) == VECTOR_REQUEST_B64
    assert _wire.encode_b64_json({"order": "o-77"}) == OPAQUE_B64
    assert body_digest(b"") == DIGEST


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, "-D9tyMcQ9YyYooSTq6gMtayxghMwIkZXxgKad75xVho"),
        ({"expires": EXPIRES}, "njvzsvDXBXZjlM4jhsaUu89uaEU9bnapcuLgShV0VHM"),
        ({"expires": EXPIRES, "digest": DIGEST}, "Vfa_h4LIGwLFrWSn9_DyC74_c58VYL_Kc3cZASu6tjU"),
        (
            {"expires": EXPIRES, "opaque_b64": OPAQUE_B64},
            "PnDVzDfUilI9xnGrbEx5YaNztdszOWEgusTNxbI4klA",
        ),
        (
            {"expires": EXPIRES, "opaque_b64": OPAQUE_B64, "header": "Payment-Authorization"},
            "TeFK_YDECIzRGYFOBzCdtvpDZPqFFD1BCOhdqTLk6ok",
        ),
        (
            {"expires": EXPIRES, "header": "Authorization"},
            "njvzsvDXBXZjlM4jhsaUu89uaEU9bnapcuLgShV0VHM",
        ),
    ],
    ids=["none", "expires", "digest", "opaque", "header", "default-header-unbound"],
)
def test_hmac_vectors_reproduced(extra: dict[str, str], expected: str) -> None:
    challenge_id = compute_challenge_id(
        SECRET,
        realm="shop.example",
        method="stripe",
        intent="charge",
        request_b64=VECTOR_REQUEST_B64,
        **extra,
    )
    assert challenge_id == expected


class Clock:
    """A moveable clock for expiry tests (no sleeping, no wall-clock assertions)."""

    def __init__(self) -> None:
        self.now = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(clock: Clock) -> PaymentServer:
    return PaymentServer(secret=SECRET, realm="shop.example", clock=clock)


def _request(amount: str = "250") -> dict[str, object]:
    return stripe.build_charge_request(amount=amount, currency="usd", network_id="profile_1")


def _issue(server: PaymentServer, **kwargs: object) -> str:
    """Issue a challenge, send it through the wire text, and answer it with an SPT."""
    challenge = server.issue(method="stripe", intent="charge", request=_request(), **kwargs)
    [received] = parse_www_authenticate(payment_required_response([challenge]).headers[2][1])
    return format_authorization(build_credential(received, "spt_1"))


def _verify(server: PaymentServer, authorization: str, **kwargs: object) -> Credential:
    return server.verify(
        authorization, method="stripe", intent="charge", request=_request(), **kwargs
    )


def _refusal(server: PaymentServer, authorization: str | None, **kwargs: object) -> ProblemType:
    with pytest.raises(PaymentProblem) as info:
        server.verify(authorization, method="stripe", intent="charge", request=_request(), **kwargs)
    kind = info.value.problem.kind
    assert kind is not None
    return kind


def test_issued_challenge_is_bound_and_expires_after_ttl(
    server: PaymentServer, clock: Clock
) -> None:
    challenge = server.issue(method="stripe", intent="charge", request=_request())
    assert challenge.expires_at() == clock.now + timedelta(minutes=5)
    assert challenge.id == compute_challenge_id(
        SECRET,
        realm="shop.example",
        method="stripe",
        intent="charge",
        request_b64=challenge.request,
        expires=challenge.expires,
    )


def test_valid_credential_verifies_once(server: PaymentServer) -> None:
    authorization = _issue(server)
    credential = _verify(server, authorization)
    assert credential.payload == {"spt": "spt_1"}
    assert _refusal(server, authorization) is ProblemType.INVALID_CHALLENGE


def test_missing_credential_asks_for_payment(server: PaymentServer) -> None:
    assert _refusal(server, None) is ProblemType.PAYMENT_REQUIRED


@pytest.mark.parametrize("garbage", ["Payment !!!", "Payment abc", "Bearer x", "Payment e30"])
def test_undecodable_credential_is_malformed(server: PaymentServer, garbage: str) -> None:
    assert _refusal(server, garbage) is ProblemType.MALFORMED_CREDENTIAL


def _tamper(authorization: str, change: dict[str, object]) -> str:
    token = authorization.split(" ", 1)[1]
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for key, value in change.items():
        data["challenge"][key] = value
    return "Payment " + _wire.b64url_encode(json.dumps(data).encode())


@pytest.mark.parametrize(
    "change",
    [
        {"request": _wire.encode_b64_json(dict(_request(), amount="1"))},
        {"realm": "other.example"},
        {"expires": "2099-01-01T00:00:00Z"},
        {"id": "forged"},
        {"digest": "sha-256=AAAA"},
    ],
    ids=["amount", "realm", "expires", "id", "digest-added"],
)
def test_tampered_challenge_is_invalid(server: PaymentServer, change: dict[str, object]) -> None:
    assert _refusal(server, _tamper(_issue(server), change)) is ProblemType.INVALID_CHALLENGE


def test_credential_from_another_secret_is_invalid(server: PaymentServer, clock: Clock) -> None:
    other = PaymentServer(
        secret=b"another-secret-of-32-bytes-long!", realm="shop.example", clock=clock
    )
    assert _refusal(server, _issue(other)) is ProblemType.INVALID_CHALLENGE


def test_rotated_secret_keeps_accepting_old_ids(clock: Clock) -> None:
    old = PaymentServer(secret=b"old-secret-0123456789abcdef", realm="shop.example", clock=clock)
    authorization = _issue(old)
    rotated = PaymentServer(
        secret=SECRET, realm="shop.example", previous_secrets=(old.secret,), clock=clock
    )
    assert _verify(rotated, authorization).payload["spt"] == "spt_1"


def test_expired_challenge_is_refused_and_not_burnt(server: PaymentServer, clock: Clock) -> None:
    authorization = _issue(server)
    clock.now += timedelta(minutes=5)
    assert _refusal(server, authorization) is ProblemType.PAYMENT_EXPIRED


def test_re_encoded_request_in_echo_is_accepted(server: PaymentServer) -> None:
    """Servers re-canonicalise the echoed request before the HMAC (mpp §1.4)."""
    authorization = _issue(server)
    padded = base64.b64encode(json.dumps(_request(), indent=2).encode()).decode()
    assert _verify(server, _tamper(authorization, {"request": padded})).payload["spt"] == "spt_1"


def test_challenge_for_another_route_price_is_invalid(server: PaymentServer) -> None:
    authorization = _issue(server)
    with pytest.raises(PaymentProblem) as info:
        server.verify(authorization, method="stripe", intent="charge", request=_request("999"))
    assert info.value.problem.kind is ProblemType.INVALID_CHALLENGE


def test_a_credential_for_an_intent_not_offered_is_unsupported(server: PaymentServer) -> None:
    authorization = _issue(server)
    with pytest.raises(PaymentProblem) as info:
        server.verify(authorization, method="stripe", intent="session", request=_request())
    assert info.value.problem.kind is ProblemType.METHOD_UNSUPPORTED
    assert info.value.problem.status == 400


def test_two_credentials_are_a_bad_request(server: PaymentServer) -> None:
    authorization = _issue(server)
    with pytest.raises(PaymentProblem) as info:
        server.verify(f"{authorization}, {authorization}", method="stripe", intent="charge")
    assert info.value.problem.kind is ProblemType.BAD_REQUEST


def test_body_digest_must_match(server: PaymentServer) -> None:
    authorization = _issue(server, body=b'{"qty":1}')
    assert _refusal(server, authorization, body=b'{"qty":2}') is ProblemType.VERIFICATION_FAILED
    assert _verify(server, authorization, body=b'{"qty":1}').payload["spt"] == "spt_1"


def test_bad_payload_is_refused_without_burning_the_challenge(server: PaymentServer) -> None:
    challenge = server.issue(method="stripe", intent="charge", request=_request())
    bad = format_authorization(Credential(challenge=challenge, payload={"token": "x"}))

    def check(credential: Credential) -> object:
        return stripe.parse_charge_payload(credential.payload, credential.challenge)

    assert _refusal(server, bad, check_payload=check) is ProblemType.INVALID_PAYLOAD
    good = format_authorization(build_credential(challenge, "spt_ok"))
    assert _verify(server, good, check_payload=check).payload["spt"] == "spt_ok"


def test_challenge_without_expires_is_refused(server: PaymentServer) -> None:
    """Fail closed like both SDK servers: a credential must echo an expiry (mpp §1.7)."""
    request_b64 = _wire.encode_b64_json(_request())
    challenge_id = compute_challenge_id(
        SECRET, realm="shop.example", method="stripe", intent="charge", request_b64=request_b64
    )
    [challenge] = parse_www_authenticate(
        f'Payment id="{challenge_id}", realm="shop.example", method="stripe", intent="charge", '
        f'request="{request_b64}"'
    )
    authorization = format_authorization(build_credential(challenge, "spt"))
    assert _refusal(server, authorization) is ProblemType.INVALID_CHALLENGE


def test_payment_required_response_carries_fresh_challenge_and_problem(
    server: PaymentServer,
) -> None:
    challenge = server.issue(method="stripe", intent="charge", request=_request())
    response = payment_required_response([challenge])
    headers = dict(response.headers)
    assert response.status == 402
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "application/problem+json"
    assert parse_www_authenticate(headers["WWW-Authenticate"]) == [challenge]
    assert parse_problem(response.body).kind is ProblemType.PAYMENT_REQUIRED


def test_issue_with_non_ascii_description_makes_an_ascii_header(server: PaymentServer) -> None:
    challenge = server.issue(
        method="stripe", intent="charge", request=_request(), description="Café ☕ \r\nX-Evil: 1"
    )
    header = payment_required_response([challenge]).headers[2][1]
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert parse_www_authenticate(header)[0].description == "Café ☕ \r\nX-Evil: 1"


def test_secret_is_not_in_repr(server: PaymentServer) -> None:
    assert SECRET.decode() not in repr(server)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        PaymentServer(secret=b"short", realm="x")


# --- replay stores -----------------------------------------------------------------------


def test_memory_store_marks_once_and_forgets_after_expiry() -> None:
    now = [1000.0]
    store = MemoryReplayStore(max_entries=2, clock=lambda: now[0])
    assert store.put_if_absent("a", 1010.0)
    assert not store.put_if_absent("a", 1010.0)
    assert store.put_if_absent("b", 1005.0)
    assert not store.put_if_absent("c", 1010.0)  # full: refuse rather than forget
    now[0] = 1006.0  # "b" expired: room again
    assert store.put_if_absent("c", 1010.0)
    assert not store.put_if_absent("a", 1010.0)


def test_sqlite_store_marks_once_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite"
    assert SQLiteReplayStore(path).put_if_absent("k", 4_000_000_000.0)
    assert not SQLiteReplayStore(path).put_if_absent("k", 4_000_000_000.0)


def _race(path: str, key: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    results.put(SQLiteReplayStore(path).put_if_absent(key, 4_000_000_000.0))


def test_sqlite_store_settles_a_race_between_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "replay.sqlite")
    SQLiteReplayStore(path)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_race, args=(path, "same", results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(outcomes) == [False, False, False, True]


def test_server_with_sqlite_store_refuses_replay_across_instances(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "replay.sqlite"
    first = PaymentServer(
        secret=SECRET, realm="shop.example", store=SQLiteReplayStore(path), clock=clock
    )
    second = PaymentServer(
        secret=SECRET, realm="shop.example", store=SQLiteReplayStore(path), clock=clock
    )
    authorization = _issue(first)
    _verify(first, authorization)
    assert _refusal(second, authorization) is ProblemType.INVALID_CHALLENGE


def test_released_challenge_verifies_again_once(server: PaymentServer) -> None:
    authorization = _issue(server)
    credential = _verify(server, authorization)
    server.release(credential)  # the settlement could not run
    assert _verify(server, authorization).challenge == credential.challenge
    assert _refusal(server, authorization) is ProblemType.INVALID_CHALLENGE


def test_stores_forget_a_deleted_key(tmp_path: Path) -> None:
    for store in (MemoryReplayStore(), SQLiteReplayStore(tmp_path / "replay.sqlite")):
        assert store.put_if_absent("k", 4_000_000_000.0)
        store.delete("k")
        store.delete("never-there")
        assert store.put_if_absent("k", 4_000_000_000.0)
        assert not store.put_if_absent("k", 4_000_000_000.0)
