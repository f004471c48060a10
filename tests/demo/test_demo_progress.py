"""How the demo reports its steps: one line each, failures explained, server text defused."""

from __future__ import annotations

import io

import pytest

from link_cli.demo.progress import StepReporter


def test_off_a_terminal_each_step_is_one_plain_line() -> None:
    out = io.StringIO()
    reporter = StepReporter(out, interactive=False)

    reporter.heading("Card flow")
    with reporter.step("Agent creates a spend request") as step:
        step.detail = "lsrq_1: $45.00"
    with reporter.step("Person approves"):
        pass

    assert out.getvalue() == (
        "Card flow\n✓ Agent creates a spend request — lsrq_1: $45.00\n✓ Person approves\n"
    )


def test_a_failing_step_says_why_and_the_error_still_propagates() -> None:
    out = io.StringIO()
    reporter = StepReporter(out, interactive=False)

    with pytest.raises(RuntimeError, match="checkout refused"), reporter.step("Agent pays"):
        raise RuntimeError("the checkout refused the card\nmore detail")

    assert out.getvalue() == "✗ Agent pays — the checkout refused the card\n"


def test_escape_sequences_from_a_server_never_reach_the_terminal() -> None:
    out = io.StringIO()
    reporter = StepReporter(out, interactive=False)

    with reporter.step("Agent reads the checkout page") as step:
        step.detail = "\x1b]0;PWNED\x07Camp lantern\x1b[2J"

    assert out.getvalue() == "✓ Agent reads the checkout page — Camp lantern\n"


def test_on_a_terminal_the_spinner_line_is_replaced_by_the_result() -> None:
    out = io.StringIO()
    reporter = StepReporter(out, interactive=True)

    with reporter.step("Start the wallet") as step:
        step.detail = "http://127.0.0.1:8725"

    last_line = out.getvalue().rsplit("\r\x1b[2K", 1)[-1]
    assert last_line == "\x1b[32m✓\x1b[0m Start the wallet — http://127.0.0.1:8725\n"
