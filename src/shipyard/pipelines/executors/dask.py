"""``dask://host:port``: a Dask distributed scheduler; ``dask://local``: a LocalCluster.

Dask retries a task whose worker died on another worker (up to the scheduler's
``allowed-failures``), then fails it with ``KilledWorker``, which becomes WorkerLost here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any
from urllib.parse import urlsplit

from shipyard.errors import InvalidArgument
from shipyard.pipelines.entities import ExecutorUnavailable, WorkerLost

CONNECT_TIMEOUT_S = 5.0


class DaskExecutor:
    """Tasks on a Dask cluster; futures are bridged to ``concurrent.futures``."""

    capabilities = frozenset({"processes", "distributed"})

    def __init__(
        self,
        address: str | None,
        *,
        url: str,
        n_workers: int = 2,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.url = url
        self._address = address  # None: start a LocalCluster
        self._n_workers = n_workers
        self._timeout = connect_timeout_s
        self._client: Any = None
        self._cluster: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> DaskExecutor:
        parts = urlsplit(url)
        if parts.hostname == "local" and not parts.port:
            query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
            workers = query.get("workers", "2")
            if not workers.isdigit() or int(workers) < 1:
                raise InvalidArgument(f"executor {url!r}: workers= must be a positive integer")
            return cls(None, url=url, n_workers=int(workers))
        try:
            port = parts.port
        except ValueError as exc:
            raise InvalidArgument(f"executor {url!r} has a bad port: {exc}") from exc
        if not parts.hostname or not port:
            raise InvalidArgument(
                f"executor {url!r}: write dask://host:port (the scheduler, usually port 8786) "
                "or dask://local"
            )
        return cls(f"tcp://{parts.hostname}:{port}", url=url)

    @property
    def workers(self) -> int:
        if self._client is None:
            return self._n_workers
        return max(1, sum(int(w.get("nthreads", 1)) for w in self._workers_info().values()))

    def _workers_info(self) -> dict[str, Any]:
        info: dict[str, Any] = self._client.scheduler_info().get("workers", {})
        return info

    def start(self) -> None:
        with self._lock:
            if self._client is not None:
                return
            from distributed import Client, LocalCluster

            try:
                if self._address is None:
                    self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                        n_workers=self._n_workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                    )
                    self._client = Client(  # type: ignore[no-untyped-call]
                        self._cluster, timeout=self._timeout
                    )
                else:
                    self._client = Client(  # type: ignore[no-untyped-call]
                        self._address, timeout=self._timeout
                    )
            except (OSError, TimeoutError) as exc:
                self._shutdown()
                raise ExecutorUnavailable(
                    f"cannot reach the Dask scheduler at {self.url} within {self._timeout:g}s "
                    f"({type(exc).__name__}: {exc}); start it (`dask scheduler`) or fix the URL"
                ) from exc

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        self.start()
        inner = self._client.submit(fn, *args, pure=False)
        outer: Future[Any] = Future()

        def done(f: Any) -> None:
            from distributed.scheduler import KilledWorker

            try:
                outer.set_result(f.result())
            except KilledWorker as exc:
                outer.set_exception(WorkerLost(f"Dask lost the worker(s) running this task: {exc}"))
            except BaseException as exc:
                outer.set_exception(exc)

        inner.add_done_callback(done)
        outer.add_done_callback(lambda o: inner.cancel() if o.cancelled() else None)
        return outer

    def close(self) -> None:
        with self._lock:
            self._shutdown()

    def _shutdown(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


__all__ = ["DaskExecutor"]
