"""The JSON response of the Link API routes.

Routes return :class:`ApiJSON` rather than a ``dict``: for a plain ``def`` route, FastAPI
validates a returned ``dict`` against the return annotation in the thread pool, one more
thread hand-off per request for a check that cannot fail. The bytes are the same ones FastAPI
wrote for a ``dict[str, Any]`` (pydantic's serializer: compact, UTF-8).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

_ANY = TypeAdapter(Any)


class ApiJSON(JSONResponse):
    """``application/json`` serialized by pydantic, as FastAPI serializes a returned dict."""

    def render(self, content: Any) -> bytes:
        return _ANY.dump_json(content)
