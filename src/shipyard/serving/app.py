"""The model server's app factory: ``create_app(["churn@champion"], ServeOptions(...))``.

Routes (see ``docs/serving.md``):

==================================== ==========================================================
``POST /v1/models/{name}/predict``   predictions, class probabilities, version and an id a row
``POST /invocations``                MLflow's scoring protocol, for the *first* served model
``GET /v1/models``                   every served reference: version, alias, status, signature
``GET /health/live``                 the process answers
``GET /health/ready``                200 once every model is loaded (503 before)
``GET /metrics``                     Prometheus text format (:mod:`.metrics`)
``GET /docs``, ``/openapi.json``     OpenAPI, with each model's columns as its request schema
==================================== ==========================================================

Every error is ``{"error": {"code", "message", "request_id"}}`` (a 422 adds ``fields``, one
entry per bad field) and every response carries ``X-Request-ID`` (the caller's, or a new one).
The request path stays lean: the body is read with a size cap, parsed with the standard ``json``
module, checked column by column (:mod:`.requests`) and queued for the next batched model call
(:mod:`.batching`); responses are serialised once, straight to bytes.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from shipyard.errors import ShipyardError
from shipyard.serving.http import (
    PredictRoutes,
    RequestIdMiddleware,
    error_response,
    http_error,
    json_bytes,
    request_id,
    shipyard_error,
)
from shipyard.serving.metrics import CONTENT_TYPE
from shipyard.serving.openapi import Error, InvocationsResponse, PredictResponse, document
from shipyard.serving.plan import ServedModel, ServeOptions, plan_models
from shipyard.serving.server import ModelServer

API_VERSION = "v1"


# --------------------------------------------------------------------------- routes

router = APIRouter()


def _server(request: Request) -> ModelServer:
    server: ModelServer = request.app.state.server
    return server


@router.post("/v1/models/{name}/predict", include_in_schema=False)
async def predict(name: str, request: Request) -> Response:
    """Predict with model ``name`` (documented per model in the OpenAPI document)."""
    return await _server(request).predict(request, name, endpoint="predict")


@router.post("/invocations", include_in_schema=False)
async def invocations(request: Request) -> Response:
    """MLflow's scoring endpoint, answered by the first served model."""
    server = _server(request)
    return await server.predict(request, server.default_name, endpoint="invocations")


@router.get("/v1/models", tags=["models"])
async def list_models(request: Request) -> dict[str, Any]:
    """Every served reference: name, version, alias, role, status, signature and last error."""
    return {"models": _server(request).describe()}


@router.get("/health/live", tags=["health"])
async def live() -> dict[str, str]:
    """200 while the process answers."""
    return {"status": "alive"}


@router.get("/health/ready", tags=["health"])
async def ready(request: Request) -> Response:
    """200 once every model is loaded; 503 with each model's status before that."""
    server = _server(request)
    models = {ref: slot.status for ref, slot in server.pool.slots.items()}
    ok = server.pool.ready
    body = {"status": "ready" if ok else "loading", "models": models}
    return Response(json_bytes(body), status_code=200 if ok else 503, media_type="application/json")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this server."""
    return Response(_server(request).metrics.render(), media_type=CONTENT_TYPE)


# --------------------------------------------------------------------------- the app


class ModelServerApp(FastAPI):
    """FastAPI whose OpenAPI document describes each served model's own request schema, and
    whose predict requests take the short way (:class:`PredictRoutes`)."""

    fast_path: PredictRoutes | None = None
    _fast_app: ASGIApp | None = None

    def use_fast_path(self, server: ModelServer) -> None:
        """Answer predict requests with :class:`PredictRoutes` (inside the request-id layer)."""
        self.fast_path = PredictRoutes(super().__call__, server)
        self._fast_app = RequestIdMiddleware(self.fast_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast, routes = self._fast_app, self.fast_path
        if (
            fast is not None
            and routes is not None
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and routes.target(scope["path"]) is not None
        ):
            scope["app"] = self
            await fast(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        base = super().openapi()
        server: ModelServer = self.state.server
        key = tuple(
            (ref, slot.current.version if slot.current else None)
            for ref, slot in server.pool.slots.items()
        )
        cached = getattr(self.state, "openapi_cache", None)
        if cached is not None and cached[0] == key:
            return dict(cached[1])
        doc = copy.deepcopy(base)
        document(doc, server)
        self.state.openapi_cache = (key, doc)
        return doc


# --------------------------------------------------------------------------- the factory


def create_app(refs: Sequence[str], options: ServeOptions | None = None) -> FastAPI:
    """The model server app for ``refs`` (``churn@champion``, ``fraud/3`` …).

    Nothing is loaded here: models load in the background once the app starts (its lifespan),
    and ``/health/ready`` turns 200 when all are loaded. Raises InvalidArgument for bad
    references or options (canary of a model not served, a model named twice, …).
    """
    server = ModelServer(refs, options or ServeOptions())
    app = ModelServerApp(
        title="Shipyard model server",
        summary=f"Predictions from {', '.join(m.primary for m in server.models.values())}.",
        version=API_VERSION,
        lifespan=_lifespan,
    )
    app.state.server = server
    app.include_router(router)
    app.add_exception_handler(ShipyardError, shipyard_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_middleware(RequestIdMiddleware)
    app.use_fast_path(server)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    server: ModelServer = app.state.server
    server.start(asyncio.get_running_loop())
    try:
        yield
    finally:
        await server.stop()


__all__ = [
    "API_VERSION",
    "Error",
    "InvocationsResponse",
    "ModelServer",
    "ModelServerApp",
    "PredictResponse",
    "PredictRoutes",
    "RequestIdMiddleware",
    "ServeOptions",
    "ServedModel",
    "create_app",
    "error_response",
    "plan_models",
    "request_id",
]
