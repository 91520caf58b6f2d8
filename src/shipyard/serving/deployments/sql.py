"""``SqlDeployments``: deployment records on the metadata database."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, insert, select

from shipyard._util import check_name, current_user, now_ms
from shipyard.errors import InvalidArgument, NotFound
from shipyard.serving.deployments.entities import TARGETS, Deployment, Policy
from shipyard.store.database import Database
from shipyard.store.schema import deployments, model_versions

dc = deployments.c


class SqlDeployments:
    """The :class:`~shipyard.serving.deployments.service.DeploymentService` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        name: str,
        *,
        model: str,
        version: int,
        ref: str,
        policy: Policy,
        target: str,
        endpoint: str = "",
        feature_service: str | None = None,
        note: str = "",
    ) -> Deployment:
        """Record a deployment of an existing model version."""
        check_name(name, "deployment")
        if target not in TARGETS:
            raise InvalidArgument(f"deployment target {target!r} is not one of {list(TARGETS)}")
        if not isinstance(policy, Policy):
            raise InvalidArgument("policy must be a Policy")
        row = {
            "name": name,
            "model": model,
            "version": int(version),
            "ref": str(ref),
            "policy_json": json.dumps(policy.to_dict()),
            "target": target,
            "endpoint": str(endpoint),
            "feature_service": feature_service,
            "note": str(note),
            "user": current_user(),
            "created_at": now_ms(),
        }
        with self._db.begin() as conn:
            exists = conn.execute(
                select(model_versions.c.version).where(
                    model_versions.c.name == model,
                    model_versions.c.version == int(version),
                    model_versions.c.deleted_at.is_(None),
                )
            ).first()
            if exists is None:
                raise NotFound(
                    f"model {model}/{version} does not exist (or is deleted); register it first"
                )
            result = conn.execute(insert(deployments).values(**row))
            new_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        return _entity({**row, "id": new_id})

    def list(self, *, name: str | None = None, model: str | None = None) -> list[Deployment]:
        """Deployments, newest first."""
        query = select(deployments).order_by(dc.created_at.desc(), dc.id.desc())
        if name is not None:
            query = query.where(dc.name == name)
        if model is not None:
            query = query.where(dc.model == model)
        with self._db.read() as conn:
            return [_entity(r) for r in conn.execute(query).mappings()]

    def get(self, deployment_id: int) -> Deployment:
        """One deployment. Raises NotFound."""
        with self._db.read() as conn:
            row = conn.execute(select(deployments).where(dc.id == deployment_id)).mappings().first()
        if row is None:
            raise NotFound(f"no deployment {deployment_id}; `shipyard deployments list` shows them")
        return _entity(row)


def _entity(row: Mapping[str, Any] | RowMapping) -> Deployment:
    return Deployment(
        id=int(row["id"]),
        name=row["name"],
        model=row["model"],
        version=int(row["version"]),
        ref=row["ref"],
        policy=Policy.from_dict(json.loads(row["policy_json"])),
        target=row["target"],
        endpoint=row["endpoint"],
        user=row["user"],
        created_at=int(row["created_at"]),
        feature_service=row["feature_service"],
        note=row["note"],
    )
