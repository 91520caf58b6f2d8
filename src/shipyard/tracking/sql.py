"""``SqlTracking``: the tracking service on the metadata database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
import math
import random
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Row,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from shipyard._util import check_key, current_user, now_ms
from shipyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from shipyard.store import Database
from shipyard.store import schema as s
from shipyard.store.prepared import Prepared
from shipyard.tracking.entities import (
    DatasetInput,
    Experiment,
    Metric,
    Run,
    RunPage,
    RunStatus,
)
from shipyard.tracking.validation import check_metric, check_param, check_tag

DEFAULT_EXPERIMENT = "Default"
MAX_RESULTS = 50_000

_ADJECTIVES = (
    "amber",
    "brisk",
    "calm",
    "daring",
    "eager",
    "fair",
    "gentle",
    "hardy",
    "keen",
    "lucid",
    "merry",
    "nimble",
    "proud",
    "quiet",
    "rapid",
    "sturdy",
    "swift",
    "vivid",
)
_NOUNS = (
    "anchor",
    "beacon",
    "bow",
    "compass",
    "deck",
    "galley",
    "harbor",
    "hull",
    "keel",
    "mast",
    "rudder",
    "sail",
    "skiff",
    "stern",
    "tide",
    "wake",
    "whale",
    "wharf",
)


# Statements built once: building SQLAlchemy constructs costs more than running them on SQLite.
_RUN_BY_ID = select(s.runs).where(s.runs.c.run_id == bindparam("rid"))
_RUN_DELETED = Prepared(select(s.runs.c.deleted_at).where(s.runs.c.run_id == bindparam("rid")))
_INSERT_TAGS = Prepared(insert(s.tags), columns=["run_id", "key", "value"])
_INSERT_METRICS = Prepared(
    insert(s.metrics), columns=["run_id", "key", "value", "step", "timestamp"]
)
# A run is inserted only into a live (not deleted) experiment, in one statement.
_INSERT_RUN_IF_LIVE = Prepared(
    insert(s.runs)
    .from_select(
        [
            "run_id",
            "experiment_id",
            "name",
            "status",
            "parent_run_id",
            "user",
            "start_time",
            "end_time",
            "heartbeat_at",
        ],
        select(
            bindparam("rid", type_=String),
            s.experiments.c.experiment_id,
            bindparam("name", type_=String),
            literal(RunStatus.RUNNING.value, String),
            bindparam("parent", type_=String),
            bindparam("user", type_=String),
            bindparam("start", type_=BigInteger),
            null(),
            bindparam("start", type_=BigInteger),
        ).where(
            s.experiments.c.experiment_id == bindparam("eid"), s.experiments.c.deleted_at.is_(None)
        ),
    )
    .returning(s.runs.c.run_id)
)
_END_RUN = Prepared(
    update(s.runs)
    .where(s.runs.c.run_id == bindparam("rid"))
    .values(status=bindparam("st"), end_time=bindparam("et"), heartbeat_at=bindparam("hb"))
    .returning(s.runs.c.deleted_at)
)
_PARAMS_OF_RUN = select(s.params.c.key, s.params.c.value).where(
    s.params.c.run_id == bindparam("rid"), s.params.c.key.in_(bindparam("keys", expanding=True))
)


def random_run_name() -> str:
    """A readable name such as ``swift-keel-042`` for a run created without one."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randrange(1000):03d}"


def _value_for_db(value: float) -> float | None:
    return None if math.isnan(value) else value


class SqlTracking:
    """Tracking on SQLAlchemy Core. Every write is one transaction; reads use plain connections.

    ``stale_after_s``: a RUNNING run whose heartbeat is older than this is marked KILLED the next
    time runs are read (its process died without ending it).
    """

    def __init__(self, db: Database, *, stale_after_s: float = 60.0) -> None:
        self.db = db
        self.stale_after_s = stale_after_s
        self._last_reap = 0.0
        self._reap_lock = threading.Lock()
        self._latest_stmt: Prepared | None = None
        self._params_stmt: Prepared | None = None
        self._tags_stmt: Prepared | None = None

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()

    # experiments ------------------------------------------------------------------------------
    def create_experiment(self, name: str, *, tags: Mapping[str, str] | None = None) -> Experiment:
        name = _check_experiment_name(name)
        now = now_ms()
        try:
            with self.db.begin() as conn:
                exp_id = conn.execute(
                    insert(s.experiments).values(name=name, created_at=now, updated_at=now)
                ).inserted_primary_key[0]  # type: ignore[index]
                if tags:
                    rows = [
                        {
                            "experiment_id": exp_id,
                            "key": k,
                            "value": check_tag(k, v),
                        }
                        for k, v in tags.items()
                    ]
                    conn.execute(insert(s.experiment_tags), rows)
        except SAIntegrityError as exc:
            raise AlreadyExists(
                f"experiment {name!r} already exists; pick another name or use it as it is"
            ) from exc
        return self.get_experiment(int(exp_id))

    def get_experiment(self, ref: int | str) -> Experiment:
        with self.db.read() as conn:
            return self._experiment(conn, ref)

    def _experiment(self, conn: Connection, ref: int | str) -> Experiment:
        e = s.experiments
        cond = e.c.experiment_id == ref if isinstance(ref, int) else e.c.name == ref
        row = conn.execute(select(e).where(cond)).first()
        if row is None and isinstance(ref, str) and ref.isdigit():
            row = conn.execute(select(e).where(e.c.experiment_id == int(ref))).first()
        if row is None:
            names = conn.execute(select(e.c.name).where(e.c.deleted_at.is_(None))).scalars().all()
            raise NotFound(f"no experiment {ref!r}; existing: {', '.join(names) or 'none'}")
        tag_rows = conn.execute(
            select(s.experiment_tags.c.key, s.experiment_tags.c.value).where(
                s.experiment_tags.c.experiment_id == row.experiment_id
            )
        ).all()
        return _to_experiment(row, {k: v for k, v in tag_rows})

    def list_experiments(self, *, deleted: bool = False) -> list[Experiment]:
        e = s.experiments
        cond = e.c.deleted_at.is_not(None) if deleted else e.c.deleted_at.is_(None)
        with self.db.read() as conn:
            rows = conn.execute(select(e).where(cond).order_by(e.c.experiment_id)).all()
            tag_rows = conn.execute(select(s.experiment_tags)).all()
        by_exp: dict[int, dict[str, str]] = {}
        for t in tag_rows:
            by_exp.setdefault(t.experiment_id, {})[t.key] = t.value
        return [_to_experiment(r, by_exp.get(r.experiment_id, {})) for r in rows]

    def rename_experiment(self, experiment_id: int, new_name: str) -> Experiment:
        new_name = _check_experiment_name(new_name)
        try:
            with self.db.begin() as conn:
                self._experiment(conn, experiment_id)
                conn.execute(
                    update(s.experiments)
                    .where(s.experiments.c.experiment_id == experiment_id)
                    .values(name=new_name, updated_at=now_ms())
                )
        except SAIntegrityError as exc:
            raise AlreadyExists(f"experiment {new_name!r} already exists") from exc
        return self.get_experiment(experiment_id)

    def delete_experiment(self, experiment_id: int) -> None:
        self._set_experiment_deleted(experiment_id, now_ms())

    def restore_experiment(self, experiment_id: int) -> None:
        self._set_experiment_deleted(experiment_id, None)

    def _set_experiment_deleted(self, experiment_id: int, at: int | None) -> None:
        with self.db.begin() as conn:
            self._experiment(conn, experiment_id)
            conn.execute(
                update(s.experiments)
                .where(s.experiments.c.experiment_id == experiment_id)
                .values(deleted_at=at, updated_at=now_ms())
            )

    # runs -------------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: int,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        run_id = uuid.uuid4().hex
        start = start_time or now_ms()
        name = name or random_run_name()
        if len(name) > s.NAME_MAX:
            raise InvalidArgument(f"run name is {len(name)} characters; max {s.NAME_MAX}")
        tag_rows = _tag_rows(run_id, tags or {})
        with self.db.begin() as conn:
            if parent_run_id is not None:
                self._run_row(conn, parent_run_id)
            values = {
                "rid": run_id,
                "eid": experiment_id,
                "name": name,
                "parent": parent_run_id,
                "user": current_user(),
                "start": start,
            }
            if _INSERT_RUN_IF_LIVE.first(conn, values) is None:
                # The experiment is missing (NotFound, listing the existing ones) or deleted.
                exp = self._experiment(conn, experiment_id)
                raise Conflict(
                    f"experiment {exp.name!r} is deleted; restore it "
                    f"(shipyard experiments restore {experiment_id}) to add runs"
                )
            if tag_rows:
                _INSERT_TAGS.run_many(conn, tag_rows)
        return Run(
            run_id=run_id,
            experiment_id=experiment_id,
            name=name,
            status=RunStatus.RUNNING,
            user=current_user(),
            start_time=start,
            end_time=None,
            heartbeat_at=start,
            parent_run_id=parent_run_id,
            tags={r["key"]: r["value"] for r in tag_rows},
        )

    def _run_row(self, conn: Connection, run_id: str) -> Row[Any]:
        row = conn.execute(_RUN_BY_ID, {"rid": run_id}).first()
        if row is None:
            raise _missing_run(run_id)
        return row

    def get_run(self, run_id: str) -> Run:
        self._reap_stale()
        with self.db.read() as conn:
            row = self._run_row(conn, run_id)
            runs = self._hydrate(conn, [row])
        return runs[0]

    def end_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        end_time: int | None = None,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] = {},
        tags: Mapping[str, str] = {},
    ) -> None:
        status = RunStatus(status)
        now = now_ms()
        end = None if status is RunStatus.RUNNING else (end_time or now)
        batch = _Batch.of(run_id, metrics, params, tags)
        with self.db.begin() as conn:
            ended = _END_RUN.first(conn, {"rid": run_id, "st": status.value, "et": end, "hb": now})
            if ended is None:
                raise _missing_run(run_id)
            if batch:  # the update above told whether the run is deleted
                self._write_batch(conn, run_id, batch, deleted_at=ended[0])

    def heartbeat(self, run_id: str) -> None:
        with self.db.begin() as conn:
            done = conn.execute(
                update(s.runs).where(s.runs.c.run_id == run_id).values(heartbeat_at=now_ms())
            ).rowcount
        if not done:
            raise NotFound(f"no run {run_id!r}")

    def delete_run(self, run_id: str) -> None:
        self._set_run_deleted(run_id, now_ms())

    def restore_run(self, run_id: str) -> None:
        self._set_run_deleted(run_id, None)

    def _set_run_deleted(self, run_id: str, at: int | None) -> None:
        with self.db.begin() as conn:
            self._run_row(conn, run_id)
            conn.execute(update(s.runs).where(s.runs.c.run_id == run_id).values(deleted_at=at))

    def purge_deleted_runs(self, *, older_than_s: float, dry_run: bool = True) -> list[str]:
        """Permanently remove runs deleted (or whose experiment was deleted) over
        ``older_than_s`` ago: their params, metrics, tags, inputs and artifact rows.

        Model versions registered from them keep their own files. After a purge,
        ``shipyard gc`` can free the blobs nothing refers to any more. Returns the run ids.
        """
        cutoff = now_ms() - int(older_than_s * 1000)
        r, e = s.runs, s.experiments
        deleted_exps = select(e.c.experiment_id).where(e.c.deleted_at < cutoff)
        query = select(r.c.run_id).where(
            (r.c.deleted_at < cutoff) | r.c.experiment_id.in_(deleted_exps)
        )
        with self.db.read() as conn:
            run_ids = list(conn.execute(query).scalars())
        if dry_run or not run_ids:
            return run_ids
        for start in range(0, len(run_ids), 500):
            chunk = run_ids[start : start + 500]
            with self.db.begin() as conn:
                conn.execute(
                    delete(s.artifacts).where(s.artifacts.c.owner.in_([f"run:{i}" for i in chunk]))
                )
                for table in (s.metrics, s.latest_metrics, s.params, s.tags, s.run_inputs):
                    conn.execute(delete(table).where(table.c.run_id.in_(chunk)))
                conn.execute(delete(r).where(r.c.run_id.in_(chunk)))
        return run_ids

    # logging ----------------------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] = {},
        tags: Mapping[str, str] = {},
    ) -> None:
        batch = _Batch.of(run_id, metrics, params, tags)
        with self.db.begin() as conn:
            self._write_batch(conn, run_id, batch)

    def _write_batch(
        self, conn: Connection, run_id: str, batch: _Batch, *, deleted_at: Any = ...
    ) -> None:
        """Write a validated batch; ``deleted_at`` of the run when the caller already read it."""
        if deleted_at is ...:
            run = _RUN_DELETED.first(conn, {"rid": run_id})
            if run is None:
                raise _missing_run(run_id)
            deleted_at = run[0]
        if deleted_at is not None:
            raise Conflict(f"run {run_id} is deleted; restore it before logging to it")
        if batch.params:
            self._insert_params(conn, run_id, batch.params)
        if batch.tags:
            self._tags_upsert().run_many(conn, batch.tags)
        if batch.metrics:
            _INSERT_METRICS.run_many(conn, batch.metrics)
            self._update_latest(conn, batch.metrics)

    def _insert_params(self, conn: Connection, run_id: str, new: dict[str, str]) -> None:
        """Insert new params; the same value again is fine, another value is a Conflict.

        Usually every key is new: one INSERT … ON CONFLICT DO NOTHING, and the existing values
        are read only when some row was not inserted (or the driver cannot tell).
        """
        rows = [{"run_id": run_id, "key": k, "value": v} for k, v in new.items()]
        inserted = self._params_insert().run_many(conn, rows)
        if inserted == len(rows):
            return
        rows_now = conn.execute(_PARAMS_OF_RUN, {"rid": run_id, "keys": list(new)}).all()
        existing = {key: value for key, value in rows_now}
        for key, value in new.items():
            if existing.get(key, value) != value:
                raise Conflict(
                    f"param {key!r} of run {run_id} is already {existing[key]!r}; params "
                    f"cannot change (got {value!r}). Log it under another key or start a new run"
                )

    def _params_insert(self) -> Prepared:
        if self._params_stmt is None:
            self._params_stmt = Prepared(
                self._insert_for(s.params).on_conflict_do_nothing(index_elements=["run_id", "key"]),
                columns=["run_id", "key", "value"],
            )
        return self._params_stmt

    def _update_latest(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        latest: dict[str, dict[str, Any]] = {}
        for r in rows:
            cur = latest.get(r["key"])
            if cur is None or (r["step"], r["timestamp"]) >= (cur["step"], cur["timestamp"]):
                latest[r["key"]] = r
        self._latest_upsert().run_many(conn, list(latest.values()))

    def _latest_upsert(self) -> Prepared:
        """INSERT … ON CONFLICT that keeps the point with the largest (step, timestamp)."""
        if self._latest_stmt is None:
            lm = s.latest_metrics
            ins = self._insert_for(lm)
            excluded = ins.excluded
            newer = (excluded.step > lm.c.step) | and_(
                excluded.step == lm.c.step, excluded.timestamp >= lm.c.timestamp
            )
            self._latest_stmt = Prepared(
                ins.on_conflict_do_update(
                    index_elements=["run_id", "key"],
                    set_={
                        "value": excluded.value,
                        "step": excluded.step,
                        "timestamp": excluded.timestamp,
                    },
                    where=newer,
                ),
                columns=["run_id", "key", "value", "step", "timestamp"],
            )
        return self._latest_stmt

    def _insert_for(self, table: Any) -> Any:
        return (pg_insert if self.db.dialect == "postgresql" else sqlite_insert)(table)

    def _tags_upsert(self) -> Prepared:
        """INSERT … ON CONFLICT DO UPDATE: tags, unlike params, may be overwritten."""
        if self._tags_stmt is None:
            ins = self._insert_for(s.tags)
            self._tags_stmt = Prepared(
                ins.on_conflict_do_update(
                    index_elements=["run_id", "key"], set_={"value": ins.excluded.value}
                ),
                columns=["run_id", "key", "value"],
            )
        return self._tags_stmt

    def log_inputs(self, run_id: str, inputs: Sequence[DatasetInput]) -> None:
        now = now_ms()
        rows = [
            {
                "run_id": run_id,
                "name": check_key(i.name, "dataset"),
                "digest": i.digest,
                "source": i.source,
                "context": i.context,
                "num_rows": i.num_rows,
                "schema_json": json.dumps(dict(i.schema)) if i.schema else None,
                "logged_at": i.logged_at or now,
            }
            for i in inputs
        ]
        with self.db.begin() as conn:
            self._run_row(conn, run_id)
            if rows:
                ins = self._insert_for(s.run_inputs)
                conn.execute(ins.on_conflict_do_nothing(), rows)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        m = s.metrics
        with self.db.read() as conn:
            self._run_row(conn, run_id)
            rows = conn.execute(
                select(m.c.key, m.c.value, m.c.step, m.c.timestamp)
                .where(m.c.run_id == run_id, m.c.key == key)
                .order_by(m.c.step, m.c.timestamp, m.c.id)
            ).all()
        return [
            Metric(r.key, math.nan if r.value is None else r.value, r.step, r.timestamp)
            for r in rows
        ]

    # search -----------------------------------------------------------------------------------
    def search_runs(
        self,
        experiment_ids: Sequence[int],
        *,
        filter: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 1000,
        page_token: str | None = None,
        deleted: bool = False,
    ) -> RunPage:
        from shipyard.tracking import filter as flt

        if not 0 < max_results <= MAX_RESULTS:
            raise InvalidArgument(
                f"max_results must be between 1 and {MAX_RESULTS}, got {max_results}"
            )
        expr = flt.parse_filter(filter)
        orders, joins = flt.compile_order_by(flt.parse_order_by(order_by))
        offset = flt.decode_page_token(page_token) if page_token else 0
        self._reap_stale()
        r = s.runs
        source: Any = r
        for target, onclause in joins:
            source = source.outerjoin(target, onclause)
        query = (
            select(r)
            .select_from(source)
            .where(
                r.c.experiment_id.in_(list(experiment_ids)),
                r.c.deleted_at.is_not(None) if deleted else r.c.deleted_at.is_(None),
            )
        )
        if expr is not None:
            query = query.where(flt.compile_filter(expr))
        query = query.order_by(*orders).limit(max_results + 1).offset(offset)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
            more = len(rows) > max_results
            runs = self._hydrate(conn, rows[:max_results])
        token = flt.encode_page_token(offset + max_results) if more else None
        return RunPage(runs=runs, next_page_token=token)

    def _hydrate(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[Run]:
        """Turn run rows into Runs with params, latest metrics, tags and inputs (4 queries)."""
        if not rows:
            return []
        ids = [r.run_id for r in rows]
        params: dict[str, dict[str, str]] = {i: {} for i in ids}
        metrics: dict[str, dict[str, float]] = {i: {} for i in ids}
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        inputs: dict[str, list[DatasetInput]] = {i: [] for i in ids}
        for run_id, k, v in conn.execute(
            select(s.params.c.run_id, s.params.c.key, s.params.c.value).where(
                s.params.c.run_id.in_(ids)
            )
        ):
            params[run_id][k] = v
        lm = s.latest_metrics
        for run_id, k, v in conn.execute(
            select(lm.c.run_id, lm.c.key, lm.c.value).where(lm.c.run_id.in_(ids))
        ):
            metrics[run_id][k] = math.nan if v is None else v
        for run_id, k, v in conn.execute(
            select(s.tags.c.run_id, s.tags.c.key, s.tags.c.value).where(s.tags.c.run_id.in_(ids))
        ):
            tags[run_id][k] = v
        ri = s.run_inputs
        for i in conn.execute(select(ri).where(ri.c.run_id.in_(ids)).order_by(ri.c.logged_at)):
            inputs[i.run_id].append(
                DatasetInput(
                    name=i.name,
                    digest=i.digest,
                    source=i.source,
                    context=i.context,
                    num_rows=i.num_rows,
                    schema=json.loads(i.schema_json) if i.schema_json else None,
                    logged_at=i.logged_at,
                )
            )
        return [
            Run(
                run_id=r.run_id,
                experiment_id=r.experiment_id,
                name=r.name,
                status=self._status(r),
                user=r.user,
                start_time=r.start_time,
                end_time=r.end_time,
                heartbeat_at=r.heartbeat_at,
                parent_run_id=r.parent_run_id,
                deleted_at=r.deleted_at,
                params=params[r.run_id],
                metrics=metrics[r.run_id],
                tags=tags[r.run_id],
                inputs=tuple(inputs[r.run_id]),
            )
            for r in rows
        ]

    def _status(self, row: Row[Any]) -> RunStatus:
        status = RunStatus(row.status)
        if status is RunStatus.RUNNING and row.heartbeat_at < self._stale_cutoff():
            return RunStatus.KILLED
        return status

    def _stale_cutoff(self) -> int:
        return now_ms() - int(self.stale_after_s * 1000)

    def _reap_stale(self) -> None:
        """Mark RUNNING runs whose heartbeat went silent as KILLED (at most every few seconds)."""
        now = time.monotonic()
        if now - self._last_reap < min(5.0, self.stale_after_s / 4):
            return
        with self._reap_lock:
            self._last_reap = now
        r = s.runs
        cutoff = self._stale_cutoff()
        with self.db.read() as conn:
            stale = conn.execute(
                select(func.count())
                .select_from(r)
                .where(r.c.status == RunStatus.RUNNING.value, r.c.heartbeat_at < cutoff)
            ).scalar_one()
        if stale:
            with self.db.begin() as conn:
                conn.execute(
                    update(r)
                    .where(r.c.status == RunStatus.RUNNING.value, r.c.heartbeat_at < cutoff)
                    .values(status=RunStatus.KILLED.value, end_time=r.c.heartbeat_at)
                )


def _missing_run(run_id: str) -> NotFound:
    return NotFound(f"no run {run_id!r}; list runs with `shipyard runs list`")


def _check_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > s.NAME_MAX:
        raise InvalidArgument(f"experiment name must be 1-{s.NAME_MAX} characters, got {name!r}")
    return name


def _tag_rows(run_id: str, tags: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"run_id": run_id, "key": k, "value": check_tag(k, v)} for k, v in tags.items()]


def _metric_rows(run_id: str, metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    now = now_ms()
    rows = []
    for m in metrics:
        point = check_metric(m.key, m.value, m.step, m.timestamp)
        rows.append(
            {
                "run_id": run_id,
                "key": point.key,
                "value": _value_for_db(point.value),
                "step": point.step,
                "timestamp": point.timestamp or now,
            }
        )
    return rows


@dataclass(frozen=True)
class _Batch:
    """Validated rows of one batch: nothing is written unless all of it is valid."""

    metrics: list[dict[str, Any]]
    params: dict[str, str]
    tags: list[dict[str, Any]]

    @classmethod
    def of(
        cls,
        run_id: str,
        metrics: Sequence[Metric],
        params: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> _Batch:
        return cls(
            metrics=_metric_rows(run_id, metrics),
            params={str(k): check_param(k, v) for k, v in params.items()},
            tags=_tag_rows(run_id, tags),
        )

    def __bool__(self) -> bool:
        return bool(self.metrics or self.params or self.tags)


def _to_experiment(row: Row[Any], tags: dict[str, str]) -> Experiment:
    return Experiment(
        experiment_id=row.experiment_id,
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
        tags=tags,
    )


__all__ = ["DEFAULT_EXPERIMENT", "SqlTracking", "random_run_name"]
