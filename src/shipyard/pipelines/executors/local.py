"""``local``: a pool of worker processes on this machine (``local:N`` for N of them)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from shipyard.errors import InvalidArgument
from shipyard.pipelines.entities import WorkerLost

# Modules every worker imports once, at the fork server, so each task starts warm.
PRELOAD = ["shipyard.pipelines.worker", "shipyard.tracking.fluent", "shipyard.tracking.sql"]


class LocalExecutor:
    """A process pool (started lazily by a fork server preloaded with Shipyard), each worker
    with one native thread. A worker that dies breaks the pool: its futures raise WorkerLost
    and the next submit starts a new pool."""

    capabilities = frozenset({"processes"})

    def __init__(self, *, workers: int | None = None) -> None:
        self.url = f"local:{workers}" if workers else "local"
        self._workers = workers or max(1, os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> LocalExecutor:
        _, _, n = url.partition(":")
        if not n:
            return cls()
        if not n.isdigit() or int(n) < 1:
            raise InvalidArgument(f"executor {url!r}: write local:N with N >= 1 worker processes")
        return cls(workers=int(n))

    @property
    def workers(self) -> int:
        return self._workers

    def start(self) -> None:
        with self._lock:
            if self._pool is None:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(PRELOAD)
                self._pool = ProcessPoolExecutor(
                    self._workers, mp_context=ctx, initializer=_single_threaded
                )

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        self.start()
        assert self._pool is not None
        pool = self._pool
        try:
            inner = pool.submit(fn, *args)
        except BrokenProcessPool:
            self._drop(pool)
            return self.submit(fn, *args)
        return _translate(inner, lambda: self._drop(pool))

    def _drop(self, pool: ProcessPoolExecutor) -> None:
        """Forget ``pool`` if it is still the current one (the next submit starts another)."""
        with self._lock:
            if self._pool is not pool:
                return
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _single_threaded() -> None:
    """One native thread per worker process (as Dask's nanny does): N processes each running
    an N-thread OpenMP pool would oversubscribe the cores many times over."""
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def _translate(inner: Future[Any], on_broken: Callable[[], None]) -> Future[Any]:
    """A future that raises WorkerLost when the pool broke under ``inner``."""
    outer: Future[Any] = Future()

    def done(f: Future[Any]) -> None:
        if f.cancelled():
            outer.cancel()
            return
        exc = f.exception()
        if isinstance(exc, BrokenProcessPool):
            outer.set_exception(
                WorkerLost(f"a worker process died while running this task ({exc})")
            )
            threading.Thread(target=on_broken, daemon=True).start()
        elif exc is not None:
            outer.set_exception(exc)
        else:
            outer.set_result(f.result())

    inner.add_done_callback(done)
    return outer


__all__ = ["LocalExecutor"]
