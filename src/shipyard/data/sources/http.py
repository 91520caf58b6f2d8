"""Read records from an HTTP JSON API, following its pagination, into one Arrow table.

``HttpSource`` issues ``GET`` requests with one ``httpx.Client`` per read, pulls the list of
records out of each JSON body (``records`` is a dotted path such as ``data.items``; empty means
the body itself is the list) and pages with one of five styles:

- ``none``: one request.
- ``page``: ``?page=1&page_size=100``, then ``page=2`` …; stops at the first page with no records.
- ``offset``: ``?offset=0&page_size=100``, then ``offset`` += records received; stops likewise.
- ``cursor``: sends ``cursor_param`` with the value found at ``cursor_path`` in the previous body;
  stops when that value is null, empty or missing.
- ``link``: follows the ``Link: <…>; rel="next"`` response header until there is none.

Records become columns with ``pyarrow``: the columns are the union of the keys of every record
(in order of first appearance; a key missing from a record is null), nested objects become
``struct`` columns and JSON arrays become ``list`` columns.

429 and 5xx responses, connection errors and timeouts are retried ``retries`` times with
exponential backoff plus a little jitter, honouring ``Retry-After`` (seconds or an HTTP date,
capped at :data:`MAX_RETRY_AFTER_S`) on 429 and 503; then :class:`StoreUnavailable`. A 404 is
:class:`NotFound`; any other 4xx, a body that is not JSON, or a ``records`` path that is missing
or not a list is :class:`InvalidArgument`.

Secrets: the ``Authorization`` header value is read from the environment variable named by
``auth_env`` at each ``read``; only the variable's *name* is kept, so the value never appears in
``repr``, ``describe()``, errors or logs. Put tokens there, not in ``params`` or ``headers``.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from shipyard.data.sources.base import ReadResult
from shipyard.errors import InvalidArgument, NotFound, StoreUnavailable

if TYPE_CHECKING:
    import httpx
    import pyarrow as pa

__all__ = ["MAX_RETRY_AFTER_S", "PAGINATIONS", "HttpSource"]

PAGINATIONS = ("none", "page", "offset", "cursor", "link")
MAX_RETRY_AFTER_S = 300.0  # a Retry-After longer than this is shortened to it
BODY_PREVIEW_CHARS = 200
JITTER = 0.1  # up to 10% of the backoff delay is added at random

_log = logging.getLogger(__name__)

# (url, params) of the next request; params is None when the URL is complete (``link``).
_Request = tuple[str, dict[str, str] | None]


@dataclass(frozen=True)
class HttpSource:
    """A paginated HTTP JSON API read into one Arrow table (``type: http`` in ``shipyard.yaml``).

    Raises InvalidArgument at construction for an unknown ``pagination``, a non-http(s) URL,
    non-positive sizes or an ``Authorization`` entry in ``headers``.

    Example::

        source = HttpSource("orders", "https://api.example.com/orders", records="data",
                            pagination="cursor", cursor_path="meta.next", auth_env="ORDERS_TOKEN")
        table = source.read().table
    """

    name: str
    url: str
    records: str = ""
    params: Mapping[str, str] = field(default_factory=dict, hash=False)
    pagination: str = "none"
    page_param: str = "page"
    size_param: str = "page_size"
    page_size: int = 100
    start_page: int = 1
    offset_param: str = "offset"
    cursor_param: str = "cursor"
    cursor_path: str = "next_cursor"
    max_pages: int = 10_000
    auth_env: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)
    timeout_s: float = 30.0
    retries: int = 5
    backoff_s: float = 0.5
    kind: str = field(default="http", init=False)

    def __post_init__(self) -> None:
        self._check_types()
        object.__setattr__(self, "params", {str(k): str(v) for k, v in self.params.items()})
        object.__setattr__(self, "headers", {str(k): str(v) for k, v in self.headers.items()})
        self._check()

    def _check_types(self) -> None:
        where = f"http source {self.name!r}"
        for label in ("page_size", "start_page", "max_pages", "retries"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidArgument(f"{where}: {label} must be an integer, got {value!r}")
        for label in ("timeout_s", "backoff_s"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidArgument(f"{where}: {label} must be a number, got {value!r}")
        for label in ("params", "headers"):
            if not isinstance(getattr(self, label), Mapping):
                raise InvalidArgument(f"{where}: {label} must be a mapping of names to values")
        if not isinstance(self.url, str) or not isinstance(self.records, str):
            raise InvalidArgument(f"{where}: url and records must be strings")

    def _check(self) -> None:
        where = f"http source {self.name!r}"
        if self.pagination not in PAGINATIONS:
            raise InvalidArgument(
                f"{where}: unknown pagination {self.pagination!r}; "
                f"use one of {', '.join(PAGINATIONS)}"
            )
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise InvalidArgument(f"{where}: url {self.url!r} must start with http:// or https://")
        for label, value, low in (
            ("page_size", self.page_size, 1),
            ("max_pages", self.max_pages, 1),
            ("retries", self.retries, 0),
        ):
            if value < low:
                raise InvalidArgument(f"{where}: {label} must be at least {low}, got {value}")
        if self.timeout_s <= 0 or self.backoff_s < 0:
            raise InvalidArgument(
                f"{where}: timeout_s must be > 0 and backoff_s >= 0 "
                f"(got {self.timeout_s}, {self.backoff_s})"
            )
        if any(k.lower() == "authorization" for k in self.headers):
            raise InvalidArgument(
                f"{where}: do not put Authorization in headers; store the value in an "
                "environment variable and set auth_env to its name"
            )

    def describe(self) -> dict[str, Any]:
        """Return the JSON-safe settings (the auth variable's name, never its value)."""
        settings: dict[str, Any] = {
            "type": self.kind,
            "name": self.name,
            "url": _without_password(self.url),
            "records": self.records,
            "params": dict(self.params),
            "pagination": self.pagination,
        }
        settings.update(self._pagination_settings())
        settings.update(
            max_pages=self.max_pages,
            auth_env=self.auth_env,
            headers=dict(self.headers),
            timeout_s=self.timeout_s,
            retries=self.retries,
            backoff_s=self.backoff_s,
        )
        return settings

    def _pagination_settings(self) -> dict[str, Any]:
        sized: dict[str, Any] = {"size_param": self.size_param, "page_size": self.page_size}
        by_style: dict[str, dict[str, Any]] = {
            "none": {},
            "page": {"page_param": self.page_param, "start_page": self.start_page, **sized},
            "offset": {"offset_param": self.offset_param, **sized},
            "cursor": {"cursor_param": self.cursor_param, "cursor_path": self.cursor_path},
            "link": {},
        }
        return by_style[self.pagination]

    def read(self, *, since: Any = None) -> ReadResult:
        """Fetch every page and return its records as one table (``watermark`` is None).

        Raises InvalidArgument (bad settings, 4xx, non-JSON body, bad ``records`` path, missing
        ``auth_env`` variable, ``since`` given, more than ``max_pages`` pages), NotFound (404),
        StoreUnavailable (429/5xx/network errors after ``retries`` retries).
        """
        import httpx

        if since is not None:
            raise InvalidArgument(
                f"http source {self.name!r} is not incremental; call read() without since"
            )
        headers = {"Accept": "application/json", **self.headers, **self._auth_header()}
        records: list[Any] = []
        timeout = httpx.Timeout(self.timeout_s)
        with httpx.Client(headers=headers, timeout=timeout, follow_redirects=True) as client:
            for batch in self._pages(client):
                records.extend(batch)
        return ReadResult(table=self._to_table(records))

    def _auth_header(self) -> dict[str, str]:
        if self.auth_env is None:
            return {}
        value = os.environ.get(self.auth_env)
        if not value:
            raise InvalidArgument(
                f"http source {self.name!r}: auth_env names the environment variable "
                f"{self.auth_env!r}, which is not set; export it with the Authorization header "
                "value (e.g. 'Bearer <token>')"
            )
        return {"Authorization": value}

    # -- paging ---------------------------------------------------------------------------

    def _pages(self, client: httpx.Client) -> Iterator[list[Any]]:
        request: _Request | None = (self.url, self._first_params())
        seen: set[str] = set()
        fetched = 0
        while request is not None:
            self._check_not_seen(request, seen)
            if fetched == self.max_pages:
                raise InvalidArgument(
                    f"http source {self.name!r}: {_public_url(self.url)} still had more pages "
                    f"after max_pages={self.max_pages}; raise max_pages, or check that the API "
                    f"honours the {self.pagination} pagination settings"
                )
            response = self._get(client, *request)
            fetched += 1
            body = self._json(response)
            batch = self._records(body, response)
            yield batch
            request = self._next(request, response, body, batch)

    def _first_params(self) -> dict[str, str]:
        params = dict(self.params)
        if self.pagination in ("page", "offset") and self.size_param:
            params[self.size_param] = str(self.page_size)
        if self.pagination == "page":
            params[self.page_param] = str(self.start_page)
        elif self.pagination == "offset":
            params[self.offset_param] = "0"
        return params

    def _next(
        self, request: _Request, response: httpx.Response, body: Any, batch: list[Any]
    ) -> _Request | None:
        url, params = request
        style = self.pagination
        if style == "none" or (style in ("page", "offset") and not batch):
            return None
        params = params or {}
        if style == "page":
            return url, {**params, self.page_param: str(int(params[self.page_param]) + 1)}
        if style == "offset":
            offset = int(params[self.offset_param]) + len(batch)
            return url, {**params, self.offset_param: str(offset)}
        if style == "cursor":
            cursor = _lookup(body, self.cursor_path)
            if cursor is None or cursor == "":
                return None
            return url, {**params, self.cursor_param: str(cursor)}
        link = response.links.get("next", {}).get("url")
        return (str(response.url.join(link)), None) if link else None

    def _check_not_seen(self, request: _Request, seen: set[str]) -> None:
        import httpx

        url, params = request
        key = str(httpx.URL(url).copy_merge_params(params or {}))
        if key in seen:
            raise InvalidArgument(
                f"http source {self.name!r}: {_public_url(self.url)} pointed to the same "
                f"{self.pagination} page twice; check cursor_path/cursor_param or the API's "
                "Link header"
            )
        seen.add(key)

    # -- one request, with retries --------------------------------------------------------

    def _get(self, client: httpx.Client, url: str, params: dict[str, str] | None) -> httpx.Response:
        import httpx

        target = httpx.URL(url).copy_merge_params(params or {})
        last = ""
        for attempt in range(self.retries + 1):
            delay = self._backoff(attempt)
            try:
                response = client.get(target)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                last = f"{type(exc).__name__} (timeout_s={self.timeout_s})"
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return self._check_status(response)
                last = f"HTTP {response.status_code}"
                if response.status_code in (429, 503):
                    delay = _retry_after(response.headers.get("Retry-After"), delay)
            if attempt < self.retries:
                _log.info("retrying %s in %.2fs after %s", self._public(target), delay, last)
                time.sleep(delay)
        raise StoreUnavailable(
            f"http source {self.name!r}: {self._public(target)} failed after {self.retries} "
            f"retries; last error: {last}. Check that the API is up, or raise retries/timeout_s"
        )

    def _backoff(self, attempt: int) -> float:
        delay = self.backoff_s * 2.0**attempt
        return delay + random.uniform(0, JITTER * delay)

    def _check_status(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status < 300:
            return response
        where = f"http source {self.name!r}: {self._public(response.url)}"
        if status == 404:
            raise NotFound(f"{where} returned 404 Not Found; check the url and params")
        hint = " (check auth_env and the token's permissions)" if status in (401, 403) else ""
        raise InvalidArgument(
            f"{where} returned HTTP {status}{hint}: {self._preview(response.text)}"
        )

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            ctype = response.headers.get("Content-Type", "no Content-Type")
            raise InvalidArgument(
                f"http source {self.name!r}: {self._public(response.url)} returned {ctype}, not "
                f"JSON; point url at the JSON API endpoint: {self._preview(response.text)}"
            ) from None

    def _records(self, body: Any, response: httpx.Response) -> list[Any]:
        found = _lookup(body, self.records) if self.records else body
        if isinstance(found, list):
            return found
        path = self.records or "(the whole body)"
        what = "missing" if found is None else f"a {type(found).__name__}, not a list"
        raise InvalidArgument(
            f"http source {self.name!r}: records path {path!r} is {what} in the response of "
            f"{self._public(response.url)}; {_keys_hint(body, self.records)}"
        )

    def _to_table(self, records: list[Any]) -> pa.Table:
        import pyarrow as pa

        if not records:
            return pa.table({})
        try:
            return pa.Table.from_struct_array(pa.array(records))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise InvalidArgument(
                f"http source {self.name!r}: the records at {self.records or '(the body)'!r} "
                f"of {_public_url(self.url)} do not form a table ({exc}); each record must be "
                "a JSON object whose fields keep one type across records"
            ) from None

    # -- keeping secrets out of messages --------------------------------------------------

    def _public(self, url: httpx.URL | str) -> str:
        return _public_url(str(url), keep=self._plain_params())

    def _plain_params(self) -> frozenset[str]:
        return frozenset({self.page_param, self.size_param, self.offset_param})

    def _preview(self, text: str) -> str:
        secret = os.environ.get(self.auth_env) if self.auth_env else None
        if secret:
            text = text.replace(secret, "***")
            token = secret.split()[-1]
            text = text.replace(token, "***") if len(token) >= 4 else text
        return text[:BODY_PREVIEW_CHARS]


def _lookup(body: Any, path: str) -> Any:
    """Return the value at a dotted path in nested dicts, or None if a step is missing."""
    node = body
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _keys_hint(body: Any, path: str) -> str:
    """Say which keys exist where the dotted path stops matching."""
    node: Any = body
    walked: list[str] = []
    for part in path.split(".") if path else []:
        if not isinstance(node, dict) or part not in node:
            break
        node = node[part]
        walked.append(part)
    where = ".".join(walked) or "the top level"
    if isinstance(node, dict):
        return f"keys at {where}: {sorted(node)[:30]}; set records to the path of the list"
    return f"the value at {where} is a {type(node).__name__}; set records to the path of the list"


def _retry_after(header: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or HTTP date), else ``default``."""
    if not header:
        return default
    try:
        seconds = float(header)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return default
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _public_url(url: str, *, keep: frozenset[str] = frozenset()) -> str:
    """The URL without a password and with query values masked (except those in ``keep``)."""
    parts = urlsplit(_without_password(url))
    query = "&".join(
        f"{k}={v if k in keep else '***'}" if sep else k
        for k, sep, v in (item.partition("=") for item in parts.query.split("&") if item)
    )
    return urlunsplit(parts._replace(query=query))


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
