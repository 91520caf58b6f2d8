"""``SqlTriggers``: scheduler jobs and triggers on the metadata database."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from shipyard._util import now_ms
from shipyard.errors import InvalidArgument, NotFound
from shipyard.pipelines.scheduler.entities import STATES, Trigger
from shipyard.store.database import Database
from shipyard.store.schema import schedule_triggers, scheduler_jobs

tc = schedule_triggers.c
jc = scheduler_jobs.c


class SqlTriggers:
    """The :class:`~shipyard.pipelines.scheduler.service.TriggerStore` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def register_jobs(self, jobs: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
        """Insert unseen jobs (first seen now), refresh the spec of known ones."""
        now = now_ms()
        with self._db.begin() as conn:
            known = {
                r.job: int(r.registered_at)
                for r in conn.execute(
                    select(jc.job, jc.registered_at).where(jc.job.in_(list(jobs)))
                )
            }
            for name, spec in jobs.items():
                text = json.dumps(dict(spec), sort_keys=True)
                if name in known:
                    conn.execute(
                        update(scheduler_jobs)
                        .where(jc.job == name)
                        .values(spec_json=text, updated_at=now)
                    )
                else:
                    conn.execute(
                        insert(scheduler_jobs).values(
                            job=name, spec_json=text, registered_at=now, updated_at=now
                        )
                    )
                    known[name] = now
        return known

    def claim(self, job: str, slot: str, *, reason: str, owner: str) -> Trigger | None:
        """Insert the (job, slot) row; the unique constraint refuses a second claim."""
        now = now_ms()
        row = {
            "job": job,
            "slot": slot,
            "state": "running",
            "reason": reason,
            "owner": owner,
            "created_at": now,
            "started_at": now,
            "heartbeat_at": now,
        }
        try:
            with self._db.begin() as conn:
                key = conn.execute(insert(schedule_triggers).values(**row)).inserted_primary_key
                new_id = key[0] if key else None
        except IntegrityError:
            return None
        return _entity({**row, "id": new_id, "run_id": None, "error": None, "finished_at": None})

    def heartbeat(self, trigger_ids: Sequence[int]) -> None:
        if not trigger_ids:
            return
        with self._db.begin() as conn:
            conn.execute(
                update(schedule_triggers)
                .where(tc.id.in_(list(trigger_ids)), tc.state == "running")
                .values(heartbeat_at=now_ms())
            )

    def finish(
        self, trigger_id: int, *, state: str, run_id: str | None = None, error: str | None = None
    ) -> Trigger:
        if state not in STATES or state == "running":
            raise InvalidArgument(f"a trigger ends as one of {list(STATES[1:])}, not {state!r}")
        with self._db.begin() as conn:
            done = conn.execute(
                update(schedule_triggers)
                .where(tc.id == trigger_id)
                .values(state=state, run_id=run_id, error=error, finished_at=now_ms())
            )
            if done.rowcount == 0:
                raise NotFound(f"no trigger {trigger_id}")
        return self.get(trigger_id)

    def sweep(self, *, stale_after_ms: int) -> list[Trigger]:
        cutoff = now_ms() - int(stale_after_ms)
        with self._db.begin() as conn:
            ids = list(
                conn.execute(
                    select(tc.id).where(tc.state == "running", tc.heartbeat_at < cutoff)
                ).scalars()
            )
            if ids:
                conn.execute(
                    update(schedule_triggers)
                    .where(tc.id.in_(ids), tc.state == "running")
                    .values(
                        state="interrupted",
                        finished_at=now_ms(),
                        error="its scheduler stopped while it ran (no heartbeat); not re-run",
                    )
                )
        return [self.get(i) for i in ids]

    def list(
        self, *, job: str | None = None, state: str | None = None, limit: int = 100
    ) -> list[Trigger]:
        query = select(schedule_triggers).order_by(tc.created_at.desc(), tc.id.desc()).limit(limit)
        if job is not None:
            query = query.where(tc.job == job)
        if state is not None:
            query = query.where(tc.state == state)
        with self._db.read() as conn:
            return [_entity(r) for r in conn.execute(query).mappings()]

    def get(self, trigger_id: int) -> Trigger:
        with self._db.read() as conn:
            row = (
                conn.execute(select(schedule_triggers).where(tc.id == trigger_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no trigger {trigger_id}; `shipyard scheduler triggers` lists them")
        return _entity(row)

    def last_slot(self, job: str) -> str | None:
        with self._db.read() as conn:
            return conn.execute(
                select(tc.slot).where(tc.job == job).order_by(tc.id.desc()).limit(1)
            ).scalar()


def _entity(row: Mapping[str, Any] | RowMapping) -> Trigger:
    """The trigger of a ``schedule_triggers`` row (its columns are the entity's fields)."""
    return Trigger(**{f.name: row[f.name] for f in fields(Trigger)})
