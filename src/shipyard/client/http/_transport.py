"""The HTTP transport shared by the clients: one keep-alive httpx.Client, retries, errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from shipyard._util import current_user
from shipyard.errors import (
    InvalidArgument,
    NotFound,
    ShipyardError,
    StoreUnavailable,
    from_wire,
)
from shipyard.server import schemas as sc

API = "/api/v1"
CHUNK_SIZE = 1 << 20
RETRIES = 2
BACKOFF_S = 0.25
RETRY_STATUSES = frozenset({502, 503, 504})
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)

_M = TypeVar("_M", bound=BaseModel)
Content = bytes | Iterable[bytes]


# --- transport ----------------------------------------------------------------------------------


class HttpTransport:
    """One keep-alive ``httpx.Client`` to a server, with retries and error mapping.

    Shared by the three services; thread-safe (httpx pools connections).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int = RETRIES,
        backoff_s: float = BACKOFF_S,
    ) -> None:
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        headers = {"User-Agent": "shipyard-client", sc.USER_HEADER: current_user()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = False,
    ) -> Any:
        """Send a JSON request; returns the decoded JSON answer (None for 204).

        Raises the server's error class, StoreUnavailable, or InvalidArgument for a body that
        is not plain JSON data.
        """
        content = None if body is None else _encode_json(body)
        headers = {"Content-Type": "application/json"} if content is not None else None
        with self.stream(
            method, path, content=content, headers=headers, params=params, idempotent=idempotent
        ) as response:
            response.read()
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        content: Content | Callable[[], Content] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = False,
    ) -> Iterator[httpx.Response]:
        """Send a request and yield the successful response with its body still unread.

        ``content`` may be a function returning a fresh body, so a streamed upload can be
        retried. Retries connection failures always (nothing was sent) and 502/503/504 and
        broken connections only when ``idempotent``.
        """
        clean = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        response = self._send(method, path, content, headers, clean, idempotent=idempotent)
        try:
            if response.status_code >= 400:
                response.read()
                raise _error_from(response)
            yield response
        except httpx.TransportError as exc:
            raise self._broken(method, path, exc) from exc
        finally:
            response.close()

    def _send(
        self,
        method: str,
        path: str,
        content: Content | Callable[[], Content] | None,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str],
        *,
        idempotent: bool,
    ) -> httpx.Response:
        """The response (body unread) after at most ``retries`` retries with backoff."""
        for attempt in range(self.retries + 1):
            can_retry = attempt < self.retries and _replayable(content)
            body = content() if callable(content) else content
            request = self._client.build_request(
                method, path, content=body, headers=headers, params=params
            )
            try:
                response = self._client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing was sent
                if not can_retry:
                    raise self._unreachable(exc) from exc
            except httpx.TransportError as exc:
                if not (can_retry and idempotent):
                    raise self._broken(method, path, exc) from exc
            else:
                if not (can_retry and idempotent and response.status_code in RETRY_STATUSES):
                    return response
                response.close()
            time.sleep(self.backoff_s * (2**attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _unreachable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(
            f"cannot reach the Shipyard server at {self.url} ({exc}). Is it running? Start one "
            "with `shipyard server`, or point SHIPYARD_TRACKING_URI at the right address"
        )

    def _broken(self, method: str, path: str, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(
            f"{method} {self.url}{path} failed: the connection broke ({type(exc).__name__}: "
            f"{exc}); try again"
        )


def _replayable(content: object) -> bool:
    """A body that can be sent again: none, bytes, or a function making a fresh one."""
    return content is None or isinstance(content, bytes) or callable(content)


def _query_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _encode_json(body: Any) -> bytes:
    try:
        return json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"cannot send this to the server, it is not plain JSON data: {exc}"
        ) from exc


def _error_from(response: httpx.Response) -> ShipyardError:
    """The exception an error response stands for, of the class the server raised."""
    try:
        detail = response.json()["error"]
        code, message = str(detail["code"]), str(detail["message"])
    except (ValueError, KeyError, TypeError):
        text = response.text.strip()[:300] or response.reason_phrase
        message = f"server answered {response.status_code} {response.reason_phrase}: {text}"
        if response.status_code in RETRY_STATUSES:
            return StoreUnavailable(message)
        return ShipyardError(message)
    err = from_wire(code, message)
    if type(err) is ShipyardError and 400 <= response.status_code < 500:
        return InvalidArgument(message)  # a 4xx the client does not know (e.g. too large)
    return err


def parse(model: type[_M], data: Any) -> _M:
    return model.model_validate(data)


# --- tracking -----------------------------------------------------------------------------------


def segment(value: object) -> str:
    """One URL path segment; ``.``/``..`` are escaped so no client or proxy collapses them."""
    text = quote(str(value), safe="")
    if not text:
        raise NotFound("an empty name or id names nothing; give a non-empty one")
    return {".": "%2E", "..": "%2E%2E"}.get(text, text)


def check_keys(values: Mapping[Any, Any], what: str) -> None:
    """JSON would turn a non-text key into text; refuse it as the service does."""
    from shipyard._util import check_key

    for key in values:
        if not isinstance(key, str):
            check_key(key, what)
