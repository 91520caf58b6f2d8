"""The executor protocol: start, submit a function, close."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol


class Executor(Protocol):
    """Runs picklable functions somewhere and hands back standard futures.

    ``capabilities`` says what an executor can do, as data: ``"processes"`` (each task in its
    own OS process, so a step's timeout can interrupt it), ``"distributed"`` (workers may be on
    other machines: pass URLs, not local paths that only this host sees). ``workers`` is how
    many tasks run at once. A future whose worker died raises
    :class:`~shipyard.pipelines.entities.WorkerLost`.
    """

    url: str
    capabilities: frozenset[str]

    @property
    def workers(self) -> int: ...

    def start(self) -> None:
        """Spawn or connect. Raises ExecutorUnavailable quickly when that fails."""
        ...

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        """Run ``fn(*args)`` on a worker."""
        ...

    def close(self) -> None:
        """Stop what :meth:`start` started (a pool, a local cluster); idempotent."""
        ...


__all__ = ["Executor"]
