"""Docs come from the code: the command reference is current, every error code is listed."""

from __future__ import annotations

import re
from pathlib import Path

import link_cli.errors as errors
from link_cli.cli import reference

DOCS = Path(__file__).resolve().parents[2] / "docs"
TESTS = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current():
    assert reference.render() == (DOCS / "cli.md").read_text(encoding="utf-8"), (
        "docs/cli.md is stale: run `python -m link_cli.cli.reference`"
    )


def test_every_error_code_is_documented():
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    classes = [
        getattr(errors, name) for name in errors.__all__ if isinstance(getattr(errors, name), type)
    ]
    codes = {cls.code for cls in classes if issubclass(cls, errors.LinkError)}
    assert codes >= {"NOT_AUTHENTICATED", "POLLING_TIMEOUT", "api_error", "UNKNOWN"}
    missing = sorted(code for code in codes if f"`{code}`" not in text)
    assert missing == []


def test_compatibility_entries_point_at_existing_tests():
    text = (DOCS / "compatibility.md").read_text(encoding="utf-8")
    for path, name in re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text):
        source = (TESTS.parent / path).read_text(encoding="utf-8")
        assert f"def {name}(" in source, f"{path}::{name}"
