"""``SqlFeatureCatalog``: feature definitions and watermarks on the metadata database."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, delete, func, insert, select

from shipyard._util import current_user, now_ms
from shipyard.errors import InvalidArgument, NotFound
from shipyard.features.catalog import Applied, Materialization, StoredDefinition
from shipyard.features.definitions import KINDS
from shipyard.store.database import Database
from shipyard.store.schema import feature_definitions, feature_materializations

fd = feature_definitions.c
fm = feature_materializations.c


class SqlFeatureCatalog:
    """The :class:`~shipyard.features.catalog.FeatureCatalog` on SQL. Cheap to build."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def apply(self, specs: Sequence[tuple[str, str, Mapping[str, Any], str]]) -> list[Applied]:
        """Record definitions in one transaction; see the protocol."""
        rows = [_check(kind, name, spec, digest) for kind, name, spec, digest in specs]
        out = []
        with self._db.begin() as conn:
            for kind, name, spec_json, digest in rows:
                newest = _newest(conn, kind, name)
                if newest is not None and newest["spec_hash"] == digest:
                    out.append(Applied(kind, name, newest["version"], "unchanged"))
                    continue
                version = 1 if newest is None else newest["version"] + 1
                conn.execute(
                    insert(feature_definitions).values(
                        kind=kind,
                        name=name,
                        version=version,
                        spec_json=spec_json,
                        spec_hash=digest,
                        user=current_user(),
                        created_at=now_ms(),
                    )
                )
                out.append(Applied(kind, name, version, "created" if version == 1 else "updated"))
        return out

    def list_definitions(self, kind: str | None = None) -> list[StoredDefinition]:
        """The newest version of every definition, by kind and name."""
        newest = (
            select(fd.kind, fd.name, func.max(fd.version).label("version"))
            .group_by(fd.kind, fd.name)
            .subquery()
        )
        query = select(feature_definitions).join(
            newest,
            and_(
                fd.kind == newest.c.kind, fd.name == newest.c.name, fd.version == newest.c.version
            ),
        )
        if kind is not None:
            query = query.where(fd.kind == _kind(kind))
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(fd.kind, fd.name)).mappings().all()
        return [_entity(r) for r in rows]

    def get_definition(self, kind: str, name: str, version: int | None = None) -> StoredDefinition:
        """One definition, newest version by default. Raises NotFound."""
        with self._db.read() as conn:
            if version is None:
                row = _newest(conn, _kind(kind), name)
            else:
                row = (
                    conn.execute(
                        select(feature_definitions).where(
                            fd.kind == kind, fd.name == name, fd.version == version
                        )
                    )
                    .mappings()
                    .first()
                )
            if row is None:
                raise _not_found(conn, kind, name, version)
        return _entity(row)

    def history(self, kind: str, name: str) -> list[StoredDefinition]:
        """Every version, newest first. Raises NotFound."""
        with self._db.read() as conn:
            rows = (
                conn.execute(
                    select(feature_definitions)
                    .where(fd.kind == _kind(kind), fd.name == name)
                    .order_by(fd.version.desc())
                )
                .mappings()
                .all()
            )
            if not rows:
                raise _not_found(conn, kind, name, None)
        return [_entity(r) for r in rows]

    def get_materialization(self, view: str) -> Materialization | None:
        """The view's materialization state, or None."""
        with self._db.read() as conn:
            row = conn.execute(select(feature_materializations).where(fm.view == view)).mappings()
            found = row.first()
        return None if found is None else Materialization(**dict(found))

    def set_materialization(
        self, view: str, *, watermark_us: int | None, rows: int, online_store: str
    ) -> Materialization:
        """Record a finished materialization."""
        state = Materialization(view, watermark_us, rows, online_store, now_ms())
        with self._db.begin() as conn:
            conn.execute(delete(feature_materializations).where(fm.view == view))
            conn.execute(insert(feature_materializations).values(**state.__dict__))
        return state


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidArgument(f"definition kind {kind!r} is not one of {list(KINDS)}")
    return kind


def _check(kind: str, name: str, spec: Mapping[str, Any], digest: str) -> tuple[str, str, str, str]:
    from shipyard._util import check_name

    _kind(kind)
    check_name(name, kind)
    if not isinstance(digest, str) or len(digest) != 64:
        raise InvalidArgument(f"{kind} {name!r}: spec_hash must be a SHA-256 hex digest")
    try:
        return kind, name, json.dumps(dict(spec), sort_keys=True), digest
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{kind} {name!r}: the spec is not JSON: {exc}") from exc


def _newest(conn: Connection, kind: str, name: str) -> RowMapping | None:
    return (
        conn.execute(
            select(feature_definitions)
            .where(fd.kind == kind, fd.name == name)
            .order_by(fd.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )


def _not_found(conn: Connection, kind: str, name: str, version: int | None) -> NotFound:
    known = conn.execute(
        select(fd.name).where(fd.kind == kind).distinct().order_by(fd.name)
    ).scalars()
    names = list(known)
    what = f"{kind} {name!r}" + ("" if version is None else f" version {version}")
    hint = f"known: {names}" if names else "none applied yet"
    return NotFound(f"no {what} ({hint}); declare it and run `shipyard features apply`")


def _entity(row: Mapping[str, Any] | RowMapping) -> StoredDefinition:
    return StoredDefinition(
        kind=row["kind"],
        name=row["name"],
        version=row["version"],
        spec=json.loads(row["spec_json"]),
        spec_hash=row["spec_hash"],
        user=row["user"],
        created_at=row["created_at"],
    )
