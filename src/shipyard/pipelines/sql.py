"""``SqlPipelineRuns``: pipeline runs and step states on the metadata database."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, and_, insert, or_, select, update

from shipyard._util import now_ms
from shipyard.errors import AlreadyExists, InvalidArgument, NotFound
from shipyard.pipelines.entities import (
    PipelineRun,
    RunState,
    StepFailure,
    StepState,
    StepStatus,
)
from shipyard.store.database import Database
from shipyard.store.schema import pipeline_runs, pipeline_steps, runs

rc = pipeline_runs.c
sc = pipeline_steps.c
tc = runs.c
_DONE = [StepStatus.SUCCEEDED.value, StepStatus.CACHED.value]


class SqlPipelineRuns:
    """The :class:`~shipyard.pipelines.service.PipelineRunStore` on SQL.

    A driver heartbeats its pipeline's tracked run while it runs. A RUNNING pipeline run whose
    tracked run went silent for ``stale_after_s`` (or ended without the pipeline run being
    finished) lost its driver, killed or out of memory: reading runs marks it FAILED, its
    running steps FAILED and its pending ones SKIPPED, so ``--resume`` can continue it.
    """

    def __init__(self, db: Database, *, stale_after_s: float = 60.0) -> None:
        self._db = db
        self.stale_after_s = stale_after_s

    def create_run(self, run: PipelineRun) -> None:
        row = {
            "id": run.id,
            "pipeline": run.pipeline,
            "status": run.status.value,
            "trigger": run.trigger,
            "executor": run.executor,
            "run_id": run.run_id,
            "resumed_from": run.resumed_from,
            "definition_hash": run.definition_hash,
            "user": run.user,
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "error_json": None,
        }
        with self._db.begin() as conn:
            if conn.execute(select(rc.id).where(rc.id == run.id)).first() is not None:
                raise AlreadyExists(f"pipeline run {run.id} already exists")
            conn.execute(insert(pipeline_runs).values(**row))
            if run.steps:
                conn.execute(
                    insert(pipeline_steps), [_step_row(run.id, run.pipeline, s) for s in run.steps]
                )

    def update_step(self, run_id: str, state: StepState) -> None:
        values = _step_row(run_id, "", state)
        for key in ("pipeline_run_id", "step", "pipeline", "position"):
            values.pop(key)
        with self._db.begin() as conn:
            result = conn.execute(
                update(pipeline_steps)
                .where(sc.pipeline_run_id == run_id, sc.step == state.step)
                .values(**values)
            )
            if result.rowcount == 0:
                raise NotFound(f"pipeline run {run_id} has no step {state.step!r}")

    def finish_run(
        self, run_id: str, status: RunState, *, failure: StepFailure | None = None
    ) -> PipelineRun:
        error = json.dumps(failure.to_dict()) if failure else None
        with self._db.begin() as conn:
            result = conn.execute(
                update(pipeline_runs)
                .where(rc.id == run_id)
                .values(status=RunState(status).value, ended_at=now_ms(), error_json=error)
            )
            if result.rowcount == 0:
                raise NotFound(f"no pipeline run {run_id}")
        return self.get_run(run_id)

    def find_cached(self, pipeline: str, step: str, cache_key: str) -> StepState | None:
        return self._newest(
            sc.pipeline == pipeline,
            sc.step == step,
            sc.cache_key == cache_key,
            sc.status.in_(_DONE),
        )

    def last_done(self, pipeline: str, step: str) -> StepState | None:
        return self._newest(
            sc.pipeline == pipeline,
            sc.step == step,
            sc.status.in_([*_DONE, StepStatus.REUSED.value]),
            sc.outputs_json.is_not(None),
        )

    def _newest(self, *where: Any) -> StepState | None:
        query = (
            select(pipeline_steps)
            .where(*where)
            .order_by(sc.ended_at.desc().nulls_last(), sc.started_at.desc())
            .limit(1)
        )
        with self._db.read() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _step(row)

    def list_runs(self, *, pipeline: str | None = None, limit: int = 50) -> list[PipelineRun]:
        if limit < 1:
            raise InvalidArgument(f"limit must be >= 1, got {limit}")
        self._settle_lost()
        query = select(pipeline_runs).order_by(rc.started_at.desc(), rc.id.desc()).limit(limit)
        if pipeline is not None:
            query = query.where(rc.pipeline == pipeline)
        with self._db.read() as conn:
            rows = list(conn.execute(query).mappings())
            steps = self._steps(conn, [r["id"] for r in rows])
        return [_run(r, steps.get(r["id"], [])) for r in rows]

    def get_run(self, run_id: str) -> PipelineRun:
        if not run_id or len(run_id) > 32:
            raise InvalidArgument(f"{run_id!r} is not a pipeline run id")
        self._settle_lost()
        with self._db.read() as conn:
            rows = list(
                conn.execute(select(pipeline_runs).where(rc.id.startswith(run_id)).limit(2))
                .mappings()
                .all()
            )
            if len(rows) != 1 or (len(run_id) < 6 and rows[0]["id"] != run_id):
                what = "matches several runs" if len(rows) > 1 else "matches no run"
                raise NotFound(
                    f"pipeline run {run_id!r} {what}; `shipyard pipeline runs` lists them"
                )
            steps = self._steps(conn, [rows[0]["id"]])
        return _run(rows[0], steps.get(rows[0]["id"], []))

    def _settle_lost(self) -> None:
        """Mark RUNNING pipeline runs whose driver stopped beating as FAILED (see the class)."""
        cutoff = now_ms() - int(self.stale_after_s * 1000)
        silent = or_(tc.status != "RUNNING", tc.heartbeat_at < cutoff)
        query = (
            select(rc.id, tc.heartbeat_at)
            .join(runs, tc.run_id == rc.run_id)
            .where(rc.status == RunState.RUNNING.value, silent)
        )
        with self._db.read() as conn:
            lost = conn.execute(query).all()
        for pipeline_run, last_seen in lost:
            failure = StepFailure(
                "(driver)",
                "DriverLost",
                f"the process running this pipeline stopped (no sign of life for "
                f"{self.stale_after_s:g} s: killed, or out of memory); `shipyard run --resume "
                f"{pipeline_run[:8]}` continues it from the steps that succeeded",
                "",
                1,
            )
            with self._db.begin() as conn:
                done = conn.execute(
                    update(pipeline_runs)
                    .where(rc.id == pipeline_run, rc.status == RunState.RUNNING.value)
                    .values(
                        status=RunState.FAILED.value,
                        ended_at=last_seen,
                        error_json=json.dumps(failure.to_dict()),
                    )
                )
                if done.rowcount == 0:  # finished (or settled) in the meantime
                    continue
                for was, now in ((StepStatus.RUNNING, StepStatus.FAILED),
                                 (StepStatus.PENDING, StepStatus.SKIPPED)):  # fmt: skip
                    conn.execute(
                        update(pipeline_steps)
                        .where(and_(sc.pipeline_run_id == pipeline_run, sc.status == was.value))
                        .values(status=now.value, ended_at=last_seen, reason=failure.message)
                    )

    @staticmethod
    def _steps(conn: Any, ids: Sequence[str]) -> dict[str, list[StepState]]:
        if not ids:
            return {}
        query = (
            select(pipeline_steps)
            .where(sc.pipeline_run_id.in_(list(ids)))
            .order_by(sc.pipeline_run_id, sc.position)
        )
        out: dict[str, list[StepState]] = {}
        for row in conn.execute(query).mappings():
            out.setdefault(row["pipeline_run_id"], []).append(_step(row))
        return out


def _step_row(run_id: str, pipeline: str, s: StepState) -> dict[str, Any]:
    return {
        "pipeline_run_id": run_id,
        "step": s.step,
        "pipeline": pipeline,
        "position": s.position,
        "status": StepStatus(s.status).value,
        "cache_key": s.cache_key,
        "code_hash": s.code_hash,
        "params_hash": s.params_hash,
        "inputs_hash": s.inputs_hash,
        "reason": s.reason,
        "attempts": s.attempts,
        "outputs_json": None if s.outputs is None else json.dumps(s.outputs, sort_keys=True),
        "error_json": json.dumps(s.failure.to_dict()) if s.failure else None,
        "run_id": s.run_id,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
    }


def _step(row: Mapping[str, Any] | RowMapping) -> StepState:
    return StepState(
        step=row["step"],
        position=int(row["position"]),
        status=StepStatus(row["status"]),
        reason=row["reason"],
        attempts=int(row["attempts"]),
        cache_key=row["cache_key"],
        code_hash=row["code_hash"],
        params_hash=row["params_hash"],
        inputs_hash=row["inputs_hash"],
        outputs=json.loads(row["outputs_json"]) if row["outputs_json"] else None,
        failure=StepFailure.from_dict(json.loads(row["error_json"])) if row["error_json"] else None,
        run_id=row["run_id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
    )


def _run(row: Mapping[str, Any] | RowMapping, steps: list[StepState]) -> PipelineRun:
    return PipelineRun(
        id=row["id"],
        pipeline=row["pipeline"],
        status=RunState(row["status"]),
        trigger=row["trigger"],
        executor=row["executor"],
        definition_hash=row["definition_hash"],
        user=row["user"],
        started_at=int(row["started_at"]),
        run_id=row["run_id"],
        resumed_from=row["resumed_from"],
        ended_at=row["ended_at"],
        failure=StepFailure.from_dict(json.loads(row["error_json"])) if row["error_json"] else None,
        steps=tuple(steps),
    )


__all__ = ["SqlPipelineRuns"]
