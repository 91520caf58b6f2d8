"""``SqlRegistry``: the model registry on the metadata database (SQLite or PostgreSQL).

Every write is one transaction. Writes that depend on a model's current state (a new version
number, an alias move, a delete that must see no alias) first lock the model's row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serializes
writers), so concurrent registrations get distinct consecutive numbers and an alias never
points at a deleted version.

Decisions worth knowing:

* Version numbers are ``max + 1`` over all versions, deleted ones included: a number is
  never reused.
* ``delete_version`` is a soft delete and idempotent (deleting a deleted version is a no-op);
  ``restore_version`` likewise. Deleted versions keep their artifact rows.
* ``tags=`` in the update calls merges: the given keys are set, others are kept.
* ``list_versions(deleted=True)`` lists deleted versions *as well*, newest first.
"""

from __future__ import annotations

import difflib
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    Table,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from shipyard._util import check_key, check_name, current_user, now_ms
from shipyard.artifacts.owners import model_owner, run_owner
from shipyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from shipyard.registry.entities import AliasEvent, ModelVersion, RegisteredModel
from shipyard.registry.uri import LATEST, check_alias
from shipyard.store.database import Database
from shipyard.store.schema import (
    TAG_VALUE_MAX,
    alias_events,
    artifacts,
    model_aliases,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
    runs,
)

FLAVOR_MAX = 64

mv = model_versions.c


class SqlRegistry:
    """The :class:`~shipyard.registry.service.RegistryService` on SQL. Cheap to build.

    >>> from shipyard.store import Database
    >>> reg = SqlRegistry(Database("sqlite:///:memory:"))
    >>> reg.create_model("churn").name
    'churn'
    >>> reg.get_model("churn").latest_version is None
    True
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # models -----------------------------------------------------------------------------------
    def create_model(
        self, name: str, *, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        """Register a model with no versions yet.

        Returns it. Raises AlreadyExists (name taken), InvalidArgument (bad name or tags).
        """
        check_name(name, "model")
        _check_text(description, "description")
        clean = _check_tags(tags, "model")
        now = now_ms()
        try:
            with self._db.begin() as conn:
                if _model_exists(conn, name):
                    raise _model_exists_error(name)
                conn.execute(
                    insert(registered_models).values(
                        name=name, description=description, created_at=now, updated_at=now
                    )
                )
                _set_model_tags(conn, name, clean)
        except sa_exc.IntegrityError as exc:  # a concurrent create won the race
            raise _model_exists_error(name) from exc
        return RegisteredModel(name, description, now, now, clean, {}, None)

    def get_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and newest non-deleted version. Raises NotFound."""
        with self._db.read() as conn:
            found = _load_models(conn, name)
            if not found:
                raise _no_model(conn, name)
        return found[0]

    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, by name."""
        with self._db.read() as conn:
            return _load_models(conn, None)

    def update_model(
        self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        """Change the description and/or set tags (merged). Returns the model. Raises NotFound."""
        if description is not None:
            _check_text(description, "description")
        clean = _check_tags(tags, "model")
        with self._db.begin() as conn:
            _lock_model(conn, name)
            values: dict[str, Any] = {"updated_at": now_ms()}
            if description is not None:
                values["description"] = description
            conn.execute(
                update(registered_models).where(registered_models.c.name == name).values(values)
            )
            _set_model_tags(conn, name, clean)
            return _load_models(conn, name)[0]

    # versions ---------------------------------------------------------------------------------
    def create_version(
        self,
        name: str,
        *,
        run_id: str,
        artifact_path: str,
        flavor: str,
        signature: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Register run ``run_id``'s files under ``artifact_path`` as the model's next version.

        Creates the model if needed; shares the files with owner ``model:<name>/<version>``
        (``artifact_path/`` stripped, no bytes copied). Returns the version. Raises NotFound
        (run, or no files under that path), InvalidArgument.
        """
        check_name(name, "model")
        path = _check_artifact_path(artifact_path)
        if not isinstance(run_id, str) or not run_id:
            raise InvalidArgument(f"run_id must be a non-empty string, got {run_id!r}")
        row: dict[str, Any] = {
            "name": name,
            "run_id": run_id,
            "source": f"runs:/{run_id}/{path}",
            "flavor": _check_flavor(flavor),
            "description": _check_text(description, "description"),
            "signature_json": _signature_json(signature),
            "metrics_json": _metrics_json(metrics),
            "user": current_user(),
            "created_at": now_ms(),
        }
        clean = _check_tags(tags, "model version")
        with self._db.begin() as conn:
            _require_run_files(conn, run_id, path)
            row["version"] = version = _allocate_version(conn, name, row["created_at"])
            conn.execute(insert(model_versions).values(row))
            _set_version_tags(conn, name, version, clean)
            _share_files(conn, run_id, path, model_owner(name, version), row["created_at"])
        return _version_entity(row, clean, ())

    def get_version(self, name: str, version: int) -> ModelVersion:
        """One version (deleted ones too) with its tags and aliases. Raises NotFound."""
        _check_version(version)
        with self._db.read() as conn:
            return _get_version(conn, name, version)

    def list_versions(self, name: str, *, deleted: bool = False) -> list[ModelVersion]:
        """The model's versions, newest first; deleted ones are included with ``deleted=True``.

        Raises NotFound for an unknown model.
        """
        with self._db.read() as conn:
            _require_model(conn, name)
            return _load_versions(conn, name, deleted=deleted)

    def update_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Change a version's description and/or set tags (merged). Raises NotFound."""
        _check_version(version)
        if description is not None:
            _check_text(description, "description")
        clean = _check_tags(tags, "model version")
        with self._db.begin() as conn:
            _lock_model(conn, name)
            _deleted_at(conn, name, version)
            if description is not None:
                conn.execute(
                    update(model_versions)
                    .where(mv.name == name, mv.version == version)
                    .values(description=description)
                )
            _set_version_tags(conn, name, version, clean)
            return _get_version(conn, name, version)

    def delete_version(self, name: str, version: int) -> None:
        """Soft-delete a version (a no-op if it already is).

        Raises NotFound, and Conflict while an alias points at it.
        """
        _check_version(version)
        with self._db.begin() as conn:
            _lock_model(conn, name)
            if _deleted_at(conn, name, version) is not None:
                return
            pointing = _aliases_of(conn, name, version)
            if pointing:
                raise _aliased_error(name, version, pointing)
            _set_deleted(conn, name, version, now_ms())

    def restore_version(self, name: str, version: int) -> None:
        """Undo ``delete_version`` (a no-op on a version that is not deleted). Raises NotFound."""
        _check_version(version)
        with self._db.begin() as conn:
            _lock_model(conn, name)
            if _deleted_at(conn, name, version) is not None:
                _set_deleted(conn, name, version, None)

    # aliases ----------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version`` and record the move; the same target records nothing.

        Raises InvalidArgument (bad, all-digit or reserved alias), NotFound (model or version),
        Conflict (version deleted).
        """
        check_alias(alias)
        _check_version(version)
        with self._db.begin() as conn:
            _lock_model(conn, name)
            if _deleted_at(conn, name, version) is not None:
                raise Conflict(
                    f"version {version} of model {name!r} is deleted; restore it "
                    f"(restore_version) before pointing alias {alias!r} at it"
                )
            current = _alias_target(conn, name, alias)
            if current == version:
                return
            _upsert(
                conn,
                model_aliases,
                [{"name": name, "alias": alias, "version": version}],
                keys=("name", "alias"),
                cols=("version",),
            )
            _record_move(conn, name, alias, current, version)

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``alias`` and record it in the history. Raises NotFound (model or alias)."""
        check_alias(alias)
        with self._db.begin() as conn:
            _lock_model(conn, name)
            current = _alias_target(conn, name, alias)
            if current is None:
                raise _no_alias(conn, name, alias)
            conn.execute(
                delete(model_aliases).where(
                    model_aliases.c.name == name, model_aliases.c.alias == alias
                )
            )
            _record_move(conn, name, alias, current, None)

    def resolve(
        self,
        name: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        at: int | None = None,
    ) -> ModelVersion:
        """The version named by number, by alias, or the newest (neither, or ``latest``).

        With ``at`` (ms), the version ``alias`` pointed to at that time. Raises NotFound naming
        what is missing (model, version, alias, or a deleted version), InvalidArgument.
        """
        number = _check_resolve_args(version, alias, at)
        with self._db.read() as conn:
            _require_model(conn, name)
            if number is None:
                if alias is None or alias.lower() == LATEST:
                    number = _latest(conn, name)
                elif at is None:
                    number = _alias_target(conn, name, alias)
                    if number is None:
                        raise _no_alias(conn, name, alias)
                else:
                    number = _alias_target_at(conn, name, alias, at)
            found = _get_version(conn, name, number)
        if found.deleted:
            raise NotFound(
                f"version {number} of model {name!r} is deleted; restore it with "
                f"restore_version({name!r}, {number}) to use it again"
            )
        return found

    def alias_history(self, name: str, *, alias: str | None = None) -> list[AliasEvent]:
        """Every move of the model's aliases (or of one alias), oldest first.

        Raises NotFound for an unknown model, or an alias that never existed.
        """
        with self._db.read() as conn:
            _require_model(conn, name)
            query = select(alias_events).where(alias_events.c.name == name)
            if alias is not None:
                query = query.where(alias_events.c.alias == alias)
            rows = conn.execute(query.order_by(alias_events.c.at, alias_events.c.id)).all()
            if alias is not None and not rows:
                raise _no_alias(conn, name, alias)
        return [
            AliasEvent(r.name, r.alias, r.from_version, r.to_version, r.user, r.at) for r in rows
        ]


# --- validation ---------------------------------------------------------------------------------


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string, got {type(value).__name__}")
    return value


def _check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidArgument(f"version must be a whole number from 1 up, got {version!r}")
    return version


def _check_flavor(flavor: object) -> str:
    if not isinstance(flavor, str) or not flavor or len(flavor) > FLAVOR_MAX:
        raise InvalidArgument(
            f"flavor must be a non-empty string of at most {FLAVOR_MAX} characters "
            f"(e.g. 'sklearn'), got {flavor!r}"
        )
    return flavor


def _check_artifact_path(path: object) -> str:
    if not isinstance(path, str):
        raise InvalidArgument(f"artifact_path must be a string, got {path!r}")
    clean = path.strip("/")
    if not clean or any(part in ("", ".", "..") for part in clean.split("/")):
        raise InvalidArgument(
            f"artifact_path {path!r} must name the run folder the model was logged to, "
            "e.g. 'model' (no empty, '.' or '..' parts)"
        )
    return clean


def _check_tags(tags: Mapping[str, str] | None, what: str) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key, value in (tags or {}).items():
        check_key(key, f"{what} tag")
        if not isinstance(value, str) or len(value) > TAG_VALUE_MAX:
            raise InvalidArgument(
                f"{what} tag {key!r} must have a string value of at most {TAG_VALUE_MAX} "
                f"characters, got {type(value).__name__} {str(value)[:40]!r}"
            )
        clean[key] = value
    return clean


def _signature_json(signature: Mapping[str, Any] | None) -> str | None:
    if signature is None:
        return None
    if not isinstance(signature, Mapping):
        raise InvalidArgument(f"signature must be a mapping, got {type(signature).__name__}")
    try:
        return json.dumps(dict(signature), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"signature must be plain JSON data: {exc}") from exc


def _metrics_json(metrics: Mapping[str, float] | None) -> str | None:
    if metrics is None:
        return None
    clean: dict[str, float] = {}
    for key, value in metrics.items():
        check_key(key, "metric")
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value):
            raise InvalidArgument(
                f"metric {key!r} of a model version must be a finite number, got {value!r}"
            )
        clean[key] = float(value)
    return json.dumps(clean, sort_keys=True)


def _check_resolve_args(version: int | None, alias: str | None, at: int | None) -> int | None:
    if version is not None and alias is not None:
        raise InvalidArgument(f"give a version or an alias, not both (got {version}, {alias!r})")
    if version is not None:
        _check_version(version)
    latest = alias is None or alias.lower() == LATEST
    if not latest:
        check_alias(alias)
    if at is not None:
        if latest:
            raise InvalidArgument(
                "'at' only applies to an alias (which version it pointed to at that time), "
                "not to a version number or latest"
            )
        if isinstance(at, bool) or not isinstance(at, int):
            raise InvalidArgument(f"at must be milliseconds since the epoch, got {at!r}")
    return version


# --- models -------------------------------------------------------------------------------------


def _model_exists(conn: Connection, name: str) -> bool:
    query = select(registered_models.c.name).where(registered_models.c.name == name)
    return conn.execute(query).first() is not None


def _require_model(conn: Connection, name: str) -> None:
    if not _model_exists(conn, name):
        raise _no_model(conn, name)


def _lock_model(conn: Connection, name: str) -> None:
    """Lock the model's row until the transaction ends (no-op lock on SQLite). NotFound."""
    query = (
        select(registered_models.c.name).where(registered_models.c.name == name).with_for_update()
    )
    if conn.execute(query).first() is None:
        raise _no_model(conn, name)


def _no_model(conn: Connection, name: str) -> NotFound:
    names = list(conn.execute(select(registered_models.c.name)).scalars())
    close = difflib.get_close_matches(str(name), names, n=3)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    elif names:
        hint = "list_models() shows the registered ones"
    else:
        hint = "no model is registered yet; register one with create_version"
    return NotFound(f"model {name!r} does not exist; {hint}")


def _model_exists_error(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"model {name!r} already exists; change it with update_model or add a version with "
        "create_version"
    )


def _load_models(conn: Connection, name: str | None) -> list[RegisteredModel]:
    """Models (all, or the one named) with tags, aliases and latest version: 4 queries."""

    def only(table: Table) -> Any:
        query = select(table)
        return query if name is None else query.where(table.c.name == name)

    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for r in conn.execute(only(registered_model_tags)):
        tags[r.name][r.key] = r.value
    aliases: dict[str, dict[str, int]] = defaultdict(dict)
    for r in conn.execute(only(model_aliases).order_by(model_aliases.c.alias)):
        aliases[r.name][r.alias] = r.version
    latest_q = select(mv.name, func.max(mv.version)).where(mv.deleted_at.is_(None))
    if name is not None:
        latest_q = latest_q.where(mv.name == name)
    latest: dict[str, int] = {n: v for n, v in conn.execute(latest_q.group_by(mv.name))}
    rows = conn.execute(only(registered_models).order_by(registered_models.c.name))
    return [
        RegisteredModel(
            r.name,
            r.description,
            r.created_at,
            r.updated_at,
            tags.get(r.name, {}),
            aliases.get(r.name, {}),
            latest.get(r.name),
        )
        for r in rows
    ]


def _set_model_tags(conn: Connection, name: str, tags: Mapping[str, str]) -> None:
    rows = [{"name": name, "key": k, "value": v} for k, v in tags.items()]
    _upsert(conn, registered_model_tags, rows, keys=("name", "key"), cols=("value",))


# --- versions -----------------------------------------------------------------------------------


def _require_run_files(conn: Connection, run_id: str, path: str) -> None:
    if conn.execute(select(runs.c.run_id).where(runs.c.run_id == run_id)).first() is None:
        raise NotFound(f"run {run_id!r} does not exist; register a model from a logged run's id")
    query = select(artifacts.c.path).where(*_under(run_id, path)).limit(1)
    if conn.execute(query).first() is None:
        raise NotFound(
            f"run {run_id!r} has no artifacts under {path + '/'!r}; {_run_folders(conn, run_id)}"
        )


def _run_folders(conn: Connection, run_id: str) -> str:
    query = select(artifacts.c.path).where(artifacts.c.owner == run_owner(run_id)).limit(1000)
    tops = sorted({p.split("/", 1)[0] for p in conn.execute(query).scalars()})
    if not tops:
        return "the run has no artifacts at all: log the model to it first"
    return "pass the folder the model was logged to; the run has: " + ", ".join(tops[:20])


def _under(run_id: str, path: str) -> tuple[ColumnElement[bool], ...]:
    return (
        artifacts.c.owner == run_owner(run_id),
        artifacts.c.path.startswith(path + "/", autoescape=True),
    )


def _allocate_version(conn: Connection, name: str, now: int) -> int:
    """Create the model if missing, lock its row, and return max(version) + 1."""
    row = {"name": name, "description": "", "created_at": now, "updated_at": now}
    conn.execute(_dialect_insert(conn, registered_models).values(row).on_conflict_do_nothing())
    # The UPDATE takes the row lock on PostgreSQL: concurrent registrations queue here, and
    # the max() below (a new snapshot under READ COMMITTED) sees every committed version.
    conn.execute(
        update(registered_models).where(registered_models.c.name == name).values(updated_at=now)
    )
    top = conn.execute(select(func.max(mv.version)).where(mv.name == name)).scalar()
    return int(top or 0) + 1


def _share_files(conn: Connection, run_id: str, path: str, owner: str, now: int) -> None:
    """Copy the run's rows under ``path/`` to ``owner`` with the prefix stripped, in SQL."""
    src = artifacts.c
    query = select(
        literal(owner, String),
        func.substr(src.path, len(path) + 2),
        src.sha256,
        src.size,
        literal(now),
    ).where(*_under(run_id, path))
    conn.execute(
        insert(artifacts).from_select(["owner", "path", "sha256", "size", "created_at"], query)
    )


def _set_version_tags(conn: Connection, name: str, version: int, tags: Mapping[str, str]) -> None:
    rows = [{"name": name, "version": version, "key": k, "value": v} for k, v in tags.items()]
    _upsert(conn, model_version_tags, rows, keys=("name", "version", "key"), cols=("value",))


def _deleted_at(conn: Connection, name: str, version: int) -> int | None:
    """When the version was deleted (None: it is live). Raises NotFound if there is none."""
    query = select(mv.version, mv.deleted_at).where(mv.name == name, mv.version == version)
    row = conn.execute(query).first()
    if row is None:
        raise _no_version(conn, name, version)
    return None if row.deleted_at is None else int(row.deleted_at)


def _get_version(conn: Connection, name: str, version: int) -> ModelVersion:
    found = _load_versions(conn, name, version=version, deleted=True)
    if not found:
        _require_model(conn, name)
        raise _no_version(conn, name, version)
    return found[0]


def _load_versions(
    conn: Connection, name: str, *, version: int | None = None, deleted: bool
) -> list[ModelVersion]:
    """Versions of ``name`` (one, or all), newest first, with tags and aliases: 3 queries."""
    where: list[ColumnElement[bool]] = [mv.name == name]
    if version is not None:
        where.append(mv.version == version)
    elif not deleted:
        where.append(mv.deleted_at.is_(None))
    tag_q = select(model_version_tags).where(model_version_tags.c.name == name)
    alias_q = select(model_aliases).where(model_aliases.c.name == name)
    if version is not None:
        tag_q = tag_q.where(model_version_tags.c.version == version)
        alias_q = alias_q.where(model_aliases.c.version == version)
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for r in conn.execute(tag_q):
        tags[r.version][r.key] = r.value
    aliases: dict[int, list[str]] = defaultdict(list)
    for r in conn.execute(alias_q.order_by(model_aliases.c.alias)):
        aliases[r.version].append(r.alias)
    rows = conn.execute(select(model_versions).where(*where).order_by(mv.version.desc()))
    return [
        _version_entity(r._mapping, tags.get(r.version, {}), tuple(aliases.get(r.version, ())))
        for r in rows
    ]


def _version_entity(
    row: Mapping[Any, Any], tags: Mapping[str, str], aliases: tuple[str, ...]
) -> ModelVersion:
    sig, met = row["signature_json"], row["metrics_json"]
    return ModelVersion(
        name=row["name"],
        version=row["version"],
        run_id=row["run_id"],
        source=row["source"],
        flavor=row["flavor"],
        description=row["description"],
        user=row["user"],
        created_at=row["created_at"],
        deleted_at=row.get("deleted_at"),
        signature=None if sig is None else json.loads(sig),
        metrics=None if met is None else json.loads(met),
        tags=dict(tags),
        aliases=aliases,
    )


def _no_version(conn: Connection, name: str, version: int) -> NotFound:
    rows = conn.execute(
        select(mv.version, mv.deleted_at).where(mv.name == name).order_by(mv.version)
    ).all()
    live = [str(r.version) for r in rows if r.deleted_at is None]
    gone = [str(r.version) for r in rows if r.deleted_at is not None]
    listing = "versions: " + ", ".join(live) if live else "it has no live versions"
    if gone:
        listing += " (deleted: " + ", ".join(gone) + ")"
    return NotFound(f"model {name!r} has no version {version}; {listing}")


def _latest(conn: Connection, name: str) -> int:
    query = select(func.max(mv.version)).where(mv.name == name, mv.deleted_at.is_(None))
    top = conn.execute(query).scalar()
    if top is None:
        raise NotFound(
            f"model {name!r} has no versions that are not deleted, so {name}@latest names "
            "nothing; register one with create_version or restore one with restore_version"
        )
    return int(top)


def _set_deleted(conn: Connection, name: str, version: int, when: int | None) -> None:
    conn.execute(
        update(model_versions).where(mv.name == name, mv.version == version).values(deleted_at=when)
    )


# --- aliases ------------------------------------------------------------------------------------


def _alias_target(conn: Connection, name: str, alias: str) -> int | None:
    query = select(model_aliases.c.version).where(
        model_aliases.c.name == name, model_aliases.c.alias == alias
    )
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def _aliases_of(conn: Connection, name: str, version: int) -> list[str]:
    query = select(model_aliases.c.alias).where(
        model_aliases.c.name == name, model_aliases.c.version == version
    )
    return sorted(conn.execute(query).scalars())


def _aliased_error(name: str, version: int, aliases: Sequence[str]) -> Conflict:
    said = ", ".join(repr(a) for a in aliases)
    word = "alias" if len(aliases) == 1 else "aliases"
    return Conflict(
        f"version {version} of model {name!r} cannot be deleted while {word} {said} "
        f"point{'s' if len(aliases) == 1 else ''} at it; move the {word} to another version "
        "(set_alias) or delete it (delete_alias) first"
    )


def _no_alias(conn: Connection, name: str, alias: str) -> NotFound:
    query = select(model_aliases.c.alias, model_aliases.c.version).where(
        model_aliases.c.name == name
    )
    have = [f"{a} (-> {v})" for a, v in conn.execute(query.order_by(model_aliases.c.alias))]
    listing = "aliases: " + ", ".join(have) if have else "it has no aliases; set one with set_alias"
    return NotFound(f"model {name!r} has no alias {alias!r}; {listing}")


def _alias_target_at(conn: Connection, name: str, alias: str, at: int) -> int:
    ev = alias_events.c
    query = (
        select(ev.to_version)
        .where(ev.name == name, ev.alias == alias, ev.at <= at)
        .order_by(ev.at.desc(), ev.id.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    if row is None or row.to_version is None:
        when = datetime.fromtimestamp(at / 1000, tz=UTC).isoformat(timespec="milliseconds")
        raise NotFound(
            f"alias {alias!r} of model {name!r} did not exist at {when} ({at} ms); "
            "alias_history shows when it was set"
        )
    return int(row.to_version)


def _record_move(conn: Connection, name: str, alias: str, old: int | None, new: int | None) -> None:
    conn.execute(
        insert(alias_events).values(
            name=name,
            alias=alias,
            from_version=old,
            to_version=new,
            user=current_user(),
            at=now_ms(),
        )
    )


# --- dialect helpers ----------------------------------------------------------------------------


def _dialect_insert(conn: Connection, table: Table) -> Any:
    """``INSERT`` with ``ON CONFLICT`` support on both SQLite and PostgreSQL."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _upsert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    keys: Sequence[str],
    cols: Sequence[str],
) -> None:
    if not rows:
        return
    stmt = _dialect_insert(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys], set_={c: stmt.excluded[c] for c in cols}
    )
    conn.execute(stmt, rows)


__all__ = ["SqlRegistry"]
