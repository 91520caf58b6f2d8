"""Client-side buffering of what runs log, and run heartbeats, on one background thread.

``log_metric``, ``log_params`` and ``set_tags`` on a run of this process validate their input at
once, then append to an in-memory batch and return. A background thread writes each run's batch
(one ``log_batch``: one transaction, or one HTTP request) every ``flush_interval_ms``; ending a
run sends what is left together with the final status (``end_run``), and interpreter exit
flushes everything, so no point is lost on a normal exit. The same thread sends a heartbeat for
every live run every ``heartbeat_interval_s``; a run whose process died stops beating and is
shown KILLED once stale.

Failures: a store that cannot be reached keeps the batch for the next try. A batch the store
refuses (a param changed by another process, a run deleted meanwhile) is not retried: its
metrics are written without the refused params and tags, and the error is raised by the next
``flush``/``end_run`` of that run, so it is never silent.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from shipyard.errors import Conflict, ShipyardError, StoreUnavailable
from shipyard.tracking.entities import Metric
from shipyard.tracking.service import TrackingService

MAX_BATCH = 5_000


@dataclass
class Batch:
    """What one run has logged and not stored yet."""

    metrics: list[Metric] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.metrics or self.params or self.tags)

    def merge_before(self, later: Batch) -> None:
        """Put this (older) batch's content ahead of ``later``'s, in place on ``later``."""
        later.metrics[:0] = self.metrics
        later.params = {**self.params, **later.params}
        later.tags = {**self.tags, **later.tags}


class MetricBuffer:
    """Thread-safe batches per run, flushed in the background and at exit."""

    def __init__(
        self,
        tracking: Callable[[], TrackingService],
        *,
        flush_interval_ms: int = 200,
        heartbeat_interval_s: float = 10.0,
    ) -> None:
        self._tracking = tracking
        self._interval = max(flush_interval_ms, 1) / 1000
        self._heartbeat_interval = heartbeat_interval_s
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: dict[str, Batch] = {}
        self._params: dict[str, dict[str, str]] = {}  # params logged by live runs, for conflicts
        self._errors: dict[str, ShipyardError] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_beat = time.monotonic()
        self._exit_hook = False
        self.last_error: BaseException | None = None

    # what runs log ----------------------------------------------------------------------------
    def add(self, run_id: str, metrics: list[Metric]) -> None:
        """Queue points for ``run_id``; they are stored within one flush interval."""
        with self._lock:
            batch = self._pending.setdefault(run_id, Batch())
            batch.metrics.extend(metrics)
            big = len(batch.metrics) >= MAX_BATCH
        self._ensure_thread()
        if big:
            self._wake.set()

    def add_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Queue params of a live run; a value that differs from one logged before is a Conflict
        raised here, at the call."""
        with self._lock:
            seen = self._params.setdefault(run_id, {})
            for key, value in params.items():
                if key in seen and seen[key] != value:
                    raise Conflict(
                        f"param {key!r} of run {run_id} is already {seen[key]!r}; params cannot "
                        f"change (got {value!r}). Log it under another key or start a new run"
                    )
            seen.update(params)
            self._pending.setdefault(run_id, Batch()).params.update(params)
        self._ensure_thread()

    def add_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        with self._lock:
            self._pending.setdefault(run_id, Batch()).tags.update(tags)
        self._ensure_thread()

    def track(self, run_id: str) -> None:
        """Start sending heartbeats for a live run."""
        with self._lock:
            self._params.setdefault(run_id, {})
        self._ensure_thread()

    def is_tracked(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._params

    def take(self, run_id: str) -> Batch:
        """Stop tracking a run and hand over what it has not stored yet (to ``end_run``)."""
        with self._lock:
            self._params.pop(run_id, None)
            return self._pending.pop(run_id, Batch())

    def give_back(self, run_id: str, batch: Batch) -> None:
        """Return a batch that could not be stored, ahead of anything logged since."""
        with self._lock:
            later = self._pending.setdefault(run_id, Batch())
            batch.merge_before(later)

    def raise_error(self, run_id: str) -> None:
        """Raise the error a background write of this run met, if any (once)."""
        with self._lock:
            error = self._errors.pop(run_id, None)
        if error is not None:
            raise error

    # writing ----------------------------------------------------------------------------------
    def flush(self, run_id: str | None = None) -> None:
        """Store pending batches now (of one run, or all).

        Raises what the store refused for that run (or any run), or the first transient error
        after trying every run (what was not stored stays queued).
        """
        self._write_pending(run_id)
        if run_id is not None:
            self.raise_error(run_id)
        else:
            with self._lock:
                errors, self._errors = self._errors, {}
            if errors:
                raise next(iter(errors.values()))

    def _write_pending(self, run_id: str | None = None) -> None:
        with self._flush_lock:
            with self._lock:
                if run_id is None:
                    batches, self._pending = self._pending, {}
                else:
                    batches = {run_id: self._pending.pop(run_id, Batch())}
            failure: BaseException | None = None
            for rid, batch in batches.items():
                if not batch:
                    continue
                try:
                    self._write(rid, batch)
                except BaseException as exc:  # given back by _write; try the other runs
                    failure = failure or exc
            if failure is not None:
                raise failure

    def close(self) -> None:
        """Flush everything and stop the thread (called at interpreter exit)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        try:
            self._write_pending()
        except Exception as exc:
            print(f"shipyard: could not store buffered metrics at exit: {exc}", file=sys.stderr)
        for run_id, error in self._errors.items():
            print(f"shipyard: run {run_id}: {error}", file=sys.stderr)
        self._errors.clear()

    def _write(self, run_id: str, batch: Batch) -> None:
        """Store one run's batch. A refusal is recorded for the run, not raised; anything
        else (store unreachable …) gives the batch back and raises."""
        tracking = self._tracking()
        points = batch.metrics
        try:
            try:
                tracking.log_batch(
                    run_id, metrics=points[:MAX_BATCH], params=batch.params, tags=batch.tags
                )
            except StoreUnavailable:
                raise
            except ShipyardError as exc:
                self._errors[run_id] = exc
                if not (batch.params or batch.tags):
                    return  # the run itself is refused (deleted, unknown): nothing to keep
                tracking.log_batch(run_id, metrics=points[:MAX_BATCH])  # keep the points
        except BaseException:
            self.give_back(run_id, batch)
            raise
        for start in range(MAX_BATCH, len(points), MAX_BATCH):
            try:
                tracking.log_batch(run_id, metrics=points[start : start + MAX_BATCH])
            except BaseException:
                self.give_back(run_id, Batch(metrics=points[start:]))
                raise

    # background thread ------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="shipyard-run-buffer", daemon=True
            )
            self._thread.start()
            if not self._exit_hook:
                atexit.register(self.close)
                self._exit_hook = True

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self._write_pending()
                self._maybe_heartbeat()
            except Exception as exc:  # kept for the next try and for the caller
                self.last_error = exc
                time.sleep(min(self._interval * 5, 2.0))

    def _maybe_heartbeat(self) -> None:
        now = time.monotonic()
        if now - self._last_beat < self._heartbeat_interval:
            return
        self._last_beat = now
        with self._lock:
            live = list(self._params)
        for run_id in live:
            self._tracking().heartbeat(run_id)
