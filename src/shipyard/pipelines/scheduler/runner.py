"""The one scheduler: claims due slots in the trigger store, runs their jobs, records how they
ended.

Rules (see docs/scheduler.md):

* a cron slot is due when it is the newest slot at or before now and not before the job was
  first seen; missed older slots are never run, so a scheduler that was down runs a job's
  latest missed slot once on restart (catch-up), not once per missed slot;
* a new-data slot (``data:NAME@VERSION``) is due when the dataset's newest version was written
  after the job was first seen;
* a slot runs at most once: it is claimed first, as a unique (job, slot) row, so a second
  scheduler (or a restarted one) never runs it again;
* while a job is still running here, its next slots are not claimed (the newest of them runs
  when it is done);
* a running trigger whose scheduler stops heart-beating (killed) is marked ``interrupted`` by
  the next scheduler that sweeps and is not re-run.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shipyard.errors import NotFound, StoreUnavailable
from shipyard.pipelines.scheduler.entities import Job, Trigger, slot_text
from shipyard.pipelines.scheduler.jobs import runner_for

if TYPE_CHECKING:
    from shipyard.data.datasets.service import DatasetCatalog
    from shipyard.pipelines.scheduler.service import TriggerStore

log = logging.getLogger("shipyard.scheduler")
ERROR_MAX = 4000


@dataclass(frozen=True)
class SchedulerOptions:
    """``interval_s``: how often due slots are looked for; ``heartbeat_s``: how often running
    triggers are marked alive; ``stale_after_s``: silence after which a running trigger counts
    as interrupted; ``workers``: jobs run at once."""

    interval_s: float = 1.0
    heartbeat_s: float = 5.0
    stale_after_s: float = 60.0
    workers: int = 4


def owner_id() -> str:
    """``host:pid`` of this scheduler process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def due_slot(job: Job, now: datetime, registered_ms: int) -> tuple[str, str] | None:
    """The newest cron slot of ``job`` at or before ``now`` if it is not before ``registered_ms``,
    as (slot, reason); None otherwise."""
    from cronsim import CronSim

    if job.cron is None:
        return None
    latest = next(CronSim(job.cron, now, reverse=True))
    if latest.timestamp() * 1000 < registered_ms:
        return None
    return slot_text(latest), f"cron {job.cron!r} slot {slot_text(latest)}"


class Scheduler:
    """Runs ``jobs``, claiming slots in ``triggers`` and watching ``datasets`` for new versions.
    ``tick()`` once, or ``run()`` until ``stop()``."""

    def __init__(
        self,
        jobs: Mapping[str, Job],
        *,
        triggers: TriggerStore,
        datasets: DatasetCatalog,
        options: SchedulerOptions | None = None,
        on_trigger: Callable[[Trigger], None] | None = None,
    ) -> None:
        self.triggers = triggers
        self.datasets = datasets
        self.jobs = dict(jobs)
        self.options = options or SchedulerOptions()
        self.owner = owner_id()
        self._on_trigger = on_trigger or (lambda _t: None)
        self._registered: dict[str, int] = {}
        self._tried: dict[tuple[str, str], str] = {}
        self._running: dict[str, tuple[Trigger, Future[None]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(self.options.workers, thread_name_prefix="shipyard-job")

    # --- one pass ---------------------------------------------------------------------------
    def start(self) -> list[Trigger]:
        """Register the jobs and mark triggers of dead schedulers interrupted (returned)."""
        store = self.triggers
        self._registered = store.register_jobs({n: j.to_dict() for n, j in self.jobs.items()})
        return store.sweep(stale_after_ms=int(self.options.stale_after_s * 1000))

    def tick(self, now: datetime | None = None) -> list[Trigger]:
        """Claim every due slot and start its job; returns the triggers claimed."""
        now = now or datetime.now(UTC)
        claimed = []
        for job in self.jobs.values():
            with self._lock:
                if job.name in self._running:
                    continue
            for slot, reason in self._due(job, now):
                source = (job.name, "data" if slot.startswith("data:") else "cron")
                if self._tried.get(source) == slot:
                    continue
                self._tried[source] = slot
                trigger = self.triggers.claim(job.name, slot, reason=reason, owner=self.owner)
                if trigger is None:
                    continue
                claimed.append(trigger)
                self._submit(job, trigger)
                break
        return claimed

    def _due(self, job: Job, now: datetime) -> list[tuple[str, str]]:
        registered = self._registered.get(job.name, 0)
        found = []
        cron = due_slot(job, now, registered)
        if cron is not None:
            found.append(cron)
        if job.on_new_data is not None:
            try:
                version = self.datasets.get_version(job.on_new_data)
            except NotFound:
                version = None
            if version is not None and version.created_at >= registered:
                found.append(
                    (f"data:{version.ref}", f"new version {version.ref} of {job.on_new_data}")
                )
        return found

    def _submit(self, job: Job, trigger: Trigger) -> None:
        with self._lock:  # held until recorded, so a quick job cannot end before it is
            self._running[job.name] = (trigger, self._pool.submit(self._execute, job, trigger))

    def _execute(self, job: Job, trigger: Trigger) -> None:
        log.info("job %s slot %s starts (%s)", job.name, trigger.slot, trigger.reason)
        try:
            run_id = runner_for(job.kind)(job, trigger.slot, trigger.reason)
        except BaseException as exc:
            message = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
            done = self.triggers.finish(
                trigger.id, state="failed", run_id=getattr(exc, "run_id", None), error=message
            )
            log.warning("job %s slot %s failed: %s", job.name, trigger.slot, message)
        else:
            done = self.triggers.finish(trigger.id, state="succeeded", run_id=run_id)
            log.info("job %s slot %s succeeded", job.name, trigger.slot)
        finally:
            with self._lock:
                self._running.pop(job.name, None)
        self._on_trigger(done)

    # --- the loop -----------------------------------------------------------------------------
    def wait(self) -> None:
        """Block until every job started so far has finished."""
        while True:
            with self._lock:
                futures = [f for _, f in self._running.values()]
            if not futures:
                return
            for future in futures:
                future.result()

    def run(self, *, once: bool = False) -> None:
        """Sweep, then tick every ``interval_s`` until stopped (with ``once``: one tick, wait for
        its jobs, return). A heartbeat thread keeps running triggers alive meanwhile."""
        self.start()
        beat = threading.Thread(target=self._heartbeats, name="shipyard-heartbeat", daemon=True)
        beat.start()
        try:
            if once:
                self.tick()
                self.wait()
                return
            next_sweep = time.monotonic() + self.options.stale_after_s
            while not self._stop.is_set():
                try:
                    self.tick()
                    if time.monotonic() >= next_sweep:
                        self.triggers.sweep(stale_after_ms=int(self.options.stale_after_s * 1000))
                        next_sweep = time.monotonic() + self.options.stale_after_s
                except StoreUnavailable as exc:  # the store comes back: look again next time
                    log.warning("the trigger store is unavailable (%s); retrying", exc)
                self._stop.wait(self.options.interval_s)
            self.wait()
        finally:
            self._stop.set()
            beat.join(timeout=5)
            self._pool.shutdown(wait=True)

    def _heartbeats(self) -> None:
        while not self._stop.wait(self.options.heartbeat_s):
            with self._lock:
                ids = [t.id for t, _ in self._running.values()]
            try:
                self.triggers.heartbeat(ids)
            except Exception:
                log.exception("heartbeat failed")

    def stop(self) -> None:
        """Ask ``run()`` to return after the jobs that are running finish."""
        self._stop.set()
