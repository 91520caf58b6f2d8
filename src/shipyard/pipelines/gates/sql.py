"""``SqlGates``: gate results on the metadata database."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, delete, insert, select

from shipyard._util import current_user, now_ms
from shipyard.errors import InvalidArgument, NotFound
from shipyard.pipelines.gates.entities import Check, GateResult
from shipyard.store.database import Database
from shipyard.store.schema import gate_results, model_version_tags, model_versions

gc = gate_results.c
GATE_TAG = "shipyard.gate"
GATE_ID_TAG = "shipyard.gate_id"


class SqlGates:
    """The :class:`~shipyard.pipelines.gates.service.GateStore` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        model: str,
        version: int,
        *,
        champion_version: int | None,
        passed: bool,
        dataset: str | None,
        checks: Sequence[Check],
        config: dict[str, Any],
    ) -> GateResult:
        """Store a result and tag the version with it, in one transaction."""
        if not checks:
            raise InvalidArgument("a gate result needs at least one check")
        row = {
            "model": model,
            "version": int(version),
            "champion_version": champion_version,
            "passed": 1 if passed else 0,
            "dataset": dataset,
            "checks_json": json.dumps([c.to_dict() for c in checks], default=str),
            "config_json": json.dumps(config, default=str),
            "user": current_user(),
            "created_at": now_ms(),
        }
        with self._db.begin() as conn:
            found = conn.execute(
                select(model_versions.c.version).where(
                    model_versions.c.name == model,
                    model_versions.c.version == int(version),
                    model_versions.c.deleted_at.is_(None),
                )
            ).first()
            if found is None:
                raise NotFound(f"model {model}/{version} does not exist (or is deleted)")
            key = conn.execute(insert(gate_results).values(**row)).inserted_primary_key
            new_id = key[0] if key else None
            tags = {GATE_TAG: "passed" if passed else "failed", GATE_ID_TAG: str(new_id)}
            mt = model_version_tags.c
            conn.execute(
                delete(model_version_tags).where(
                    mt.name == model, mt.version == int(version), mt.key.in_(list(tags))
                )
            )
            conn.execute(
                insert(model_version_tags),
                [
                    {"name": model, "version": int(version), "key": k, "value": v}
                    for k, v in tags.items()
                ],
            )
        return _entity({**row, "id": new_id})

    def list(
        self, *, model: str | None = None, version: int | None = None, limit: int = 100
    ) -> list[GateResult]:
        """Results, newest first."""
        query = select(gate_results).order_by(gc.created_at.desc(), gc.id.desc()).limit(limit)
        if model is not None:
            query = query.where(gc.model == model)
        if version is not None:
            query = query.where(gc.version == int(version))
        with self._db.read() as conn:
            return [_entity(r) for r in conn.execute(query).mappings()]

    def get(self, result_id: int) -> GateResult:
        """One result. Raises NotFound."""
        with self._db.read() as conn:
            row = conn.execute(select(gate_results).where(gc.id == result_id)).mappings().first()
        if row is None:
            raise NotFound(f"no gate result {result_id}; `shipyard gate results MODEL` lists them")
        return _entity(row)


def _entity(row: Mapping[str, Any] | RowMapping) -> GateResult:
    return GateResult(
        id=int(row["id"]),
        model=row["model"],
        version=int(row["version"]),
        champion_version=row["champion_version"],
        passed=bool(row["passed"]),
        dataset=row["dataset"],
        checks=tuple(Check.from_dict(c) for c in json.loads(row["checks_json"])),
        config=json.loads(row["config_json"]),
        user=row["user"],
        created_at=int(row["created_at"]),
    )
