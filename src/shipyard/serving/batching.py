"""Adaptive micro-batching: concurrent requests share one model call.

A :class:`MicroBatcher` keeps a queue of submitted items and one consumer task. The consumer takes
everything queued (up to ``max_batch_size`` rows; an item is never split), runs ``run(items)`` in
a worker thread so the event loop keeps accepting requests, and hands each caller its own result.
While a call runs, new requests queue up, so under load batches grow by themselves.

*Adaptive* means there is no artificial wait when the server is idle: a request that finds no
other request of its model in flight is dispatched at once (concurrency 1 pays nothing). The
consumer waits — at most ``max_wait_ms`` — only while the model has requests in flight that are
neither in the batch nor queued (counted by an :class:`InFlight`: being received, parsed, or
just answered, and about to be followed by their client's next request), and stops waiting the
moment every request in flight is in the batch.

*Inline* when it pays: a request alone in flight, for a model whose last lone call took under
``inline_ms`` (5 ms), is run on the event loop itself. There is nothing to overlap with, and
handing it to a thread and back costs two thread wake-ups, which on a busy machine is each a
wait for the CPU (at concurrency 1 this halved the latency here). A slower model, or any
request that finds others in flight or queued, goes to the worker thread as before.

``run`` returns one result per item; an item's result may be an exception, which is raised to
that caller only (the model runner retries a failed batch item by item, so one bad request does
not fail the others). :class:`Unbatched` has the same interface and calls ``run`` once per item,
for ``--no-batching``.

>>> import asyncio
>>> async def demo() -> list[int]:
...     batcher = MicroBatcher(lambda items: [x * 2 for x in items])
...     return list(await asyncio.gather(*(batcher.submit(i) for i in range(3))))
>>> asyncio.run(demo())
[0, 2, 4]
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from shipyard.errors import InvalidArgument

T = TypeVar("T")
R = TypeVar("R")
T_contra = TypeVar("T_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)

DEFAULT_MAX_BATCH_SIZE = 64
DEFAULT_MAX_WAIT_MS = 2.0
DEFAULT_INLINE_MS = 5.0

Runner = Callable[[list[T]], Sequence["R | BaseException"]]
BatchHook = Callable[[int, int], None]
"""Called after each model call with (requests in it, rows in it)."""


class Dispatcher(Protocol[T_contra, R_co]):
    """What the server submits work to: a :class:`MicroBatcher` or :class:`Unbatched`."""

    async def submit(self, item: T_contra, size: int = 1) -> R_co: ...

    def close(self) -> None: ...


class InFlight:
    """Predict requests of one model that the server is handling now (entered, not answered).

    Batchers watching it are woken whenever one leaves, so a wait for stragglers ends as soon as
    every request in flight is in the batch.
    """

    def __init__(self) -> None:
        self.count = 0
        self._watchers: set[asyncio.Event] = set()

    def enter(self) -> None:
        """A request for the model arrived."""
        self.count += 1

    def leave(self) -> None:
        """That request was answered (or failed)."""
        self.count -= 1
        for event in self._watchers:
            event.set()

    def watch(self, event: asyncio.Event) -> None:
        self._watchers.add(event)

    def unwatch(self, event: asyncio.Event) -> None:
        self._watchers.discard(event)


@dataclass
class _Pending(Generic[T, R]):
    item: T
    size: int
    future: asyncio.Future[R]


def check_batch_options(max_batch_size: int, max_wait_ms: float) -> None:
    """Raise InvalidArgument unless ``max_batch_size >= 1`` and ``0 <= max_wait_ms <= 1000``."""
    if (
        isinstance(max_batch_size, bool)
        or not isinstance(max_batch_size, int)
        or max_batch_size < 1
    ):
        raise InvalidArgument(f"max_batch_size must be a whole number >= 1, got {max_batch_size!r}")
    if not 0.0 <= float(max_wait_ms) <= 1000.0:
        raise InvalidArgument(f"max_wait_ms must be between 0 and 1000, got {max_wait_ms!r}")


class MicroBatcher(Generic[T, R]):
    """Group concurrent :meth:`submit` calls into calls of ``run`` in a worker thread.

    ``executor`` runs the calls (default: the event loop's); ``in_flight`` tells whether more
    requests are on their way (no waiting, and no inline calls, without it); ``on_batch``
    observes each call; ``inline_ms`` is the longest lone call that may run on the event loop
    (0: never).
    """

    def __init__(
        self,
        run: Runner[T, R],
        *,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        max_wait_ms: float = DEFAULT_MAX_WAIT_MS,
        executor: Executor | None = None,
        in_flight: InFlight | None = None,
        on_batch: BatchHook | None = None,
        inline_ms: float = DEFAULT_INLINE_MS,
    ) -> None:
        check_batch_options(max_batch_size, max_wait_ms)
        self._run = run
        self.inline_s = inline_ms / 1000.0
        self._lone_s: float | None = None  # how long the last one-item call took
        self._busy = False  # a batch is running in the executor
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000.0
        self._executor = executor
        self._in_flight = in_flight
        self._on_batch = on_batch
        self._queue: collections.deque[_Pending[T, R]] = collections.deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        if in_flight is not None:
            in_flight.watch(self._wake)

    async def submit(self, item: T, size: int = 1) -> R:
        """Run ``item`` (of ``size`` rows) in the next batch and return its result.

        After :meth:`close` (a retired model version), the item runs on its own instead.
        """
        loop = asyncio.get_running_loop()
        if self._closed:
            return _unpack(await loop.run_in_executor(self._executor, self._run, [item]))
        if self._alone():
            await asyncio.sleep(0)  # requests that arrived with this one reach the queue first
            if self._alone():
                return self._run_inline(item, size)
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append(_Pending(item, size, future))
        if self._task is None:
            self._task = loop.create_task(self._consume(), name="shipyard-batcher")
        self._wake.set()
        return await future

    def _alone(self) -> bool:
        """Whether a request may run on the event loop: it is the only one in flight, nothing
        is queued or running, and the model's last lone call was fast."""
        lone, in_flight = self._lone_s, self._in_flight
        return (
            lone is not None
            and lone <= self.inline_s
            and in_flight is not None
            and in_flight.count <= 1
            and not self._queue
            and not self._busy
            and not self._closed
        )

    def _run_inline(self, item: T, size: int) -> R:
        try:
            results = self._timed([item])
        except Exception as exc:  # run() broke its contract
            results = [exc]
        if self._on_batch is not None:
            self._on_batch(1, size)
        return _unpack(results)

    def _timed(self, items: list[T]) -> Sequence[R | BaseException]:
        """``run(items)``, remembering how long a one-item call took."""
        start = time.perf_counter()
        results = self._run(items)
        if len(items) == 1:
            self._lone_s = time.perf_counter() - start
        return results

    def close(self) -> None:
        """Stop taking new batches once the queue is drained (call from the event loop)."""
        self._closed = True
        self._wake.set()
        if self._in_flight is not None:
            self._in_flight.unwatch(self._wake)

    async def _consume(self) -> None:
        try:
            while self._queue or not self._closed:
                if not self._queue:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                batch: list[_Pending[T, R]] = []
                rows = self._take(batch, 0)
                rows = await self._gather(batch, rows)
                await self._dispatch(batch, rows)
        finally:
            self._task = None
            self._fail_queued()

    def _take(self, batch: list[_Pending[T, R]], rows: int) -> int:
        """Move queued items into ``batch`` while they fit; return its rows."""
        queue = self._queue
        while queue and (not batch or rows + queue[0].size <= self.max_batch_size):
            pending = queue.popleft()
            batch.append(pending)
            rows += pending.size
        return rows

    async def _gather(self, batch: list[_Pending[T, R]], rows: int) -> int:
        """Wait up to ``max_wait_ms`` for requests in flight, while there is room."""
        in_flight = self._in_flight
        if in_flight is None or self.max_wait_s <= 0:
            return rows
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        while rows < self.max_batch_size and in_flight.count > len(batch) + len(self._queue):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                break
            finally:
                rows = self._take(batch, rows)
        return rows

    async def _dispatch(self, batch: list[_Pending[T, R]], rows: int) -> None:
        loop = asyncio.get_running_loop()
        items = [p.item for p in batch]
        self._busy = True
        try:
            results = await loop.run_in_executor(self._executor, self._timed, items)
        except Exception as exc:  # run() broke its contract: every caller gets the error
            results = [exc] * len(batch)
        finally:
            self._busy = False
        if self._on_batch is not None:
            self._on_batch(len(batch), rows)
        for pending, result in zip(batch, results, strict=True):
            if pending.future.done():  # the caller went away (client disconnected)
                continue
            if isinstance(result, BaseException):
                pending.future.set_exception(result)
            else:
                pending.future.set_result(result)

    def _fail_queued(self) -> None:
        while self._queue:
            pending = self._queue.popleft()
            if not pending.future.done():
                pending.future.set_exception(RuntimeError("the model server is shutting down"))


class Unbatched(Generic[T, R]):
    """One ``run`` call per submitted item, in the executor (``--no-batching``)."""

    def __init__(
        self,
        run: Runner[T, R],
        *,
        executor: Executor | None = None,
        on_batch: BatchHook | None = None,
    ) -> None:
        self._run = run
        self._executor = executor
        self._on_batch = on_batch

    async def submit(self, item: T, size: int = 1) -> R:
        """Run ``item`` alone and return its result."""
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(self._executor, self._run, [item])
        if self._on_batch is not None:
            self._on_batch(1, size)
        return _unpack(results)

    def close(self) -> None:
        """Nothing to stop."""


def _unpack(results: Sequence[R | BaseException]) -> R:
    (result,) = results
    if isinstance(result, BaseException):
        raise result
    return result


__all__ = [
    "DEFAULT_INLINE_MS",
    "DEFAULT_MAX_BATCH_SIZE",
    "DEFAULT_MAX_WAIT_MS",
    "BatchHook",
    "Dispatcher",
    "InFlight",
    "MicroBatcher",
    "Unbatched",
    "check_batch_options",
]
