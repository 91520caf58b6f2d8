"""The latency check: the candidate served by the real model server (``shipyard.serving``) on a
real uvicorn on 127.0.0.1, hit with a short load test; p99 compared with the budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.errors import ShipyardError
from shipyard.pipelines.gates.entities import Check, LatencyBudget

if TYPE_CHECKING:
    import pandas as pd

READY_TIMEOUT_S = 120.0


class ModelServerFailed(ShipyardError, RuntimeError):
    """The model server for a latency test did not start or did not get ready."""

    status = 502
    code = "MODEL_SERVER_FAILED"


def latency_check(ref: str, X: pd.DataFrame, budget: LatencyBudget) -> Check:
    """Serve ``ref``, send ``budget.requests`` requests built from rows of ``X``, time each.

    The server runs in this process (its own thread and event loop) with micro-batching on and
    the prediction log off; requests go through a real socket. Raises ModelServerFailed when the
    server does not get ready.
    """
    import httpx

    from shipyard.serving.app import ServeOptions, create_app

    bodies = _bodies(X, budget)
    app = create_app([ref], ServeOptions(log_predictions=False))
    with _serving(app) as url, httpx.Client(base_url=url, timeout=30.0) as client:
        _wait_ready(client, ref)
        path = f"/v1/models/{ref.split('@')[0].split('/')[0]}/predict"
        headers = {"Content-Type": "application/json"}
        for body in bodies[: min(10, len(bodies))]:  # warm-up, not measured
            client.post(path, content=body, headers=headers)
        started = time.perf_counter()
        with ThreadPoolExecutor(budget.concurrency) as pool:
            timed = list(pool.map(lambda b: _timed_post(client, path, b, headers), bodies))
        wall = time.perf_counter() - started
    seconds = np.array([t for t, _ in timed])
    errors = int(sum(1 for _, ok in timed if not ok))
    p50, p99 = (float(v) * 1000.0 for v in np.percentile(seconds, [50, 99]))
    passed = p99 <= budget.p99_ms and errors == 0
    message = (
        f"p99 {p99:.1f} ms (budget {budget.p99_ms:g} ms), p50 {p50:.1f} ms, "
        f"{len(bodies)} requests x {budget.rows} row(s), {budget.concurrency} at a time"
        + (f", {errors} failed" if errors else "")
    )
    return Check(
        name="latency",
        kind="latency",
        passed=passed,
        message=message,
        figures={
            "p50_ms": round(p50, 3),
            "p99_ms": round(p99, 3),
            "max_ms": round(float(seconds.max()) * 1000.0, 3),
            "budget_p99_ms": budget.p99_ms,
            "requests": len(bodies),
            "errors": errors,
            "concurrency": budget.concurrency,
            "rows_per_request": budget.rows,
            "throughput_rps": round(len(bodies) / wall, 1) if wall > 0 else None,
        },
    )


def _bodies(X: pd.DataFrame, budget: LatencyBudget) -> list[bytes]:
    """``budget.requests`` JSON bodies of ``budget.rows`` rows each, cycling through ``X``."""
    if len(X) == 0:
        from shipyard.errors import InvalidArgument

        raise InvalidArgument("the evaluation data has no rows to send in a latency test")
    chunks = [X.iloc[start : start + budget.rows] for start in range(0, len(X), budget.rows)][
        : budget.requests
    ]
    texts = [c.to_json(orient="records", date_format="iso") for c in chunks]
    return [f'{{"records": {texts[i % len(texts)]}}}'.encode() for i in range(budget.requests)]


def _timed_post(client: Any, path: str, body: bytes, headers: dict[str, str]) -> tuple[float, bool]:
    import httpx

    start = time.perf_counter()
    try:
        ok = client.post(path, content=body, headers=headers).status_code == 200
    except httpx.HTTPError:
        ok = False
    return time.perf_counter() - start, ok


def _wait_ready(client: Any, ref: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    answer = ""
    while time.monotonic() < deadline:
        response = client.get("/health/ready")
        if response.status_code == 200:
            return
        answer = response.text
        time.sleep(0.05)
    raise ModelServerFailed(
        f"the model server for {ref} was not ready after {READY_TIMEOUT_S:g} s: {answer}"
    )


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    """Run ``app`` on uvicorn on a free port of 127.0.0.1 until the block ends."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="shipyard-gate-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ModelServerFailed("the model server for the latency test did not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
