"""Micro-batching: concurrent requests share model calls; a lone request never waits."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import httpx
import pandas as pd
import pytest

from shipyard.errors import InvalidArgument
from shipyard.registry.entities import ModelVersion
from shipyard.server.testing import serve_in_thread
from shipyard.serving.app import ServeOptions, create_app
from shipyard.serving.batching import InFlight, MicroBatcher, Unbatched

from .conftest import metric, wait_ready


class Recorder:
    """A model stand-in that records each call's items and takes ``delay`` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[list[int]] = []
        self.delay = delay
        self.threads: set[str] = set()

    def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        self.calls.append(list(items))
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        return [ValueError(f"bad {i}") if i < 0 else i * 10 for i in items]


def test_concurrent_submissions_share_calls_and_get_their_own_results() -> None:
    run = Recorder(delay=0.02)

    async def main() -> list[int]:
        batcher = MicroBatcher(run, max_batch_size=64, max_wait_ms=2)
        return list(await asyncio.gather(*(batcher.submit(i) for i in range(40))))

    assert asyncio.run(main()) == [i * 10 for i in range(40)]
    assert len(run.calls) < 40 and sorted(i for c in run.calls for i in c) == list(range(40))
    assert threading.main_thread().name not in run.threads  # model calls run in worker threads


def test_a_lone_request_is_dispatched_without_waiting() -> None:
    run = Recorder()

    async def main() -> float:
        in_flight = InFlight()
        batcher = MicroBatcher(run, max_wait_ms=1000, in_flight=in_flight)
        in_flight.enter()
        start = time.perf_counter()
        await batcher.submit(1)
        return time.perf_counter() - start

    assert asyncio.run(main()) < 0.5  # max_wait_ms is a whole second: it was not waited


def test_waits_for_requests_in_flight_then_batches_them() -> None:
    run = Recorder()

    async def late(batcher: MicroBatcher[int, int], in_flight: InFlight, i: int) -> int:
        in_flight.enter()
        await asyncio.sleep(0.05)  # still reading its body
        try:
            return await batcher.submit(i)
        finally:
            in_flight.leave()

    async def main() -> list[int]:
        in_flight = InFlight()
        batcher = MicroBatcher(run, max_wait_ms=1000, in_flight=in_flight)
        return list(await asyncio.gather(late(batcher, in_flight, 1), late(batcher, in_flight, 2)))

    start = time.perf_counter()
    assert asyncio.run(main()) == [10, 20]
    assert run.calls == [[1, 2]]
    assert time.perf_counter() - start < 0.9  # stopped waiting once both were in


def test_max_batch_size_counts_rows_and_never_splits_an_item() -> None:
    run = Recorder(delay=0.01)

    async def main() -> None:
        batcher: MicroBatcher[int, int] = MicroBatcher(run, max_batch_size=4)
        await asyncio.gather(*(batcher.submit(i, size=3) for i in range(4)), batcher.submit(9, 10))

    asyncio.run(main())
    assert all(len(call) == 1 for call in run.calls)  # 3 + 3 > 4, and 10 alone
    assert sorted(i for c in run.calls for i in c) == [0, 1, 2, 3, 9]


def test_an_error_reaches_only_its_own_caller() -> None:
    run = Recorder(delay=0.01)

    async def main() -> list[object]:
        batcher: MicroBatcher[int, int] = MicroBatcher(run)
        return list(
            await asyncio.gather(*(batcher.submit(i) for i in (1, -1, 2)), return_exceptions=True)
        )

    one, bad, two = asyncio.run(main())
    assert (one, two) == (10, 20)
    assert isinstance(bad, ValueError) and str(bad) == "bad -1"


def test_a_closed_batcher_drains_then_runs_stragglers_alone() -> None:
    run = Recorder(delay=0.01)

    async def main() -> tuple[list[int], int]:
        batcher: MicroBatcher[int, int] = MicroBatcher(run)
        queued = [asyncio.ensure_future(batcher.submit(i)) for i in range(5)]
        await asyncio.sleep(0)
        batcher.close()
        late = await batcher.submit(7)
        return list(await asyncio.gather(*queued)), late

    done, late = asyncio.run(main())
    assert done == [0, 10, 20, 30, 40] and late == 70
    assert sorted(run.calls) == [[0, 1, 2, 3, 4], [7]]  # the queue as one batch; 7 alone


def test_unbatched_calls_once_per_item() -> None:
    run = Recorder()
    seen: list[tuple[int, int]] = []

    async def main() -> list[int]:
        direct: Unbatched[int, int] = Unbatched(
            run, on_batch=lambda n, rows: seen.append((n, rows))
        )
        return list(await asyncio.gather(*(direct.submit(i, 2) for i in range(3))))

    assert asyncio.run(main()) == [0, 10, 20]
    assert sorted(run.calls) == [[0], [1], [2]] and seen == [(1, 2)] * 3


def test_batch_options_are_checked() -> None:
    with pytest.raises(InvalidArgument, match="max_batch_size"):
        MicroBatcher(Recorder(), max_batch_size=0)
    with pytest.raises(InvalidArgument, match="max_wait_ms"):
        MicroBatcher(Recorder(), max_wait_ms=-1)


async def _fire(url: str, rows: list[dict[str, float]], n: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        return list(
            await asyncio.gather(
                *(
                    client.post("/v1/models/bc/predict", json=[rows[i % len(rows)]])
                    for i in range(n)
                )
            )
        )


def test_a_real_server_batches_64_concurrent_requests(
    bc: ModelVersion, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, _ = cancer
    rows = X.head(16).to_dict(orient="records")
    app = create_app(["bc@champion"], ServeOptions(log_predictions=False))
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        wait_ready(client)
        responses = asyncio.run(_fire(url, rows, 64))
        text = client.get("/metrics").text
    assert [r.status_code for r in responses] == [200] * 64
    calls = metric(text, "shipyard_serving_batch_size_count", model="bc", version="1")
    requests = metric(text, "shipyard_serving_batch_size_sum", model="bc", version="1")
    assert requests == 64
    assert requests / calls > 4, f"mean batch size {requests / calls:.1f} over {calls:.0f} calls"


async def _lone_calls(batcher: MicroBatcher[int, int], in_flight: InFlight, n: int) -> list[int]:
    """``n`` requests one after another, each alone in flight (concurrency 1)."""
    out = []
    for i in range(n):
        in_flight.enter()
        try:
            out.append(await batcher.submit(i))
        finally:
            in_flight.leave()
    return out


def test_a_fast_model_alone_in_flight_runs_on_the_event_loop() -> None:
    run = Recorder()

    async def main() -> list[int]:
        in_flight = InFlight()
        return await _lone_calls(MicroBatcher(run, in_flight=in_flight), in_flight, 3)

    assert asyncio.run(main()) == [0, 10, 20]
    # the first call goes to a thread (nothing is known of the model yet), later ones inline
    assert threading.main_thread().name in run.threads and len(run.threads) == 2


def test_a_slow_model_or_a_crowd_still_goes_to_worker_threads() -> None:
    slow = Recorder(delay=0.02)  # over the 5 ms allowed on the event loop

    async def alone() -> list[int]:
        in_flight = InFlight()
        return await _lone_calls(MicroBatcher(slow, in_flight=in_flight), in_flight, 3)

    assert asyncio.run(alone()) == [0, 10, 20]
    assert threading.main_thread().name not in slow.threads

    fast = Recorder()

    async def crowd() -> list[int]:
        in_flight = InFlight()
        batcher = MicroBatcher(fast, in_flight=in_flight, max_wait_ms=50)
        await _lone_calls(batcher, in_flight, 2)  # learns that the model is fast
        fast.calls.clear()
        for _ in range(3):
            in_flight.enter()
        return list(await asyncio.gather(*(batcher.submit(i) for i in range(3))))

    assert asyncio.run(crowd()) == [0, 10, 20]
    assert fast.calls == [[0, 1, 2]]  # batched together, not one by one on the loop
