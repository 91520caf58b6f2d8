"""The model server's HTTP plumbing: JSON bodies, request ids, error responses and the short way
predict requests take (:class:`PredictRoutes`, past FastAPI's routing and middleware).

Every error is ``{"error": {"code", "message", "request_id"}}`` (a 422 adds ``fields``, one
entry per bad field) and every response carries ``X-Request-ID`` (the caller's, or a new one)."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.errors import ShipyardError
from shipyard.serving.models import ModelError, ModelNotReady, Output, ServedVersion
from shipyard.serving.requests import SchemaMismatch

if TYPE_CHECKING:
    from shipyard.serving.server import ModelServer

log = logging.getLogger("shipyard.serving")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def predict_body(
    served: ServedVersion, alias: str | None, output: Output, ids: Sequence[str], rid: str
) -> bytes:
    """``{"model", "version", "alias", "request_id", "predictions", "prediction_ids"}`` and,
    for a classifier, ``"probabilities"``: one ``{class: p}`` a row, aligned with the rows."""
    body: dict[str, Any] = {
        "model": served.name,
        "version": served.version,
        "alias": alias,
        "request_id": rid,
        "predictions": output.predictions,
    }
    if output.proba is not None and output.classes is not None:
        classes = output.classes
        body["probabilities"] = [
            dict(zip(classes, row, strict=True)) for row in _clean(output.proba.tolist())
        ]
    body["prediction_ids"] = ids
    return json_bytes(body)


def _clean(rows: list[list[float]]) -> list[list[float | None]]:
    """Probabilities with NaN/inf as null (JSON has neither)."""
    finite = all(v == v and v not in (float("inf"), float("-inf")) for row in rows for v in row)
    if finite:
        return rows  # type: ignore[return-value]
    return [[v if v == v and abs(v) != float("inf") else None for v in row] for row in rows]


def json_bytes(data: Any) -> bytes:
    """Compact JSON bytes; numpy scalars and dates become plain values, NaN becomes null."""
    try:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=_plain)
    except ValueError:  # a NaN or infinity somewhere in model output
        text = json.dumps(_nan_to_none(data), separators=(",", ":"), default=_plain)
    return text.encode()


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    if hasattr(value, "tolist"):
        return _nan_to_none(value.tolist())
    return value


def request_id(request: Request) -> str:
    """The id of this request (set by :class:`RequestIdMiddleware`)."""
    state = request.scope.get("state") or {}
    rid: str = state.get("request_id") or _new_request_id()
    return rid


def error_response(
    status: int,
    code: str,
    message: str,
    rid: str,
    *,
    fields: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The JSON error every failure returns: ``{"error": {"code", "message", "request_id"}}``."""
    error: dict[str, Any] = {"code": code, "message": message, "request_id": rid}
    if fields is not None:
        error["fields"] = fields
    return Response(
        json_bytes({"error": error}),
        status_code=status,
        media_type="application/json",
        headers=None if headers is None else dict(headers),
    )


class RequestIdMiddleware:
    """Give every request an id (the caller's ``X-Request-ID`` when sane), echo it in the
    response headers, and turn an unexpected exception into a logged 500 carrying that id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or _new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        header = (b"x-request-id", rid.encode("ascii"))
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request %s: %s %s failed", rid, scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(
                500, "INTERNAL_ERROR", f"internal server error; request id {rid}", rid
            )
            await response(scope, receive, send_with_id)


class PredictRoutes:
    """Answer ``POST /v1/models/{name}/predict`` and ``POST /invocations`` straight from the
    ASGI scope, without FastAPI's middleware stack, routing and dependency solving (which
    together took longer than the whole prediction of a single-row request).

    :class:`ModelServerApp` sends those requests here, wrapped in :class:`RequestIdMiddleware`,
    so they get their id and the same 500 handling; a :class:`ShipyardError` becomes the same
    error body as from the app's handler. Anything else goes to ``app``. The app keeps its
    routes for these paths (405 for a GET, the OpenAPI document).
    """

    def __init__(self, app: ASGIApp, server: ModelServer) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            target = self.target(scope["path"])
            if target is not None:
                request = Request(scope, receive)
                name, endpoint = target
                try:
                    response = await self.server.predict(request, name, endpoint=endpoint)
                except ShipyardError as exc:
                    response = await shipyard_error(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def target(self, path: str) -> tuple[str, str] | None:
        """(model name, endpoint) of a predict path, None for any other path."""
        if path == "/invocations":
            return self.server.default_name, "invocations"
        match = _PREDICT_PATH.fullmatch(path)
        return None if match is None else (match.group(1), "predict")


_PREDICT_PATH = re.compile(r"/v1/models/([^/]+)/predict")


def _new_request_id() -> str:
    """32 random hex characters, like ``uuid4().hex`` at a third of the cost."""
    return os.urandom(16).hex()


def _incoming_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.fullmatch(text) else None
    return None


async def shipyard_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShipyardError)  # registered for ShipyardError only
    rid = request_id(request)
    if isinstance(exc, ModelError):
        log.error("request %s: %s", rid, exc, exc_info=exc.__cause__ or exc)
    elif exc.status >= 500:
        log.warning("request %s: %s: %s", rid, exc.code, exc)
    fields = [f.to_dict() for f in exc.fields] if isinstance(exc, SchemaMismatch) else None
    headers = {"Retry-After": "1"} if isinstance(exc, ModelNotReady) else None
    message = exc.message
    if exc.status >= 500:
        message = f"{message} (request id {rid})"
    return error_response(exc.status, exc.code, message, rid, fields=fields, headers=headers)


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # registered for HTTPException only
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    return error_response(
        exc.status_code, code, str(exc.detail), request_id(request), headers=exc.headers
    )
