"""Redaction rules of the verbose log (stricter than contract §10.4)."""

from __future__ import annotations

import json

from link_cli.sdk._redact import REDACTED, redact_body, redact_form, redact_headers, redact_json


def test_secret_members_are_hidden_wherever_they_are() -> None:
    body = {
        "access_token": "at",
        "nested": [{"refresh_token": "rt", "device_code": "dc"}],
        "card": {"number": "4242424242424242", "cvc": "123", "last4": "4242", "exp_month": 12},
        "link_pay_token": "lpt_1",
        "user_code": "apple-banana",
    }
    assert redact_json(body) == {
        "access_token": REDACTED,
        "nested": [{"refresh_token": REDACTED, "device_code": REDACTED}],
        "card": {"number": REDACTED, "cvc": REDACTED, "last4": "4242", "exp_month": 12},
        "link_pay_token": REDACTED,
        "user_code": "apple-banana",
    }


def test_spt_object_keeps_its_shape_but_not_its_id() -> None:
    spt = {"shared_payment_token": {"id": "spt_1", "valid_until": "2030-01-01"}}
    assert redact_json(spt) == {
        "shared_payment_token": {"id": REDACTED, "valid_until": "2030-01-01"}
    }
    assert redact_json({"shared_payment_token": None}) == {"shared_payment_token": None}


def test_card_like_digit_runs_in_free_text_are_hidden_but_short_numbers_stay() -> None:
    text = "pan 5555-5555-5555-4444 amount 5000 phone 4155550123 spt_abc123"
    assert redact_json(text) == f"pan {REDACTED} amount 5000 phone 4155550123 {REDACTED}"


def test_form_bodies_redact_tokens_and_device_codes() -> None:
    form = "grant_type=refresh_token&refresh_token=rt_1&client_id=lwlpk_x&device_code=dc&token=t"
    assert redact_form(form) == (
        "grant_type=refresh_token&refresh_token=%3Credacted%3E&client_id=lwlpk_x"
        "&device_code=%3Credacted%3E&token=%3Credacted%3E"
    )


def test_non_json_text_bodies_still_lose_quoted_secrets() -> None:
    text = 'oops {"access_token": "at_live", "cvc": 123'
    assert (
        redact_body(text, "text/plain")
        == f'oops {{"access_token": "{REDACTED}", "cvc": "{REDACTED}"'
    )


def test_json_bodies_are_pretty_printed_after_redaction() -> None:
    out = redact_body('{"number":"4242424242424242","brand":"visa"}', "application/json")
    assert json.loads(out) == {"number": REDACTED, "brand": "visa"}
    assert out.startswith("{\n  ")


def test_headers() -> None:
    assert redact_headers(
        {"Authorization": "Bearer at_1", "Set-Cookie": "s=1", "Content-Type": "application/json"}
    ) == {
        "Authorization": f"Bearer {REDACTED}",
        "Set-Cookie": REDACTED,
        "Content-Type": "application/json",
    }
