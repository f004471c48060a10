"""The tool-error edge, exhaustively: every error class a command can end with becomes a
tool result with ``isError: true`` carrying the CLI's ``{code, message, …}`` — never a
protocol error and never an empty success (contract §9.3, the contract §14.5 defect fixed).

The wallet-backed tests (``test_mcp_flow.py``) reach most codes for real; this one makes
sure none is missed, including those a live wallet rarely produces (``api_error``,
``OUTPUT_FILE_WRITE_ERROR``, ``REQUIRES_TTY``).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest

from link_cli import errors
from link_cli.commands import _invoke
from link_cli.mcp import calls, server

pytestmark = pytest.mark.anyio

ERROR_CLASSES = sorted(
    (
        cls
        for cls in vars(errors).values()
        if inspect.isclass(cls)
        and issubclass(cls, errors.LinkError)
        and cls is not errors.LinkError
    ),
    key=lambda cls: cls.__name__,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_error(cls: type[errors.LinkError]) -> errors.LinkError:
    if cls is errors.NotAuthenticated:
        return cls()
    return cls(f"{cls.__name__} happened")


async def call(name: str, arguments: dict[str, Any]) -> tuple[Any, list[Any]]:
    chunks: list[Any] = []

    async def on_chunk(count: int, chunk: Any) -> None:
        chunks.append(chunk)

    outcome = await calls.run_tool(name, arguments, on_chunk=on_chunk)
    if outcome.error is not None:
        return server.error_result(outcome.error), chunks
    return server.success_result(outcome.value), chunks


def assert_tool_error(result: Any, code: str) -> dict[str, Any]:
    assert result.is_error is True
    body = json.loads(result.content[0].text)
    assert result.structured_content == body
    assert body["code"] == code
    assert body["message"]
    return body


def test_every_error_class_is_covered() -> None:
    names = {cls.__name__ for cls in ERROR_CLASSES}
    assert {"ApiErrorWithUrl", "OutputFileWriteError", "RequiresTty", "Unknown"} <= names
    assert len(ERROR_CLASSES) == len([n for n in errors.__all__ if n[0].isupper()]) - 1


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
async def test_an_error_raised_by_a_command_is_a_tool_error_with_its_code(
    monkeypatch: pytest.MonkeyPatch, cls: type[errors.LinkError]
) -> None:
    error = make_error(cls)

    def failing_invoke(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(_invoke, "invoke", failing_invoke)
    result, _ = await call("spend-request_list", {})
    body = assert_tool_error(result, error.code)
    assert body == error.to_dict(include_cta=True)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
async def test_an_error_after_streamed_chunks_is_still_a_tool_error(
    monkeypatch: pytest.MonkeyPatch, cls: type[errors.LinkError]
) -> None:
    # The official server returns the chunks so far as a success here (contract §9.3 quirk).
    error = make_error(cls)

    def stream() -> Iterator[dict[str, Any]]:
        yield {"id": "lsrq_1", "status": "pending_approval"}
        raise error

    monkeypatch.setattr(_invoke, "invoke", lambda *args, **kwargs: stream())
    result, chunks = await call("spend-request_retrieve", {"id": "lsrq_1"})
    assert_tool_error(result, error.code)
    assert chunks == [{"id": "lsrq_1", "status": "pending_approval"}]  # progress still went out


async def test_an_unexpected_exception_is_an_unknown_tool_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("card")

    monkeypatch.setattr(_invoke, "invoke", broken)
    result, _ = await call("payment-methods_list", {})
    assert_tool_error(result, "UNKNOWN")


async def test_an_unknown_tool_is_a_tool_error() -> None:
    result, _ = await call("no_such_tool", {})
    assert_tool_error(result, "COMMAND_NOT_FOUND")


@pytest.mark.parametrize(
    ("tool", "arguments", "path"),
    [
        ("spend-request_create", {"amount": -5, "context": "x"}, "amount"),
        ("spend-request_retrieve", {}, "id"),
        ("spend-request_list", {"noSuchOption": 1}, "noSuchOption"),
        ("mpp_decode", {"challenge": ["not", "a", "string"]}, "challenge"),
    ],
)
async def test_bad_arguments_are_validation_tool_errors(
    tool: str, arguments: dict[str, Any], path: str
) -> None:
    result, _ = await call(tool, arguments)
    body = assert_tool_error(result, "VALIDATION_ERROR")
    assert path in {field["path"] for field in body["fieldErrors"]}
