"""Request size limits: JSON bodies are capped, artifact uploads stream without a cap.

A body announced larger than the limit (``Content-Length``) is refused with 413 before a byte
of it is read; a chunked body is counted as it arrives and refused once it passes the limit.
Artifact uploads (``PUT …/artifacts/…``) are streamed to the blob store chunk by chunk, never
held in memory, so they are exempt.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.server.errors import error_response

MAX_JSON_BYTES = 16 * 1024 * 1024


def is_upload(scope: Scope) -> bool:
    """Whether the request streams an artifact file (exempt from the JSON size limit)."""
    return scope.get("method") == "PUT" and "/artifacts/" in str(scope.get("path", ""))


def too_large(limit: int) -> str:
    """The 413 message for a body over ``limit`` bytes."""
    return (
        f"request body is larger than {limit // (1024 * 1024)} MB; send less per request "
        "(split metric batches, upload files as artifacts)"
    )


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with 413 PAYLOAD_TOO_LARGE."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_upload(scope):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            response = error_response(413, "PAYLOAD_TOO_LARGE", too_large(self.limit))
            await response(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, too_large(self.limit))
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
