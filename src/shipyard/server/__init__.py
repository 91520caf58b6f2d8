"""The team server: one FastAPI app over the tracking, registry and artifact services.

``create_app(services=None, settings=None)`` builds the app (``shipyard.server.app``);
``serve(settings, host=…, port=…)`` runs it with uvicorn (``shipyard.server.run``). Both load
lazily so importing this package (as the HTTP client does for the shared schemas) stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.server.app import create_app
    from shipyard.server.run import serve

_WHERE = {"create_app": "shipyard.server.app", "serve": "shipyard.server.run"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["create_app", "serve"]
