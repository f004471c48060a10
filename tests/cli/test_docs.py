"""Docs come from the code: the command reference is current, every error code is listed."""

from __future__ import annotations

import importlib.util
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


def _check_docs():
    """scripts/check_docs.py, the checker `make lint` runs (scripts/ is not a package)."""
    path = DOCS.parent / "scripts" / "check_docs.py"
    spec = importlib.util.spec_from_file_location("check_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SECTION = "\N{SECTION SIGN}"


def test_every_citation_resolves_and_internals_is_current():
    checker = _check_docs()
    problems = (
        checker.check_all_citations() + checker.check_internals() + checker.check_command_names()
    )
    assert problems == []


def test_citation_rules():
    checker = _check_docs()
    sections = {"contract": {"3.1", "3.4", "5.4", "7.5", "7.7"}, "mpp": {"1.3"}}
    path = checker.ROOT / "src" / "example.py"

    def problems(line: str) -> list[str]:
        return checker.check_citations(path, line, sections)

    good = [
        f"(contract {SECTION}5.4)",
        f"(contract {SECTION}3.1–{SECTION}3.4, shapes in contract {SECTION}7.5–7.7)",
        f"(contract {SECTION}3.1, {SECTION}5.4 and {SECTION}7.5)",
        f"(mpp {SECTION}1.3; RFC 8628 {SECTION}3.5, {SECTION}9.9)",
        f"the sign `{SECTION}` itself",
    ]
    for line in good:
        assert problems(line) == [], line
    assert "bare" in problems(f"(see {SECTION}5.4)")[0]
    assert "no heading '9.9" in problems(f"contract {SECTION}9.9")[0]
    assert "no heading '7.8" in problems(f"contract {SECTION}7.5–7.8")[0]
    assert f"mpp {SECTION}5.4 has no heading" in problems(f"(mpp {SECTION}1.3, {SECTION}5.4)")[0]
    assert "outside the repository" in problems("see style" + ".md")[0]


def test_layout_tree_names_what_is_missing():
    checker = _check_docs()
    text = "## Layout\n\n```\nsrc/link_cli/\n  sdk/  the SDK\n  nowhere/  gone\n```\n"
    problems = checker.check_layout_tree(text)
    assert "layout names src/link_cli/nowhere/, which does not exist" in "\n".join(problems)
    assert any("lacks the package src/link_cli/mpp/" in problem for problem in problems)


def test_commands_named_in_the_docs_must_exist():
    checker = _check_docs()
    known = {("auth",), ("auth", "login"), ("serve",)}
    text = (
        "Run `link-cli auth login --interval 5`, `link-cli serve [--port 1]` or `link-cli auth`.\n"
        "Not `link-cli onboard`, not `link-cli auth frobnicate`; prose `exposing link-cli as a`.\n"
        "```\n$ link-cli report --domain x\n```\n"
    )
    assert checker.unknown_commands(text, known) == [
        (2, "link-cli onboard"),
        (2, "link-cli auth frobnicate"),
        (4, "link-cli report"),
    ]
