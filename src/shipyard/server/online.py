"""``POST /api/v1/features/online`` answered straight from the ASGI scope.

A model server behind a feature service calls this once per prediction, so its cost is part of
every prediction's latency. Through FastAPI, routing, dependency solving, the thread-pool hop and
the middleware stack took about 3 ms of a 3.8 ms single-entity lookup whose store read takes
0.1-0.5 ms. :class:`OnlineLookupRoute` does the same work on the short way:

* the body is read under the server's JSON limit (413 past it) and validated by
  :class:`~shipyard.server.schemas.OnlineRequest` in one ``model_validate_json``;
* a lookup of up to :data:`INLINE_ENTITIES` entities runs on the event loop (it is shorter than
  the hop to a worker thread); a larger one runs in the thread pool, so it never stalls other
  requests for long;
* errors leave in the server's usual shape (:mod:`shipyard.server.errors`): a bad body is a 400
  naming the field (``body.entities: …``), a :class:`~shipyard.errors.ShipyardError` keeps its
  status and code, anything else is a logged 500;
* after the first lookup (which imported and opened the feature store) the server's
  long-lived objects are frozen out of the garbage collector's sight
  (:func:`~shipyard._util.settle_memory`), so a full collection does not stall lookups;
* the request is counted in the server's metrics under the route's template, and
  ``X-Shipyard-User`` is bound, exactly as on the app's own routes.

The FastAPI route stays registered: it documents the endpoint in OpenAPI.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pydantic
import pydantic_core
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from shipyard._util import request_user, settle_memory
from shipyard.client import Services
from shipyard.errors import InvalidArgument, ShipyardError
from shipyard.server.errors import error_response, format_validation_errors
from shipyard.server.identity import user_from_scope
from shipyard.server.limits import MAX_JSON_BYTES, too_large
from shipyard.server.metrics import ServerMetrics
from shipyard.server.schemas import OnlineRequest

log = logging.getLogger("shipyard.server")

PATH = "/api/v1/features/online"
INLINE_ENTITIES = 1000
"""Lookups of at most this many entities run on the event loop, larger ones in a thread."""


class _TooLarge(Exception):
    pass


class OnlineLookupRoute:
    """The online feature lookup as a bare ASGI handler over ``services``."""

    def __init__(self, services: Services, metrics: ServerMetrics, *, limit: int = MAX_JSON_BYTES):
        self.services = services
        self.metrics = metrics
        self.limit = limit
        self._settled = False

    @staticmethod
    def matches(scope: Scope) -> bool:
        """Whether ``scope`` is a request this handler answers."""
        return bool(scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == PATH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        token = request_user.set(user_from_scope(scope))
        try:
            response = await self._respond(scope, receive)
        finally:
            request_user.reset(token)
        await response(scope, receive, send)
        self.metrics.observe("POST", PATH, response.status_code, time.perf_counter() - start)

    async def _respond(self, scope: Scope, receive: Receive) -> Response:
        try:
            body = await self._body(scope, receive)
            request = OnlineRequest.model_validate_json(body)
            if len(request.entities) <= INLINE_ENTITIES:
                rows = online_rows(self.services, request)
            else:
                rows = await run_in_threadpool(online_rows, self.services, request)
            if not self._settled:  # the first lookup imported and opened the feature store
                self._settled = settle_memory(first=True)
            return Response(pydantic_core.to_json({"rows": rows}), media_type="application/json")
        except _TooLarge:
            return error_response(413, "PAYLOAD_TOO_LARGE", too_large(self.limit))
        except pydantic.ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            return error_response(400, InvalidArgument.code, format_validation_errors(errors))
        except ShipyardError as exc:
            if exc.status >= 500:
                log.warning("%s: %s", exc.code, exc)
            return error_response(exc.status, exc.code, str(exc))
        except Exception as exc:
            log.exception("POST %s failed", PATH)
            return error_response(
                500,
                "INTERNAL_ERROR",
                f"internal server error ({type(exc).__name__}); the server log has details",
            )

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                raise _TooLarge
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def online_rows(services: Services, request: OnlineRequest) -> list[dict[str, Any]]:
    """The rows of one lookup (the response's ``rows``): each entity's features, with each
    view's event time and status. Raises InvalidArgument unless exactly one of ``features`` and
    ``service`` is given."""
    from shipyard.features.fluent import feature_store_for

    if (request.features is None) == (request.service is None):
        raise InvalidArgument("give exactly one of features: [view:feature, ...] or service:")
    wanted = request.service if request.service is not None else request.features or []
    table = feature_store_for(services).get_online_features(
        request.entities, wanted, full_feature_names=request.full_feature_names, now=request.now
    )
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows
