"""Every error leaves the server as ``{"error": {"code": …, "message": …}}`` with one status.

* a :class:`~shipyard.errors.ShipyardError` gets its own ``.status`` and ``.code``, so the HTTP
  client raises the very same class again (``shipyard.errors.from_wire``);
* a request FastAPI cannot validate (malformed JSON, a wrong type) is a 400 INVALID_ARGUMENT
  whose message names the field, e.g. ``body.metrics[0].value: …``;
* Starlette's own HTTP errors (unknown route, wrong method) keep their status;
* anything else is logged with its traceback and answered 500 INTERNAL_ERROR, by
  :class:`CatchAllMiddleware` (outside FastAPI's handlers, so nothing is raised past it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.errors import InvalidArgument, ShipyardError

log = logging.getLogger("shipyard.server")

_HTTP_CODES = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The JSON error response every failure path returns."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def format_validation_errors(errors: Sequence[Any]) -> str:
    """One line per problem, each naming the field: ``body.metrics[0].value: …``."""
    lines = []
    for err in errors:
        loc = _format_loc(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            lines.append(
                f"body is not valid JSON: {ctx.get('error', err.get('msg'))} "
                f"(at character {loc.rsplit('.', 1)[-1]})"
            )
        else:
            lines.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(lines) or "invalid request"


def _format_loc(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


async def _shipyard_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ShipyardError)
    if exc.status >= 500:
        log.warning("%s: %s", exc.code, exc)
    return error_response(exc.status, exc.code, str(exc))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(400, InvalidArgument.code, format_validation_errors(exc.errors()))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app`` and wrap it in :class:`CatchAllMiddleware`."""
    app.add_exception_handler(ShipyardError, _shipyard_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(CatchAllMiddleware)


class CatchAllMiddleware:
    """Answer an unexpected exception with a logged 500 in the usual shape.

    If the response had already started (a stream broke halfway), the connection is closed
    instead: the client sees a truncated body, which it detects by length and checksum.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if isinstance(exc, ShipyardError):  # raised outside the handlers, e.g. mid-stream
                log.warning("%s %s failed: %s", scope.get("method"), scope.get("path"), exc)
                response = error_response(exc.status, exc.code, str(exc))
            else:
                log.exception("%s %s failed", scope.get("method"), scope.get("path"))
                response = error_response(
                    500,
                    "INTERNAL_ERROR",
                    f"internal server error ({type(exc).__name__}); the server log has details",
                )
            if started:
                raise
            await response(scope, receive, send)
