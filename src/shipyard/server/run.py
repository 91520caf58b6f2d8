"""Run the team server with uvicorn: ``serve(settings, host=…, port=…)``.

With one worker the app is built here and handed to uvicorn. With several, each worker process
builds its own from the environment (``app_factory``), so the settings are exported first.
``python -m uvicorn shipyard.server.run:app_factory --factory`` runs it the same way.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from shipyard.config import Settings, load_settings
from shipyard.server.app import check_server_settings, create_app

if TYPE_CHECKING:
    from fastapi import FastAPI

FACTORY = "shipyard.server.run:app_factory"


def app_factory() -> FastAPI:
    """The app over the settings in the environment and ``shipyard.yaml``."""
    return create_app(settings=load_settings())


def serve(
    settings: Settings, *, host: str = "127.0.0.1", port: int = 5000, workers: int = 1
) -> None:
    """Serve the API on ``host:port`` until interrupted (Ctrl-C stops it cleanly).

    Raises ConfigError when ``settings.tracking_uri`` names another server, and InvalidArgument
    for fewer than one worker.
    """
    import uvicorn

    from shipyard.errors import InvalidArgument

    check_server_settings(settings)
    if workers < 1:
        raise InvalidArgument(f"workers must be at least 1, got {workers}")
    if workers == 1:
        app = create_app(settings=settings)
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    os.environ.update(_settings_env(settings))
    uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers, log_level="warning")


def _settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that make ``load_settings()`` in a worker give ``settings``."""
    env = {
        "SHIPYARD_HOME": str(settings.home),
        "SHIPYARD_TRACKING_URI": settings.tracking_uri,
        "SHIPYARD_ARTIFACT_URI": settings.artifact_uri,
        "SHIPYARD_ONLINE_STORE_URI": settings.online_store_uri,
        "SHIPYARD_STALE_AFTER_S": str(settings.stale_after_s),
    }
    if settings.config_file is not None:
        env["SHIPYARD_CONFIG"] = str(settings.config_file)
    return env
