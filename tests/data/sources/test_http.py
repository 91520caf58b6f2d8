"""HttpSource against a real uvicorn server on 127.0.0.1: pagination, retries, errors, secrets."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

import pyarrow as pa
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from shipyard.data.sources.http import HttpSource, _retry_after
from shipyard.errors import InvalidArgument, NotFound, StoreUnavailable
from shipyard.server.testing import serve_in_thread

TOTAL = 95
RECORDS = [{"id": i, "name": f"r{i}", "meta": {"even": i % 2 == 0}} for i in range(TOTAL)]
SECRET = "Bearer s3cret-token-xyz"
FAST: dict[str, Any] = {"retries": 2, "backoff_s": 0.01}  # keeps retry tests fast


# -- the test API ---------------------------------------------------------------------------


def _hit(request: Request) -> int:
    """Log the request and return how often this exact path+query was asked for."""
    key = f"{request.url.path}?{request.url.query}"
    request.app.state.log.append(key)
    counts: Counter[str] = request.app.state.counts
    counts[key] += 1
    return counts[key]


def _int(request: Request, name: str, default: int) -> int:
    return int(request.query_params.get(name, default))


async def by_page(request: Request) -> Response:
    _hit(request)
    size, page = _int(request, "page_size", 10), _int(request, "page", 1)
    return JSONResponse({"data": {"items": RECORDS[(page - 1) * size : page * size]}})


async def by_offset(request: Request) -> Response:
    _hit(request)
    offset, limit = _int(request, "offset", 0), _int(request, "limit", 10)
    return JSONResponse(RECORDS[offset : offset + limit])


async def by_cursor(request: Request) -> Response:
    _hit(request)
    start = _int(request, "after", 0)
    end = start + 10
    return JSONResponse(
        {"items": RECORDS[start:end], "meta": {"next": str(end) if end < TOTAL else None}}
    )


async def by_link(request: Request) -> Response:
    _hit(request)
    page = _int(request, "page", 1)
    headers = {}
    if page * 10 < TOTAL:  # relative link, as many APIs send
        headers["Link"] = f'</link?page={page + 1}>; rel="next", </link?page=1>; rel="first"'
    return JSONResponse(RECORDS[(page - 1) * 10 : page * 10], headers=headers)


async def ignores_page(request: Request) -> Response:
    _hit(request)
    return JSONResponse(RECORDS[:10])


async def same_cursor(request: Request) -> Response:
    _hit(request)
    return JSONResponse({"items": RECORDS[:10], "next": "again"})


async def flaky_429(request: Request) -> Response:
    if _hit(request) == 1:
        return PlainTextResponse("slow down", status_code=429, headers={"Retry-After": "1"})
    return JSONResponse(RECORDS)


async def flaky_503(request: Request) -> Response:
    if _hit(request) <= 2:
        return PlainTextResponse("busy", status_code=503)
    return JSONResponse(RECORDS)


async def always_500(request: Request) -> Response:
    _hit(request)
    return PlainTextResponse("boom", status_code=500)


async def html(request: Request) -> Response:
    return HTMLResponse("<html><body>Welcome to our web site</body></html>")


async def slow(request: Request) -> Response:
    _hit(request)
    await asyncio.sleep(1.0)
    return JSONResponse(RECORDS)


async def unprocessable(request: Request) -> Response:
    return PlainTextResponse("field 'since' is invalid" + "x" * 500, status_code=422)


async def needs_auth(request: Request) -> Response:
    got = request.headers.get("authorization", "")
    if got != SECRET:  # echoes what it got, as careless APIs do
        return PlainTextResponse(f"bad credentials: {got}", status_code=401)
    return JSONResponse({"data": RECORDS[:5]})


async def not_a_list(request: Request) -> Response:
    return JSONResponse({"data": {"items": {"a": 1}, "count": 1}})


async def uneven(request: Request) -> Response:
    return JSONResponse([{"id": 1}, {"id": 2, "extra": "x", "nested": {"a": [1, 2]}}])


async def mixed_types(request: Request) -> Response:
    return JSONResponse([{"id": 1}, {"id": "two"}])


async def empty(request: Request) -> Response:
    return JSONResponse({"items": []})


def create_test_api() -> Starlette:
    """The fake JSON API every test reads from."""
    routes = [
        Route(f"/{name}", endpoint)
        for name, endpoint in {
            "page": by_page,
            "offset": by_offset,
            "cursor": by_cursor,
            "link": by_link,
            "ignores-page": ignores_page,
            "same-cursor": same_cursor,
            "always-500": always_500,
            "html": html,
            "slow": slow,
            "unprocessable": unprocessable,
            "auth": needs_auth,
            "not-a-list": not_a_list,
            "uneven": uneven,
            "mixed-types": mixed_types,
            "empty": empty,
        }.items()
    ]
    routes += [Route("/flaky-429/{key}", flaky_429), Route("/flaky-503/{key}", flaky_503)]
    app = Starlette(routes=routes)
    app.state.log = []
    app.state.counts = Counter()
    return app


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[str, Starlette]]:
    app = create_test_api()
    with serve_in_thread(app) as url:
        yield url, app


@pytest.fixture
def url(api: tuple[str, Starlette]) -> str:
    return api[0]


def requests_to(api: tuple[str, Starlette], path: str) -> list[str]:
    return [key for key in api[1].state.log if key.startswith(f"{path}?")]


# -- pagination -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "settings", "expected_requests"),
    [
        ("/page", {"pagination": "page", "records": "data.items", "page_size": 10}, 11),
        (
            "/offset",
            {"pagination": "offset", "size_param": "limit", "page_size": 10},
            11,
        ),
        (
            "/cursor",
            {
                "pagination": "cursor",
                "records": "items",
                "cursor_param": "after",
                "cursor_path": "meta.next",
            },
            10,
        ),
        ("/link", {"pagination": "link"}, 10),
    ],
)
def test_each_pagination_style_reads_all_records_once(
    api: tuple[str, Starlette], path: str, settings: dict[str, Any], expected_requests: int
) -> None:
    source = HttpSource("things", api[0] + path, **settings)
    table = source.read().table
    assert table.num_rows == TOTAL
    assert table.column("id").to_pylist() == list(range(TOTAL))
    fetched = requests_to(api, path)
    assert len(fetched) == expected_requests
    assert len(set(fetched)) == len(fetched), f"a page was fetched twice: {fetched}"


def test_page_pagination_keeps_params_and_start_page(api: tuple[str, Starlette]) -> None:
    source = HttpSource(
        "things",
        api[0] + "/page",
        records="data.items",
        params={"status": "open"},
        pagination="page",
        page_size=30,
        start_page=2,
    )
    assert source.read().table.num_rows == TOTAL - 30
    queries = [parse_qs(key.partition("?")[2]) for key in requests_to(api, "/page")[-4:]]
    assert all(q["status"] == ["open"] and q["page_size"] == ["30"] for q in queries)
    assert [q["page"] for q in queries] == [["2"], ["3"], ["4"], ["5"]]  # 5 is empty: stop


def test_nested_objects_become_struct_columns_and_keys_are_unioned(url: str) -> None:
    table = HttpSource("t", url + "/uneven").read().table
    assert table.column_names == ["id", "extra", "nested"]
    assert table.column("extra").to_pylist() == [None, "x"]
    assert pa.types.is_struct(table.schema.field("nested").type)
    assert table.column("nested").to_pylist() == [None, {"a": [1, 2]}]
    meta = HttpSource("t", url + "/offset", pagination="none").read().table.schema
    assert meta.field("meta").type == pa.struct([("even", pa.bool_())])


def test_empty_response_gives_empty_table(url: str) -> None:
    result = HttpSource("t", url + "/empty", records="items").read()
    assert result.table.num_rows == 0
    assert result.watermark is None


def test_max_pages_guards_against_an_api_that_ignores_the_page_param(url: str) -> None:
    source = HttpSource("t", url + "/ignores-page", pagination="page", max_pages=3)
    with pytest.raises(InvalidArgument, match=r"max_pages=3.*raise max_pages"):
        source.read()


def test_a_repeated_cursor_stops_with_a_clear_error(api: tuple[str, Starlette]) -> None:
    source = HttpSource(
        "t", api[0] + "/same-cursor", pagination="cursor", records="items", cursor_path="next"
    )
    with pytest.raises(InvalidArgument, match="same cursor page twice"):
        source.read()
    assert len(requests_to(api, "/same-cursor")) == 2


# -- retries --------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(api: tuple[str, Starlette]) -> None:
    source = HttpSource("t", api[0] + "/flaky-429/a", **FAST)
    started = time.monotonic()
    assert source.read().table.num_rows == TOTAL
    assert time.monotonic() - started >= 0.95  # Retry-After: 1, not the 0.01 s backoff
    assert len(requests_to(api, "/flaky-429/a")) == 2


def test_503_twice_is_retried(api: tuple[str, Starlette]) -> None:
    source = HttpSource("t", api[0] + "/flaky-503/a", **FAST)
    assert source.read().table.num_rows == TOTAL
    assert len(requests_to(api, "/flaky-503/a")) == 3


def test_503_beyond_the_retry_budget_is_unavailable(api: tuple[str, Starlette]) -> None:
    source = HttpSource("t", api[0] + "/flaky-503/b", retries=1, backoff_s=0.01)
    with pytest.raises(StoreUnavailable, match="HTTP 503"):
        source.read()


def test_always_500_is_unavailable_and_hides_query_secrets(api: tuple[str, Starlette]) -> None:
    source = HttpSource("t", api[0] + "/always-500", params={"api_key": "k-12345"}, **FAST)
    with pytest.raises(StoreUnavailable) as caught:
        source.read()
    message = str(caught.value)
    assert "/always-500" in message and "HTTP 500" in message and "2 retries" in message
    assert "k-12345" not in message and "api_key=***" in message
    assert len(requests_to(api, "/always-500")) == 3


def test_slow_endpoint_times_out_then_is_unavailable(url: str) -> None:
    source = HttpSource("t", url + "/slow", timeout_s=0.2, retries=1, backoff_s=0.01)
    with pytest.raises(StoreUnavailable, match=r"ReadTimeout.*timeout_s=0.2"):
        source.read()


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the read: nobody listens
    source = HttpSource("t", f"http://127.0.0.1:{port}/x", retries=1, backoff_s=0.01)
    with pytest.raises(StoreUnavailable, match="ConnectError"):
        source.read()


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert _retry_after("3", 0.5) == 3.0
    assert _retry_after(None, 0.5) == 0.5
    assert _retry_after("soon", 0.5) == 0.5
    in_30s = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= _retry_after(in_30s, 0.5) <= 30
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 0.5) == 0.0
    assert _retry_after("99999", 0.5) == 300.0


# -- bad input ------------------------------------------------------------------------------


def test_404_is_not_found(url: str) -> None:
    with pytest.raises(NotFound, match=r"/nowhere returned 404.*check the url"):
        HttpSource("t", url + "/nowhere").read()


def test_other_4xx_names_status_and_body_start(url: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        HttpSource("t", url + "/unprocessable").read()
    message = str(caught.value)
    assert "HTTP 422" in message and "field 'since' is invalid" in message
    assert "x" * 200 not in message  # only the first 200 characters of the body


def test_html_is_not_json(url: str) -> None:
    with pytest.raises(InvalidArgument, match=r"returned text/html.*not JSON"):
        HttpSource("t", url + "/html").read()


def test_records_path_missing_names_the_keys(url: str) -> None:
    with pytest.raises(InvalidArgument, match=r"'data.rows' is missing.*'count', 'items'"):
        HttpSource("t", url + "/not-a-list", records="data.rows").read()


def test_records_path_not_a_list(url: str) -> None:
    with pytest.raises(InvalidArgument, match=r"'data.items' is a dict, not a list.*\['a'\]"):
        HttpSource("t", url + "/not-a-list", records="data.items").read()
    with pytest.raises(InvalidArgument, match=r"'\(the whole body\)' is a dict.*\['data'\]"):
        HttpSource("t", url + "/not-a-list").read()


def test_records_whose_types_clash_are_invalid(url: str) -> None:
    with pytest.raises(InvalidArgument, match="keep one type across records"):
        HttpSource("t", url + "/mixed-types").read()


@pytest.mark.parametrize(
    ("settings", "pattern"),
    [
        ({"pagination": "pages"}, r"unknown pagination 'pages'; use one of none, page, offset"),
        ({"page_size": 0}, "page_size must be at least 1"),
        ({"retries": -1}, "retries must be at least 0"),
        ({"timeout_s": 0}, "timeout_s must be > 0"),
        ({"headers": {"authorization": "Bearer x"}}, "set auth_env"),
        ({"page_size": "10"}, "page_size must be an integer, got '10'"),
        ({"timeout_s": "fast"}, "timeout_s must be a number"),
        ({"params": ["a=1"]}, "params must be a mapping"),
    ],
)
def test_bad_settings_fail_at_construction(settings: dict[str, Any], pattern: str) -> None:
    with pytest.raises(InvalidArgument, match=pattern):
        HttpSource("t", "http://127.0.0.1:1/x", **settings)


def test_url_must_be_http() -> None:
    with pytest.raises(InvalidArgument, match="must start with http"):
        HttpSource("t", "ftp://example.com/x")


def test_since_is_refused(url: str) -> None:
    with pytest.raises(InvalidArgument, match="not incremental"):
        HttpSource("t", url + "/empty", records="items").read(since=5)


# -- secrets --------------------------------------------------------------------------------


def test_auth_header_comes_from_the_environment(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_TEST_API_TOKEN", SECRET)
    source = HttpSource("t", url + "/auth", records="data", auth_env="SHIPYARD_TEST_API_TOKEN")
    assert source.read().table.num_rows == 5
    described = source.describe()
    assert described["auth_env"] == "SHIPYARD_TEST_API_TOKEN"
    for text in (repr(source), json.dumps(described)):
        assert "s3cret" not in text


def test_missing_auth_variable_is_named(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHIPYARD_TEST_API_TOKEN", raising=False)
    source = HttpSource("t", url + "/auth", records="data", auth_env="SHIPYARD_TEST_API_TOKEN")
    with pytest.raises(InvalidArgument, match="'SHIPYARD_TEST_API_TOKEN', which is not set"):
        source.read()


def test_rejected_token_is_not_echoed_in_errors(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_TEST_API_TOKEN", "Bearer wrong-token-abc")
    source = HttpSource("t", url + "/auth", records="data", auth_env="SHIPYARD_TEST_API_TOKEN")
    with pytest.raises(InvalidArgument) as caught:
        source.read()
    message = str(caught.value)
    assert "HTTP 401" in message and "check auth_env" in message
    assert "wrong-token-abc" not in message and "bad credentials" in message


def test_secret_never_in_unavailable_errors(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_TEST_API_TOKEN", SECRET)
    source = HttpSource("t", url + "/always-500", auth_env="SHIPYARD_TEST_API_TOKEN", retries=0)
    with pytest.raises(StoreUnavailable) as caught:
        source.read()
    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(caught.value)


def test_describe_is_json_safe_and_shows_the_pagination_settings() -> None:
    source = HttpSource(
        "orders",
        "https://user:pw@api.example.com/orders",
        records="data",
        params={"status": "open", "limit": 5},  # type: ignore[dict-item]
        pagination="cursor",
        cursor_path="meta.next",
        auth_env="ORDERS_TOKEN",
    )
    described = json.loads(json.dumps(source.describe()))
    assert described["type"] == "http" and source.kind == "http"
    assert described["url"] == "https://user:***@api.example.com/orders"
    assert described["params"] == {"status": "open", "limit": "5"}
    assert described["cursor_path"] == "meta.next" and "page_param" not in described
    assert described["auth_env"] == "ORDERS_TOKEN"
