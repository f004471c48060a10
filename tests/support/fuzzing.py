"""Property-based API fuzzing of the wallet with schemathesis, shared by
``tests/security/test_zero_5xx.py`` (in-process) and ``bench/wallet_fuzz.py`` (real processes).

    report = fuzz(schema, credentials=..., real_ids={"request_id": [...]}, examples=30)
    assert report.server_errors == [] and report.violations == []

Every operation of the wallet's OpenAPI document is driven twice: with schema-valid requests
(``positive``) and with requests that break the schema (``negative``: wrong types, missing or
extra fields, odd strings in paths, queries and headers). Hypothesis runs derandomized (a seed
fixed per operation and mode) without its example database, so a run is repeatable and
bounded (``examples`` requests per operation and mode). Answers are collected, not raised:
one report gives the request count, the statuses, every 5xx and every answer that breaks the
document, each with a curl command that replays it.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies._internal.utils import clear_strategy_cache
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CONFORMANCE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
"""Never a 5xx; every status, content type, header and body as the document says."""

MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@dataclass
class FuzzReport:
    """What one fuzz run sent and got back."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: requests, 5xx count and statuses seen."""
        seen = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (
            f"{self.requests} requests, {len(self.server_errors)} answered 5xx, "
            f"{len(self.violations)} broke the document; statuses {{{seen}}}"
        )


def fuzz(
    schema: Any,
    *,
    credentials: Callable[[Any], Mapping[str, str]],
    real_ids: Mapping[str, Sequence[str]] | None = None,
    examples: int = 30,
    checks: Sequence[Any] = CONFORMANCE_CHECKS,
    base_url: str | None = None,
    modes: Sequence[GenerationMode] = MODES,
) -> FuzzReport:
    """Fuzz every operation of ``schema``; ``credentials(case)`` gives the headers to add
    (a case that generated its own ``Authorization`` keeps it). Path parameters named in
    ``real_ids`` take one of those ids about half of the time."""
    # Hypothesis' strategy cache lives as long as the process: entries left by earlier
    # property tests of the same xdist worker changed which entries this run evicted, and
    # an eviction met a key the cache no longer indexed (KeyError inside Hypothesis, seen
    # in one full run). A run from an empty cache is the run a lone module makes.
    clear_strategy_cache()
    report = FuzzReport()
    pools = {name: list(values) for name, values in (real_ids or {}).items()}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in modes:
            _fuzz_operation(operation, mode, report, credentials, pools, examples, checks, base_url)
    return report


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    report: FuzzReport,
    credentials: Callable[[Any], Mapping[str, str]],
    pools: dict[str, list[str]],
    examples: int,
    checks: Sequence[Any],
    base_url: str | None,
) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode), pick=st.integers(0, 7))
    def send(case: Any, pick: int) -> None:
        for name in case.path_parameters or {}:
            pool = pools.get(name, [])
            if pick < 2 * len(pool) and pick % 2 == 0:
                case.path_parameters[name] = pool[pick // 2]
        # One case in eight keeps a generated Authorization header (if any), to fuzz its
        # parsing; the others carry the real credential, to reach past authentication.
        headers: dict[str, str] = {}
        if pick != 7 or not _has_authorization(case):
            headers = dict(credentials(case))
            for name in [n for n in case.headers or {} if n.lower() == "authorization"]:
                del case.headers[name]
        response = case.call(base_url=base_url, headers=headers)
        report.requests += 1
        report.statuses[response.status_code] += 1

        def replay() -> str:  # built only for a finding: it costs more than the request
            return str(case.as_curl_command(headers=headers, base_url=base_url))

        if response.status_code >= 500:
            report.server_errors.append(
                f"{response.status_code} {response.text[:300]!r}\n  {replay()}"
            )
        try:
            case.validate_response(response, checks=list(checks), headers=headers)
        except Exception as error:  # a check failed: record it, keep fuzzing
            report.violations.append(f"{str(error).strip()[:1200]}\n  {replay()}")

    # Unsatisfiable: nothing in this operation can break the schema (e.g. no parameters).
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        send()


def _has_authorization(case: Any) -> bool:
    return any(name.lower() == "authorization" for name in case.headers or {})
