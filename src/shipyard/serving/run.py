"""Run the model server with uvicorn: ``serve(["churn@champion"], host=…, port=…)``.

With one worker the app is built here and handed to uvicorn. With several, each worker process
builds its own app (and loads its own copy of the models) from ``SHIPYARD_SERVE_SPEC``, which
this module sets; ``python -m uvicorn shipyard.serving.run:app_factory --factory`` runs it the
same way given that variable.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shipyard.errors import ConfigError, InvalidArgument
from shipyard.serving.app import ServeOptions, create_app, plan_models

if TYPE_CHECKING:
    from fastapi import FastAPI

FACTORY = "shipyard.serving.run:app_factory"
SPEC_ENV = "SHIPYARD_SERVE_SPEC"


def app_factory() -> FastAPI:
    """The app described by ``$SHIPYARD_SERVE_SPEC`` (``{"refs": [...], "options": {...}}``)."""
    text = os.environ.get(SPEC_ENV)
    if not text:
        raise ConfigError(f"{SPEC_ENV} is not set; start the server with `shipyard serve REF …`")
    spec = json.loads(text)
    _show_model_logs()
    return create_app(spec["refs"], ServeOptions.from_json(json.dumps(spec["options"])))


def check_models(refs: Sequence[str], options: ServeOptions) -> list[tuple[str, int]]:
    """Each served source (canaries and shadows too) with the version it names now.

    Run before starting, so a typo fails at once instead of as a server that never gets ready.
    Package folders are not looked up (they need no registry). Raises InvalidArgument (bad
    reference or option) and NotFound (no such model, alias or version).
    """
    plan = plan_models(refs, options.check())
    found = []
    for model in plan.values():
        for source in model.sources:
            if source.path is not None and source.pinned is not None:
                found.append((source.ref, source.pinned))
                continue
            from shipyard.registry import fluent

            found.append((source.ref, fluent.get_model_version(source.ref).version))
    return found


def serve(
    refs: Sequence[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    options: ServeOptions | None = None,
    log_level: str = "warning",
) -> None:
    """Serve ``refs`` on ``host:port`` until interrupted (Ctrl-C stops it cleanly).

    Checks every reference first (see :func:`check_models`). Raises InvalidArgument for fewer
    than one worker or bad options, NotFound for a model that does not exist.
    """
    import uvicorn

    options = (options or ServeOptions()).check()
    if workers < 1:
        raise InvalidArgument(f"workers must be at least 1, got {workers}")
    check_models(refs, options)
    _show_model_logs()
    common = {"host": host, "port": port, "log_level": log_level, "access_log": False}
    if workers == 1:
        uvicorn.run(create_app(refs, options), **common)  # type: ignore[arg-type]
        return
    os.environ[SPEC_ENV] = json.dumps(
        {"refs": list(refs), "options": json.loads(options.to_json())}
    )
    uvicorn.run(FACTORY, factory=True, workers=workers, **common)  # type: ignore[arg-type]


def _show_model_logs() -> None:
    """Print model loads and promotions (``shipyard.serving`` at INFO) to stderr."""
    logger = logging.getLogger("shipyard.serving")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


__all__ = ["FACTORY", "SPEC_ENV", "app_factory", "check_models", "serve"]
