"""`link-cli mpp decode --challenge` (contract §3.14, §8.1), run as the real CLI."""

from __future__ import annotations

from tests.commands.mpp_fixtures import run_cli, run_json
from tests.mpp.helpers import b64, payment

CHARGE_REQUEST = {
    "amount": "1000",
    "currency": "usd",
    "methodDetails": {"networkId": "net_001", "paymentMethodTypes": ["card"]},
}


def test_decode_picks_the_stripe_challenge_out_of_a_mixed_header() -> None:
    tempo = payment(id="t1", method="tempo", request=b64({"amount": "1"}))
    stripe = payment(
        id="ch_001",
        realm="merchant.example",
        expires="2099-01-01T00:00:00Z",
        request=b64(CHARGE_REQUEST),
    )
    code, out = run_json("mpp", "decode", "--challenge", f'Bearer realm="api", {tempo}, {stripe}')
    assert code == 0, out
    assert out == {
        "id": "ch_001",
        "realm": "merchant.example",
        "method": "stripe",
        "intent": "charge",
        "expires": "2099-01-01T00:00:00Z",
        "network_id": "net_001",
        "request_json": CHARGE_REQUEST,
    }


def test_decode_accepts_a_top_level_network_id_for_session() -> None:
    header = payment(
        intent="session", request=b64({"amount": "5", "currency": "usd", "networkId": "n9"})
    )
    code, out = run_json("mpp", "decode", "--challenge", header)
    assert code == 0 and out["network_id"] == "n9" and out["intent"] == "session"


def test_decode_without_network_id_fails_naming_it() -> None:
    header = payment(request=b64({"amount": "5", "currency": "usd"}))
    code, out = run_json("mpp", "decode", "--challenge", header)
    assert code == 1
    assert out == {
        "code": "UNKNOWN",
        "message": "Invalid stripe challenge request: methodDetails.networkId: missing",
    }


def test_decode_of_a_header_without_payment_fails() -> None:
    code, out = run_json("mpp", "decode", "--challenge", 'Bearer realm="x"')
    assert (code, out["message"]) == (1, "No Payment schemes found.")


def test_decode_tempo_only_fails_mentioning_stripe() -> None:
    code, out = run_json("mpp", "decode", "--challenge", payment(method="tempo"))
    assert code == 1 and "stripe charge or session" in out["message"]


def test_decoded_text_is_sanitised_in_every_format() -> None:
    header = payment(description=r"\u001b]0;PWNED\u0007Trail \u001b[31mforecast")
    for fmt in ("json", "toon", "yaml", "md"):
        result = run_cli("mpp", "decode", "--challenge", header, "--format", fmt)
        assert result.returncode == 0, result.stdout
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "Trail forecast" in result.stdout


def test_decode_needs_no_login_and_no_network() -> None:
    # No LINK_* variables at all: nothing to log in with and nowhere to connect.
    code, out = run_json("mpp", "decode", "--challenge", payment())
    assert code == 0 and out["network_id"] == "profile_test_123"


def test_decode_without_challenge_is_a_validation_error() -> None:
    code, out = run_json("mpp", "decode")
    assert code == 1 and out["code"] == "VALIDATION_ERROR"


def test_decode_reports_the_first_offer_that_could_be_paid() -> None:
    stale = payment(id="stale", expires="2001-01-01T00:00:00Z", request=b64(CHARGE_REQUEST))
    fresh = payment(id="fresh", expires="2099-01-01T00:00:00Z", request=b64(CHARGE_REQUEST))
    code, out = run_json("mpp", "decode", "--challenge", f"{stale}, {fresh}")
    assert code == 0, out
    assert out["id"] == "fresh"


def test_decode_of_a_lone_expired_offer_still_reports_it() -> None:
    stale = payment(id="stale", expires="2001-01-01T00:00:00Z", request=b64(CHARGE_REQUEST))
    code, out = run_json("mpp", "decode", "--challenge", stale)
    assert code == 0, out
    assert (out["id"], out["expires"]) == ("stale", "2001-01-01T00:00:00Z")


def test_decode_reads_an_unquoted_expires() -> None:
    header = (
        "Payment id=ch_9, realm=m.example, method=stripe, intent=charge, "
        f"expires=2099-01-01T00:00:00Z, request={b64(CHARGE_REQUEST)}"
    )
    code, out = run_json("mpp", "decode", "--challenge", header)
    assert code == 0, out
    assert (out["id"], out["expires"], out["network_id"]) == (
        "ch_9",
        "2099-01-01T00:00:00Z",
        "net_001",
    )
