"""The HTTP client against a real server: errors, floats, batching, integrity, retries."""

from __future__ import annotations

import json
import math
import re
import socket
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from shipyard.artifacts.owners import run_owner
from shipyard.client.http import HttpTransport, connect_http
from shipyard.errors import (
    AlreadyExists,
    Conflict,
    FilterSyntaxError,
    IntegrityError,
    InvalidArgument,
    NotFound,
    ShipyardError,
    StoreUnavailable,
)
from shipyard.server.schemas import MAX_BATCH_METRICS
from shipyard.server.testing import serve_in_thread
from shipyard.tracking.entities import Metric
from tests.client.conftest import Remote, store_settings

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _new_run(remote: Remote) -> str:
    t = remote.services.tracking
    return t.create_run(t.create_experiment("e").experiment_id).run_id


def test_connection_refused_is_store_unavailable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    services = connect_http(store_settings(tmp_path, tracking_uri=url))
    start = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        services.tracking.list_experiments()
    assert url in str(caught.value) and "shipyard server" in str(caught.value)
    assert isinstance(caught.value, ConnectionError)
    assert time.monotonic() - start < 5  # a couple of quick retries, not a hang
    services.close()


def test_errors_keep_their_class_over_the_wire(remote: Remote) -> None:
    t, r = remote.services.tracking, remote.services.registry
    run_id = _new_run(remote)
    with pytest.raises(NotFound, match="no run"):
        t.get_run("0" * 32)
    with pytest.raises(LookupError):
        r.get_model("nope")
    with pytest.raises(AlreadyExists):
        t.create_experiment("e")
    t.log_batch(run_id, params={"lr": "0.1"})
    with pytest.raises(Conflict, match="'lr'"):
        t.log_batch(run_id, params={"lr": "0.2"})
    with pytest.raises(InvalidArgument):
        t.log_batch(run_id, params={"bad key!": "x"})
    with pytest.raises(FilterSyntaxError) as caught:
        t.search_runs([1], filter="params.lr = ")
    assert "position" in str(caught.value) and "^" in str(caught.value)
    with pytest.raises(InvalidArgument):  # a non-text key is refused, not silently converted
        t.log_batch(run_id, params={1: "x"})  # type: ignore[dict-item]


def test_non_finite_metrics_round_trip(remote: Remote) -> None:
    t = remote.services.tracking
    run_id = _new_run(remote)
    values = [math.nan, math.inf, -math.inf, 0.25]
    t.log_batch(run_id, metrics=[Metric("x", v, i, 1000 + i) for i, v in enumerate(values)])
    history = t.get_metric_history(run_id, "x")
    assert [m.step for m in history] == [0, 1, 2, 3]
    assert math.isnan(history[0].value)
    assert [m.value for m in history[1:]] == [math.inf, -math.inf, 0.25]
    t.log_batch(run_id, metrics=[Metric("y", -math.inf, 5)])
    assert t.get_run(run_id).metrics["y"] == -math.inf
    with pytest.raises(InvalidArgument, match="finite"):
        remote.services.registry.create_version(
            "m", run_id=run_id, artifact_path="p", flavor="f", metrics={"auc": math.nan}
        )


def test_large_metric_batches_are_split(remote: Remote) -> None:
    t = remote.services.tracking
    run_id = _new_run(remote)
    n = 2 * MAX_BATCH_METRICS + 1
    t.log_batch(
        run_id, metrics=[Metric("loss", 1.0 / (i + 1), i, 1) for i in range(n)], params={"p": "1"}
    )
    history = t.get_metric_history(run_id, "loss")
    assert len(history) == n and [m.step for m in history] == list(range(n))
    assert t.get_run(run_id).params == {"p": "1"}
    text = httpx.get(f"{remote.url}/metrics").text
    sent = re.search(
        r'shipyard_http_requests_total\{method="POST",'
        r'route="/api/v1/runs/\{run_id\}/log-batch",status="204"\} (\S+)',
        text,
    )
    assert sent is not None and float(sent.group(1)) == 3


def test_corrupted_artifact_is_an_integrity_error(remote: Remote, tmp_path: Path) -> None:
    run_id = _new_run(remote)
    src = tmp_path / "weights.bin"
    src.write_bytes(b"w" * 100_000)
    [info] = remote.services.artifacts.upload(run_owner(run_id), src, "model")
    blob = Path(
        remote.backing.settings.artifact_uri.removeprefix("file://"),
        "sha256",
        str(info.sha256)[:2],
        str(info.sha256),
    )
    blob.write_bytes(b"x" + blob.read_bytes()[1:])

    out = tmp_path / "out"
    with pytest.raises(IntegrityError, match="corrupted"):
        remote.services.artifacts.download(run_owner(run_id), "model", out)
    assert not any(p.is_file() for p in out.rglob("*"))  # nor the file, nor a .part
    chunks = remote.services.artifacts.open(run_owner(run_id), "model/weights.bin")
    with pytest.raises(IntegrityError):
        b"".join(chunks)


def test_folder_upload_download_and_path_errors(remote: Remote, tmp_path: Path) -> None:
    a = remote.services.artifacts
    owner = run_owner(_new_run(remote))
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.txt").write_text("a")
    (pkg / "sub" / "b.txt").write_text("b")
    stored = a.upload(owner, pkg, "model")
    assert [i.path for i in stored] == ["model/a.txt", "model/sub/b.txt"]
    got = a.download(owner, "model/sub", tmp_path / "out")
    assert got == tmp_path / "out" / "model" / "sub" and (got / "b.txt").read_text() == "b"
    with pytest.raises(NotFound):
        a.open(owner, "model/missing.txt")
    with pytest.raises(InvalidArgument, match=r"\.\."):
        a.upload(owner, pkg / "a.txt", "../escape")
    with pytest.raises(InvalidArgument, match="no such file"):
        a.upload(owner, tmp_path / "missing", "")
    with pytest.raises(InvalidArgument, match="owner"):
        a.list("somewhere-else")


def test_server_side_database_outage_is_store_unavailable(tmp_path: Path) -> None:
    from shipyard.client import connect_local
    from shipyard.server.app import create_app

    dead = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/gone"
    backing = connect_local(store_settings(tmp_path / "s", tracking_uri=dead))
    with serve_in_thread(create_app(services=backing)) as url:
        services = connect_http(store_settings(tmp_path / "c", tracking_uri=url))
        with pytest.raises(StoreUnavailable, match="gone"):
            services.tracking.list_experiments()
        services.close()


class _Flaky:
    """A tiny real ASGI app: answers 503 to the first ``failures`` requests, then 200."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.seen: list[tuple[str, dict[str, str]]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.seen.append((scope["method"], headers))
        failing = len(self.seen) <= self.failures
        body = json.dumps(
            {"error": {"code": "UNAVAILABLE", "message": "busy"}}
            if failing
            else {"experiments": []}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503 if failing else 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def test_idempotent_calls_are_retried_and_carry_the_token(tmp_path: Path) -> None:
    app = _Flaky(failures=2)
    with serve_in_thread(app) as url:
        settings = store_settings(tmp_path, tracking_uri=url, token="s3cret")
        services = connect_http(settings)
        assert services.tracking.list_experiments() == []
        assert [m for m, _ in app.seen] == ["GET"] * 3
        assert app.seen[-1][1]["authorization"] == "Bearer s3cret"
        app.seen.clear()
        with pytest.raises(StoreUnavailable, match="busy"):
            services.tracking.create_experiment("x")  # not idempotent: sent once
        assert [m for m, _ in app.seen] == ["POST"]
        services.close()


def test_unknown_error_codes_keep_a_sensible_class(tmp_path: Path) -> None:
    class Teapot:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            await send({"type": "http.response.start", "status": 418, "headers": []})
            await send({"type": "http.response.body", "body": b"<html>teapot</html>"})

    with serve_in_thread(Teapot()) as url:
        transport = HttpTransport(url, retries=0)
        with pytest.raises(ShipyardError, match=r"418.*teapot"):
            transport.call("GET", "/anything")
        transport.close()
