"""The driver behind ``run_pipeline``: plan, skip what is cached, run the rest, record it all.

The driver (this process) walks the DAG: a step whose upstream steps are done is hashed; if an
earlier run had the same cache key its outputs are reused (CACHED), otherwise it is submitted to
the executor as a task (``worker.execute``) that runs it as a tracked run nested under the
pipeline's run. A failed attempt is retried after ``retry_backoff * 2**(attempt-1)`` seconds
while retries remain; then the step is FAILED, every step below it SKIPPED, and independent
branches still finish. Nothing is recorded before the definition, the selection and the
executor have been checked.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard._util import current_user, now_ms
from shipyard.errors import AlreadyExists, InvalidArgument, NotFound, ShipyardError
from shipyard.pipelines.cache import StepHashes, step_hashes, why_rerun
from shipyard.pipelines.definitions import Pipeline, StepDef, code_hash
from shipyard.pipelines.entities import (
    PipelineRun,
    RunState,
    StepFailure,
    StepState,
    StepStatus,
    StepTimeout,
)
from shipyard.pipelines.executors import Executor
from shipyard.pipelines.steps import StepContext
from shipyard.pipelines.worker import PortableFn, StepTask, error_record, execute

log = logging.getLogger("shipyard.pipelines")

if TYPE_CHECKING:
    from shipyard.config import Settings
    from shipyard.pipelines.service import PipelineRunStore
    from shipyard.tracking.service import TrackingService

StepEvent = Callable[[StepState], None]
# Extra time the driver allows past a step's timeout before abandoning it (the worker's own
# alarm normally fires first and reports a clean StepTimeout).
TIMEOUT_GRACE_S = 5.0


@dataclass
class Plan:
    """Which steps run, and which take their outputs from an earlier run."""

    selected: list[str]
    reused: dict[str, StepState]  # not selected: outputs from an earlier run
    resumed_from: str | None = None


def plan_run(
    pipe: Pipeline,
    store: PipelineRunStore,
    *,
    steps: Sequence[str] | None,
    from_step: str | None,
    resume: bool,
) -> Plan:
    if resume and (steps or from_step):
        raise InvalidArgument(
            "--resume continues a failed run; do not combine it with --step/--from"
        )
    order = list(pipe.order)
    if steps:
        chosen = {pipe.step(s).name for s in steps}
    elif from_step:
        chosen = {pipe.step(from_step).name, *pipe.downstream(from_step)}
    else:
        chosen = set(order)
    reused: dict[str, StepState] = {}
    resumed_from = None
    if resume:
        previous = store.list_runs(pipeline=pipe.name, limit=1)
        if not previous or previous[0].status != RunState.FAILED:
            raise InvalidArgument(
                f"nothing to resume: the newest run of {pipe.name!r} did not fail; "
                "run it without --resume"
            )
        resumed_from = previous[0].id
        for s in previous[0].steps:
            if s.status.done and s.outputs is not None and s.step in chosen:
                reused[s.step] = s
        chosen -= set(reused)
    needed = {u for n in chosen for u in pipe.upstream[n]} - chosen - set(reused)
    for name in sorted(needed, key=order.index):
        last = store.last_done(pipe.name, name)
        if last is None:
            raise InvalidArgument(
                f"step {name!r} has never run, and the selected steps need its outputs; "
                f"run it too (--from {name}) or the whole pipeline first"
            )
        reused[name] = last
    return Plan([n for n in order if n in chosen], reused, resumed_from)


@dataclass
class _Flight:
    step: str
    attempt: int
    started_at: int
    deadline: float | None
    hashes: StepHashes


@dataclass
class Driver:
    """Runs one planned pipeline run on ``pool``, recording it in ``store`` and ``tracking``."""

    pipe: Pipeline
    tracking: TrackingService
    settings: Settings
    store: PipelineRunStore
    pool: Executor
    plan: Plan
    no_cache: bool
    on_event: StepEvent | None
    states: dict[str, StepState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _last_beat: float = 0.0

    def run(self, trigger: str) -> PipelineRun:
        pipe = self.pipe
        tracking = self.tracking
        self._code = {s: code_hash(pipe.step(s), pipe.search_path) for s in self.plan.selected}
        self.experiment_id = _experiment(tracking, pipe.experiment or pipe.name)
        parent = tracking.create_run(
            self.experiment_id,
            name=f"pipeline:{pipe.name}",
            tags={
                "shipyard.pipeline": pipe.name,
                "shipyard.pipeline.run": self.id,
                "shipyard.pipeline.trigger": trigger,
            },
        )
        self.parent_run_id = parent.run_id
        for pos, name in enumerate(pipe.order):
            reused = self.plan.reused.get(name)
            if reused is not None:
                state = replace(
                    reused, position=pos, status=StepStatus.REUSED, run_id=reused.run_id,
                    reason="outputs of an earlier run (not selected)"
                    if self.plan.resumed_from is None
                    else f"done before the failure in run {self.plan.resumed_from[:8]}",
                )  # fmt: skip
                self._take_outputs(name, state.outputs or {})
            elif name in self.plan.selected:
                state = StepState(step=name, position=pos, status=StepStatus.PENDING)
            else:
                continue
            self.states[name] = state
        record = PipelineRun(
            id=self.id,
            pipeline=pipe.name,
            status=RunState.RUNNING,
            trigger=trigger,
            executor=self.pool.url,
            definition_hash=pipe.definition_hash(),
            user=current_user(),
            started_at=now_ms(),
            run_id=self.parent_run_id,
            resumed_from=self.plan.resumed_from,
            steps=tuple(self.states.values()),
        )
        self.store.create_run(record)
        for state in self.states.values():
            self._emit(state)
        status = "FAILED"
        try:
            failure = self._loop()
            status = "FINISHED" if failure is None else "FAILED"
        except BaseException as exc:
            failure = StepFailure("(driver)", type(exc).__name__, str(exc), "", 1)
            status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
            self._abandon_all(failure)
            raise
        finally:
            tracking.end_run(self.parent_run_id, status, end_time=now_ms())  # type: ignore[arg-type]
            final = RunState.SUCCEEDED if status == "FINISHED" else RunState.FAILED
            self.finished = self.store.finish_run(self.id, final, failure=failure)
        return self.finished

    # --- the loop ----------------------------------------------------------------------------
    def _loop(self) -> StepFailure | None:
        flights: dict[cf.Future[Any], _Flight] = {}
        retries: list[tuple[float, str, int]] = []
        failure: StepFailure | None = None
        threads = cf.ThreadPoolExecutor(max_workers=4, thread_name_prefix="shipyard-driver")
        try:
            while True:
                now = time.monotonic()
                due = [r for r in retries if r[0] <= now]
                retries = [r for r in retries if r[0] > now]
                for _, name, attempt in due:
                    self._launch(name, attempt, flights, threads)
                ready = self._ready(flights, retries)
                while ready:  # cached steps finish at once and may make others ready
                    for name in ready:
                        self._launch(name, 1, flights, threads)
                    ready = self._ready(flights, retries)
                if not flights and not retries:
                    break
                waits = [r[0] - now for r in retries]
                waits += [f.deadline - now for f in flights.values() if f.deadline is not None]
                waits.append(self._beat())
                timeout = max(0.0, min(waits))
                done, _ = cf.wait(list(flights), timeout=timeout, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    flight = flights.pop(fut)
                    failure = self._land(fut, flight, retries) or failure
                now = time.monotonic()
                for fut, flight in list(flights.items()):
                    if flight.deadline is not None and now > flight.deadline:
                        fut.cancel()
                        flights.pop(fut)
                        timeout_s = self.pipe.step(flight.step).timeout_s or 0
                        exc = StepTimeout(
                            f"step {flight.step!r} ran longer than its timeout of {timeout_s:g}s"
                        )
                        failure = self._failed(flight, error_record(exc), None, retries) or failure
        finally:
            threads.shutdown(wait=False, cancel_futures=True)
        return failure

    def _beat(self) -> float:
        """Heartbeat the pipeline's tracked run when due (a driver that stops beating is
        taken for lost: see ``SqlPipelineRuns``); returns the seconds until the next beat."""
        interval = self.settings.heartbeat_interval_s
        now = time.monotonic()
        if now - self._last_beat >= interval:
            self._last_beat = now
            try:
                self.tracking.heartbeat(self.parent_run_id)
            except ShipyardError as exc:  # a missed beat must not fail the pipeline
                log.warning("pipeline run %s: heartbeat failed: %s", self.id[:8], exc)
        return max(0.0, self._last_beat + interval - now)

    def _ready(self, flights: Mapping[cf.Future[Any], _Flight], retries: list[Any]) -> list[str]:
        busy = {f.step for f in flights.values()} | {r[1] for r in retries}
        ready = []
        for name in self.plan.selected:
            state = self.states[name]
            if state.status != StepStatus.PENDING or name in busy:
                continue
            ups = [self.states[u].status for u in self.pipe.upstream[name]]
            if all(s.done for s in ups):
                ready.append(name)
        return ready

    def _inputs(self, step: StepDef) -> dict[str, Any]:
        return {
            param: self.outputs[f"{src}.{out}"]
            for param, (src, out) in self.pipe.wiring[step.name].items()
        }

    def _context(self, step: StepDef, inputs: Mapping[str, Any]) -> StepContext:
        return StepContext(
            pipeline=self.pipe.name,
            step=step.name,
            run_id=None,
            inputs=inputs,
            params=step.params,
            base_dir=self.pipe.base_dir or Path.cwd(),
            executor=self.pool.url,
        )

    def _launch(
        self,
        name: str,
        attempt: int,
        flights: dict[cf.Future[Any], _Flight],
        threads: cf.ThreadPoolExecutor,
    ) -> None:
        step = self.pipe.step(name)
        inputs = self._inputs(step)
        hashes = step_hashes(step, inputs, self._context(step, inputs), self._code[name])
        state = self.states[name]
        if attempt == 1:
            use_cache = hashes.cacheable and not self.no_cache
            hit = self.store.find_cached(self.pipe.name, name, hashes.key) if use_cache else None
            if hit is not None and hit.outputs is not None:
                self._cached(state, hashes, hit)
                return
            if self.no_cache:
                reason = "--no-cache"
            else:
                reason = why_rerun(step, hashes, self.store.last_done(self.pipe.name, name))
            state = replace(state, reason=reason)
        started = now_ms()
        state = replace(
            state,
            status=StepStatus.RUNNING,
            attempts=attempt,
            started_at=state.started_at or started,
            cache_key=hashes.key,
            code_hash=hashes.code,
            params_hash=hashes.params,
            inputs_hash=hashes.inputs,
        )
        self._set(state)
        if step.fn is not None:
            step = replace(step, fn=PortableFn(step.fn))
        task = StepTask(
            pipeline=self.pipe.name,
            step=step,
            inputs=inputs,
            settings=worker_settings(self.settings),
            experiment_id=self.experiment_id,
            parent_run_id=self.parent_run_id,
            base_dir=str(self.pipe.base_dir or Path.cwd()),
            search_path=self.pipe.search_path,
            executor=self.pool.url,
            attempt=attempt,
            tags={"shipyard.pipeline.run": self.id},
        )
        if step.uses is not None and step.builtin().driver:
            fut = threads.submit(execute, task, self.pool)
        else:
            fut = self.pool.submit(execute, task)
        deadline = None
        if step.timeout_s:
            grace = TIMEOUT_GRACE_S if "processes" in self.pool.capabilities else 0.0
            deadline = time.monotonic() + step.timeout_s + grace
        flights[fut] = _Flight(name, attempt, started, deadline, hashes)

    def _cached(self, state: StepState, hashes: StepHashes, hit: StepState) -> None:
        tracking = self.tracking
        run = tracking.create_run(
            self.experiment_id,
            name=state.step,
            parent_run_id=self.parent_run_id,
            tags={
                "shipyard.pipeline": self.pipe.name,
                "shipyard.pipeline.step": state.step,
                "shipyard.pipeline.cached": "true",
                "shipyard.pipeline.attempt": "0",
                "shipyard.pipeline.run": self.id,
                "shipyard.pipeline.cached_from": hit.run_id or "",
            },
        )
        tracking.end_run(run.run_id, "FINISHED")  # type: ignore[arg-type]
        ts = now_ms()
        done = replace(
            state,
            status=StepStatus.CACHED,
            reason=f"cached: unchanged since run {(hit.run_id or '?')[:8]}",
            cache_key=hashes.key,
            code_hash=hashes.code,
            params_hash=hashes.params,
            inputs_hash=hashes.inputs,
            outputs=hit.outputs,
            run_id=run.run_id,
            started_at=ts,
            ended_at=ts,
        )
        self._take_outputs(state.step, hit.outputs or {})
        self._set(done)

    def _land(
        self, fut: cf.Future[Any], flight: _Flight, retries: list[tuple[float, str, int]]
    ) -> StepFailure | None:
        try:
            result = fut.result()
        except BaseException as exc:
            return self._failed(flight, error_record(exc), None, retries)
        if "error" in result:
            return self._failed(flight, result["error"], result.get("run_id"), retries)
        state = replace(
            self.states[flight.step],
            status=StepStatus.SUCCEEDED,
            outputs=result["outputs"],
            run_id=result["run_id"],
            ended_at=now_ms(),
        )
        self._take_outputs(flight.step, result["outputs"])
        self._set(state)
        return None

    def _failed(
        self,
        flight: _Flight,
        error: Mapping[str, str],
        run_id: str | None,
        retries: list[tuple[float, str, int]],
    ) -> StepFailure | None:
        step = self.pipe.step(flight.step)
        failure = StepFailure(
            step=flight.step,
            error_type=error.get("type", "Error"),
            message=error.get("message", ""),
            traceback=error.get("traceback", ""),
            attempts=flight.attempt,
        )
        state = replace(self.states[flight.step], run_id=run_id, failure=failure)
        # a lost worker may not be the step's fault (a pool breaks under every task it ran):
        # it gets one attempt more than its retries, in a fresh process
        allowed = step.retries + (1 if failure.error_type == "WorkerLost" else 0)
        if flight.attempt <= allowed:
            delay = step.retry_backoff_s * 2 ** (flight.attempt - 1)
            retries.append((time.monotonic() + delay, flight.step, flight.attempt + 1))
            self._set(replace(state, reason=f"retry {flight.attempt + 1} in {delay:g}s"))
            return None
        self._set(replace(state, status=StepStatus.FAILED, ended_at=now_ms()))
        for below in self.pipe.downstream(flight.step):
            if below in self.states and self.states[below].status == StepStatus.PENDING:
                self._set(
                    replace(
                        self.states[below],
                        status=StepStatus.SKIPPED,
                        reason=f"upstream step {flight.step!r} failed",
                    )
                )
        return failure

    def _abandon_all(self, failure: StepFailure) -> None:
        for state in list(self.states.values()):
            if not state.status.final:
                self._set(replace(state, status=StepStatus.SKIPPED, reason="the run stopped"))

    def _take_outputs(self, step: str, outputs: Mapping[str, Any]) -> None:
        for key, value in outputs.items():
            self.outputs[f"{step}.{key}"] = value

    def _set(self, state: StepState) -> None:
        self.states[state.step] = state
        self.store.update_step(self.id, state)
        self._emit(state)

    def _emit(self, state: StepState) -> None:
        if self.on_event is not None:
            self.on_event(state)


def _experiment(tracking: TrackingService, name: str) -> int:
    try:
        return tracking.get_experiment(name).experiment_id
    except NotFound:
        try:
            return tracking.create_experiment(name).experiment_id
        except AlreadyExists:
            return tracking.get_experiment(name).experiment_id


def worker_settings(s: Settings) -> dict[str, str]:
    """What a worker needs to reach the same stores (URLs, home, token) and to read the same
    shipyard.yaml (``config``: a pooled or remote worker's own environment and folder may name
    another one, or none, and steps read sections of it, such as ``monitors:``)."""
    values = {
        "config": str(s.config_file) if s.config_file else "",
        "home": str(s.home),
        "tracking_uri": s.tracking_uri,
        "artifact_uri": s.artifact_uri,
        "online_store_uri": s.online_store_uri,
        "token": s.token,
    }
    return {k: v for k, v in values.items() if v}


__all__ = ["Driver", "Plan", "StepEvent", "plan_run", "worker_settings"]
