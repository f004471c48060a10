"""The generic poller of contract §4.1, driven by a fake clock (no real time)."""

from __future__ import annotations

import pytest

from link_cli.commands._polling import poll_until


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def run(values, is_terminal=lambda v: v == "done", **kwargs):
    fake = FakeTime()
    source = iter(values)
    calls = []

    def fetch():
        value = next(source)
        calls.append(value)
        return value

    events = list(poll_until(fetch, is_terminal, sleep=fake.sleep, clock=fake.clock, **kwargs))
    return events, calls, fake


@pytest.mark.parametrize("interval", [0, -1])
def test_non_positive_interval_fetches_exactly_once(interval):
    events, calls, _ = run(["a", "b"], interval=interval)
    assert calls == ["a"]
    assert [(e.value, e.final, e.reason) for e in events] == [("a", True, None)]


def test_max_attempts_means_exactly_that_many_fetches():
    events, calls, _ = run(["a"] * 10, interval=1, max_attempts=3)
    assert len(calls) == 3
    assert events[-1].final and events[-1].reason == "max_attempts"


def test_timeout_stops_after_the_deadline_with_reason_timeout():
    events, calls, fake = run(["a"] * 100, interval=2, timeout=5)
    assert events[-1].reason == "timeout"
    assert len(calls) == 4  # fetched at t=0, 2, 4, 6; the deadline is checked after a fetch
    assert fake.now == 6


def test_zero_timeout_stops_after_first_fetch():
    events, calls, _ = run(["a", "a"], interval=1, timeout=0)
    assert calls == ["a"] and events[-1].reason == "timeout"


def test_max_attempts_is_checked_before_the_timeout():
    events, _, _ = run(["a"] * 5, interval=1, max_attempts=1, timeout=0)
    assert events[-1].reason == "max_attempts"


def test_intermediate_values_are_deduplicated_and_final_always_emitted():
    events, _, _ = run(["a", "a", "a", "b", "done"], interval=1)
    assert [(e.value, e.final) for e in events] == [("a", False), ("b", False), ("done", True)]


def test_final_value_is_emitted_even_when_equal_to_the_previous():
    events, _, _ = run(["a", "a"], interval=1, max_attempts=2)
    assert [(e.value, e.final) for e in events] == [("a", False), ("a", True)]


def test_fetch_errors_propagate():
    def fetch():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        list(poll_until(fetch, lambda v: False, interval=1, sleep=lambda s: None))


def test_negative_timeout_means_no_deadline():
    events, calls, _ = run(["a"] * 50 + ["done"], interval=10, timeout=-1)
    assert len(calls) == 51 and events[-1].value == "done" and events[-1].reason is None
