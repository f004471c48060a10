"""``link-wallet card add``: clear errors, exit 1, nothing stored on bad input, secrets never
echoed (the user, database and serve commands: test_wallet_cli.py)."""

from __future__ import annotations

import json

import pytest
from tests.support.wallet import DEFAULT_CARD, WalletProcess


def _existing_person(offline: WalletProcess, email: str) -> None:
    """Set-up for the card tests: the person is written in-process (user create has its own tests)."""
    offline.store().create_user(email, "a good password", None)


def _card_args(email: str, **overrides: str) -> list[str]:
    args = ["card", "add", "--email", email]
    for key, value in {**DEFAULT_CARD, **overrides}.items():
        args += [f"--{key.replace('_', '-')}", value]
    return args


def test_card_add_prints_only_the_summary(offline: WalletProcess) -> None:
    _existing_person(offline, "dee@example.com")
    result = offline.run_cli(*_card_args("dee@example.com", number="6011111111111117", cvc="987"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {"id", "brand", "last4", "exp_month", "exp_year"}
    assert summary["brand"] == "discover"
    assert summary["last4"] == "1117"
    assert summary["id"].startswith("csmrpd_")
    assert "6011111111111117" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"number": "4242424242424241"}, "not valid"),
        ({"number": "9999999999999995"}, "Only Visa"),
        ({"exp_month": "13"}, "1 to 12"),
        ({"exp_year": "2001"}, "expired"),
        ({"cvc": "12"}, "security code"),
        ({"country": "USA"}, "two-letter"),
        ({"line1": " "}, "street address"),
    ],
)
def test_card_add_bad_input(
    offline: WalletProcess, overrides: dict[str, str], message: str
) -> None:
    _existing_person(offline, "eve@example.com")
    result = offline.run_cli(*_card_args("eve@example.com", **overrides))
    assert result.returncode == 1
    assert message in result.stderr
    assert overrides.get("number", "4242424242424242") not in result.stderr
    # Nothing half-stored blocks the good card (added in-process: the command's own success
    # path has its tests above and below).
    ok = offline.store().add_card("eve@example.com", DEFAULT_CARD, shipping=False)
    assert ok["last4"] == "4242"


def _card_args_without_secrets(email: str) -> list[str]:
    args = _card_args(email)
    for flag in ("--number", "--cvc"):
        at = args.index(flag)
        del args[at : at + 2]
    return args


def test_card_add_reads_number_and_cvc_from_stdin(offline: WalletProcess) -> None:
    _existing_person(offline, "fay@example.com")
    secrets_json = json.dumps({"number": "5555 5555 5555 4444", "cvc": "321"})
    result = offline.run_cli(
        *_card_args_without_secrets("fay@example.com"), "--card-stdin", input_text=secrets_json
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["last4"] == "4444"
    assert json.loads(result.stdout)["brand"] == "mastercard"


@pytest.mark.parametrize(
    ("extra_args", "stdin", "message"),
    [
        ([], "", "the card number is missing"),  # no flags, no terminal to prompt on
        (["--card-stdin"], '{"number": "4242424242424242"}', "the card cvc is missing"),
        (["--card-stdin"], "4242424242424242", "expects a JSON object"),
        (["--card-stdin"], '["4242424242424242"]', "expects a JSON object"),
        (["--card-stdin"], '{"4242424242424242": "1"}', 'only the fields "number" and "cvc"'),
        (["--card-stdin"], '{"number": 4242424242424242.0, "cvc": "1"}', "must be a string"),
        (["--card-stdin"], " " * 5000, "too long"),
        (
            ["--card-stdin", "--cvc", "123"],
            '{"number": "4242424242424242", "cvc": "123"}',
            "give the cvc once",
        ),
    ],
)
def test_card_add_secret_input_mistakes(
    offline: WalletProcess, extra_args: list[str], stdin: str, message: str
) -> None:
    _existing_person(offline, "gus@example.com")
    result = offline.run_cli(
        *_card_args_without_secrets("gus@example.com"), *extra_args, input_text=stdin
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert "4242424242424242" not in result.stderr + result.stdout


def test_card_add_prompts_for_number_and_cvc_on_a_terminal(offline: WalletProcess) -> None:
    import os
    import pty
    import time

    _existing_person(offline, "hal@example.com")
    argv = [*offline.base_args(), *_card_args_without_secrets("hal@example.com")]
    pid, fd = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty, as for a person typing
        os.execve(argv[0], argv, offline.env)
    transcript = b""
    answers = [(b"Card number:", b"4000056655665556\n"), (b"(CVC):", b"777\n")]
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            transcript += chunk
            if answers and answers[0][0] in transcript:
                os.write(fd, answers.pop(0)[1])
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, transcript
    assert b'"last4": "5556"' in transcript
    assert b"4000056655665556" not in transcript  # hidden prompt: nothing echoed
    assert b"777" not in transcript


def test_card_add_for_an_unknown_email(offline: WalletProcess) -> None:
    result = offline.run_cli(*_card_args("ghost@example.com"))
    assert result.returncode == 1
    assert "no user with email ghost@example.com" in result.stderr


def test_first_card_is_default_and_default_flag_moves_it(wallet: WalletProcess) -> None:
    import httpx2
    from tests.support.person import bearer, wallet_tokens

    person = wallet.create_person()
    second = wallet.add_card(person.email, shipping=False, number="5555555555554444", cvc="111")
    tokens = wallet_tokens(wallet, person)

    def defaults() -> dict[str, bool]:
        response = httpx2.get(f"{wallet.url}/payment-details", headers=bearer(tokens), timeout=10)
        return {c["id"]: c["is_default"] for c in response.json()["payment_details"]}

    assert defaults() == {person.payment_method_id: True, second["id"]: False}
    third = wallet.run_cli(
        *_card_args(person.email, number="378282246310005", cvc="1234"), "--default"
    )
    third_id = json.loads(third.stdout)["id"]
    assert defaults() == {person.payment_method_id: False, second["id"]: False, third_id: True}
