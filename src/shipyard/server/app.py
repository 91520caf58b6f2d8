"""The team server's app factory: one FastAPI app mounting one router per resource.

Example::

    from shipyard.config import load_settings
    app = create_app(settings=load_settings())
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from shipyard.client import Services, connect_local
from shipyard.config import Settings, load_settings
from shipyard.errors import ConfigError
from shipyard.server import metrics
from shipyard.server.errors import install_error_handlers
from shipyard.server.identity import UserMiddleware
from shipyard.server.limits import MAX_JSON_BYTES, BodyLimitMiddleware
from shipyard.server.online import OnlineLookupRoute
from shipyard.server.routers import (
    artifacts,
    cards,
    datasets,
    deployments,
    drift,
    experiments,
    features,
    gates,
    health,
    models,
    monitoring,
    pipelines,
    runs,
    triggers,
)
from shipyard.server.schemas import ErrorOut

API_VERSION = "v1"


def create_app(services: Services | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the server app over ``services`` (default: a local store from ``settings``).

    Services the app builds itself are closed when it shuts down. Raises ConfigError when the
    server's own tracking URI names another server (``http://…``).
    """
    owned = services is None
    if services is None:
        services = connect_local(check_server_settings(settings or load_settings()))
    app = TeamServerApp(
        title="Shipyard",
        summary="Experiments, runs, artifacts, models, datasets and features of a Shipyard team.",
        version=API_VERSION,
        lifespan=_lifespan,
        responses={
            400: {"model": ErrorOut},
            404: {"model": ErrorOut},
            409: {"model": ErrorOut},
        },
    )
    app.state.services = services
    app.state.owns_services = owned
    app.state.metrics = metrics.ServerMetrics()
    app.online_lookup = OnlineLookupRoute(services, app.state.metrics)
    # routes match in order: the features (a model server calls them) and the probes first
    routers = (
        features,
        health,
        experiments,
        runs,
        artifacts,
        models,
        datasets,
        deployments,
        monitoring,
        drift,
        pipelines,
        gates,
        triggers,
        cards,
    )
    for module in (*routers, metrics):
        app.include_router(module.router)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=MAX_JSON_BYTES)
    app.add_middleware(metrics.MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(UserMiddleware)
    return app


class TeamServerApp(FastAPI):
    """FastAPI whose online feature lookup (a model server's per-prediction call) takes the
    short way, :class:`~shipyard.server.online.OnlineLookupRoute`, past the middleware stack
    and routing; every other request goes through FastAPI."""

    online_lookup: OnlineLookupRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.online_lookup
        if route is not None and route.matches(scope):
            await route(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    from shipyard.features.fluent import close_feature_store

    close_feature_store(app.state.services)
    if app.state.owns_services:
        app.state.services.close()


def check_server_settings(settings: Settings) -> Settings:
    """Return ``settings`` if a server can run on them. Raises ConfigError otherwise."""
    if settings.is_remote:
        raise ConfigError(
            f"the server's own tracking URI is {settings.tracking_uri}, another server; a "
            "server stores metadata in a database: set SHIPYARD_TRACKING_URI to "
            "sqlite:///path/to/shipyard.db or postgresql+psycopg://user@host/db"
        )
    return settings
