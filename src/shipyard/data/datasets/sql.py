"""``SqlDatasetCatalog``: dataset versions on the metadata database (SQLite or PostgreSQL).

Each ``add_version`` is one transaction that locks the dataset's row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serializes writers), so concurrent ingests get
consecutive ``seq`` numbers and the same content recorded twice is one version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update
from sqlalchemy import exc as sa_exc

from shipyard._util import check_key, check_name, current_user, now_ms
from shipyard.artifacts.owners import dataset_owner
from shipyard.data.datasets.entities import Dataset, DatasetVersion
from shipyard.data.datasets.service import SNAPSHOT_FILE
from shipyard.errors import IntegrityError, InvalidArgument, NotFound
from shipyard.store.database import Database
from shipyard.store.schema import TAG_VALUE_MAX, artifacts, dataset_versions, datasets

dv = dataset_versions.c
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PREFIX = re.compile(r"^[0-9a-f]{6,64}$")
LATEST = "latest"


class SqlDatasetCatalog:
    """The :class:`~shipyard.data.datasets.service.DatasetCatalog` on SQL. Cheap to build."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_version(
        self,
        name: str,
        version: str,
        *,
        num_rows: int,
        num_bytes: int,
        schema: Mapping[str, str],
        profile: Mapping[str, Any],
        source: Mapping[str, Any],
        watermark: Any = None,
        parent: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> tuple[DatasetVersion, bool]:
        """Record an uploaded snapshot; see the protocol. Idempotent for the same content."""
        check_name(name, "dataset")
        if not isinstance(version, str) or not _SHA256.match(version):
            raise InvalidArgument(
                f"dataset version {version!r} is not a SHA-256 (64 lowercase hex digits)"
            )
        values = _version_values(
            num_rows, num_bytes, schema, profile, source, watermark, parent, description, tags
        )
        try:
            return self._add(name, version, values)
        except sa_exc.IntegrityError:  # a concurrent first ingest created the dataset row
            return self._add(name, version, values)

    def _add(self, name: str, version: str, values: dict[str, Any]) -> tuple[DatasetVersion, bool]:
        with self._db.begin() as conn:
            _check_snapshot(conn, name, version)
            now = now_ms()
            if not _lock_dataset(conn, name):
                conn.execute(
                    insert(datasets).values(
                        name=name, description="", created_at=now, updated_at=now
                    )
                )
            existing = (
                conn.execute(select(dataset_versions).where(dv.name == name, dv.version == version))
                .mappings()
                .first()
            )
            if existing is not None:
                return _entity(existing), False
            seq = conn.execute(select(func.max(dv.seq)).where(dv.name == name)).scalar() or 0
            row = {
                **values,
                "name": name,
                "version": version,
                "seq": seq + 1,
                "user": current_user(),
                "created_at": now,
            }
            conn.execute(insert(dataset_versions).values(**row))
            conn.execute(update(datasets).where(datasets.c.name == name).values(updated_at=now))
        return _entity(row), True

    def get_version(self, name: str, version: str | None = None) -> DatasetVersion:
        """A version by id, unique prefix, ``#N``, or the newest. Raises NotFound."""
        with self._db.read() as conn:
            return _entity(_find(conn, name, version))

    def list_versions(self, name: str) -> list[DatasetVersion]:
        """The dataset's versions, newest first. Raises NotFound for an unknown dataset."""
        with self._db.read() as conn:
            _require_dataset(conn, name)
            rows = conn.execute(
                select(dataset_versions).where(dv.name == name).order_by(dv.seq.desc())
            ).mappings()
            return [_entity(r) for r in rows]

    def list_datasets(self) -> list[Dataset]:
        """Every dataset, by name, with its newest version."""
        with self._db.read() as conn:
            counts: dict[str, int] = {
                name: count
                for name, count in conn.execute(select(dv.name, func.count()).group_by(dv.name))
            }
            newest = select(dv.name, func.max(dv.seq).label("seq")).group_by(dv.name).subquery()
            latest = {
                r["name"]: _entity(r)
                for r in conn.execute(
                    select(dataset_versions).join(
                        newest, (dv.name == newest.c.name) & (dv.seq == newest.c.seq)
                    )
                ).mappings()
            }
            rows = conn.execute(select(datasets).order_by(datasets.c.name)).mappings().all()
        return [
            Dataset(
                name=r["name"],
                description=r["description"],
                created_at=r["created_at"],
                updated_at=r["updated_at"],
                num_versions=counts.get(r["name"], 0),
                latest=latest.get(r["name"]),
            )
            for r in rows
        ]

    def delete_version(self, name: str, version: str) -> None:
        """Forget a version and its artifact rows. Raises NotFound."""
        with self._db.begin() as conn:
            found = _find(conn, name, version)
            conn.execute(
                delete(dataset_versions).where(dv.name == name, dv.version == found["version"])
            )
            owner = dataset_owner(name, found["version"])
            conn.execute(delete(artifacts).where(artifacts.c.owner == owner))


def _version_values(
    num_rows: int,
    num_bytes: int,
    schema: Mapping[str, str],
    profile: Mapping[str, Any],
    source: Mapping[str, Any],
    watermark: Any,
    parent: str | None,
    description: str,
    tags: Mapping[str, str] | None,
) -> dict[str, Any]:
    for label, count in (("num_rows", num_rows), ("num_bytes", num_bytes)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidArgument(f"{label} must be an integer >= 0, not {count!r}")
    if parent is not None and not _SHA256.match(str(parent)):
        raise InvalidArgument(f"parent {parent!r} is not a dataset version id (SHA-256)")
    if not isinstance(description, str):
        raise InvalidArgument("description must be a string")
    clean_tags = {}
    for key, value in (tags or {}).items():
        if not isinstance(value, str) or len(value) > TAG_VALUE_MAX:
            raise InvalidArgument(f"dataset tag {key!r} must be a string of <= {TAG_VALUE_MAX}")
        clean_tags[check_key(key, "dataset tag")] = value
    try:
        return {
            "num_rows": num_rows,
            "num_bytes": num_bytes,
            "schema_json": json.dumps(dict(schema)),
            "profile_json": json.dumps(dict(profile), allow_nan=False),
            "source_json": json.dumps(dict(source)),
            "watermark_json": None if watermark is None else json.dumps(watermark),
            "parent": parent,
            "description": description,
            "tags_json": json.dumps(clean_tags),
        }
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"dataset version metadata is not JSON: {exc}") from exc


def _check_snapshot(conn: Connection, name: str, version: str) -> None:
    owner = dataset_owner(name, version)
    stored = conn.execute(
        select(artifacts.c.sha256).where(
            artifacts.c.owner == owner, artifacts.c.path == SNAPSHOT_FILE
        )
    ).scalar()
    if stored is None:
        raise NotFound(
            f"no snapshot file for {name}@{version[:12]}: upload {SNAPSHOT_FILE} to artifact "
            f"owner {owner} before recording the version"
        )
    if stored != version:
        raise IntegrityError(
            f"the snapshot of {name}@{version[:12]} hashes to {stored}, not to its version id; "
            "a version id is the SHA-256 of its Parquet file"
        )


def _lock_dataset(conn: Connection, name: str) -> bool:
    query = select(datasets.c.name).where(datasets.c.name == name)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first() is not None


def _require_dataset(conn: Connection, name: str) -> None:
    if conn.execute(select(datasets.c.name).where(datasets.c.name == name)).first() is None:
        known = conn.execute(select(datasets.c.name).order_by(datasets.c.name)).scalars().all()
        hint = f"datasets are {list(known)}" if known else "there are no datasets yet"
        raise NotFound(
            f"no dataset {name!r}: {hint}; create one with `shipyard data ingest SOURCE "
            f"--name {name}`"
        )


def _find(conn: Connection, name: str, ref: str | None) -> RowMapping:
    check_name(name, "dataset")
    _require_dataset(conn, name)
    query = select(dataset_versions).where(dv.name == name)
    if ref is None or ref == LATEST:
        query = query.order_by(dv.seq.desc()).limit(1)
    elif isinstance(ref, str) and ref.startswith("#") and ref[1:].isdigit():
        query = query.where(dv.seq == int(ref[1:]))
    elif isinstance(ref, str) and _PREFIX.match(ref.lower()):
        query = query.where(dv.version.startswith(ref.lower(), autoescape=True)).limit(2)
    else:
        raise InvalidArgument(
            f"dataset version {ref!r} is not a version id: use its hex id (6+ digits), "
            f"'#N' for the N-th version or 'latest'"
        )
    rows = conn.execute(query).mappings().all()
    if not rows:
        raise NotFound(
            f"dataset {name!r} has no version {ref!r}; `shipyard data versions {name}` lists them"
        )
    if len(rows) > 1:
        raise InvalidArgument(
            f"dataset version prefix {ref!r} of {name!r} is ambiguous; give more digits"
        )
    return rows[0]


def _entity(row: Mapping[str, Any] | RowMapping) -> DatasetVersion:
    watermark = row["watermark_json"]
    return DatasetVersion(
        name=row["name"],
        version=row["version"],
        seq=row["seq"],
        num_rows=row["num_rows"],
        num_bytes=row["num_bytes"],
        schema=json.loads(row["schema_json"]),
        profile=json.loads(row["profile_json"]),
        source=json.loads(row["source_json"]),
        created_at=row["created_at"],
        user=row["user"],
        watermark=None if watermark is None else json.loads(watermark),
        parent=row["parent"],
        description=row["description"],
        tags=json.loads(row["tags_json"]),
    )
