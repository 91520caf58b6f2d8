"""Client-side metric buffering and run heartbeats, on one background thread per process.

``log_metric`` appends to an in-memory buffer and returns at once; the thread writes the buffer in
batches (one ``log_batch`` per run) every ``flush_interval_ms``, and also when a run ends and at
interpreter exit, so no point is lost on a normal exit. The same thread sends a heartbeat for
every live run every ``heartbeat_interval_s``; a run whose process died stops beating and is shown
KILLED once stale.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from shipyard.errors import ShipyardError
from shipyard.tracking.entities import Metric
from shipyard.tracking.service import TrackingService

MAX_BATCH = 5_000


class MetricBuffer:
    """Thread-safe buffer of metric points per run, flushed in batches."""

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
        self._pending: dict[str, list[Metric]] = defaultdict(list)
        self._live: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_beat = time.monotonic()
        self.last_error: BaseException | None = None
        self._exit_hook = False

    # public -----------------------------------------------------------------------------------
    def add(self, run_id: str, metrics: list[Metric]) -> None:
        """Queue points for ``run_id``; they are stored within one flush interval."""
        with self._lock:
            pending = self._pending[run_id]
            pending.extend(metrics)
            big = len(pending) >= MAX_BATCH
        self._ensure_thread()
        if big:
            self._wake.set()

    def track(self, run_id: str) -> None:
        """Start sending heartbeats for a live run."""
        with self._lock:
            self._live.add(run_id)
        self._ensure_thread()

    def untrack(self, run_id: str) -> None:
        with self._lock:
            self._live.discard(run_id)

    def flush(self, run_id: str | None = None) -> None:
        """Write pending points now (of one run, or all); raises if the store refuses them."""
        with self._flush_lock:
            with self._lock:
                if run_id is None:
                    batches, self._pending = dict(self._pending), defaultdict(list)
                else:
                    batches = {run_id: self._pending.pop(run_id, [])}
            for rid, points in batches.items():
                self._write(rid, points)

    def close(self) -> None:
        """Flush everything and stop the thread (called at interpreter exit)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        try:
            self.flush()
        except ShipyardError as exc:
            print(f"shipyard: could not store buffered metrics at exit: {exc}", file=sys.stderr)

    # internals --------------------------------------------------------------------------------
    def _write(self, run_id: str, points: list[Metric]) -> None:
        for start in range(0, len(points), MAX_BATCH):
            chunk = points[start : start + MAX_BATCH]
            try:
                self._tracking().log_batch(run_id, metrics=chunk)
            except BaseException:
                with self._lock:  # keep what was not written, in order, for the next try
                    self._pending[run_id][:0] = points[start:]
                raise

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="shipyard-metric-flusher", daemon=True
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
                self.flush()
                self._maybe_heartbeat()
            except Exception as exc:
                self.last_error = exc
                time.sleep(min(self._interval * 5, 2.0))

    def _maybe_heartbeat(self) -> None:
        now = time.monotonic()
        if now - self._last_beat < self._heartbeat_interval:
            return
        self._last_beat = now
        with self._lock:
            live = list(self._live)
        for run_id in live:
            self._tracking().heartbeat(run_id)
