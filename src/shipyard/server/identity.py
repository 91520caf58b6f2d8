"""Who a request acts for: the ``X-Shipyard-User`` header, until auth tokens name the user.

Set for the whole request (handlers and the worker threads they use), so runs, model versions
and alias moves made through the server record the client's user, not the server's.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from shipyard._util import request_user
from shipyard.server.schemas import USER_HEADER

_HEADER = USER_HEADER.lower().encode()
MAX_USER = 250


def user_from_scope(scope: Scope) -> str | None:
    """The user a request names in ``X-Shipyard-User`` (None without one)."""
    for name, raw in scope["headers"]:
        if name == _HEADER:
            return raw.decode("utf-8", "replace").strip()[:MAX_USER] or None
    return None


class UserMiddleware:
    """Pure ASGI middleware: binds ``request_user`` for the duration of each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = request_user.set(user_from_scope(scope))
        try:
            await self.app(scope, receive, send)
        finally:
            request_user.reset(token)
