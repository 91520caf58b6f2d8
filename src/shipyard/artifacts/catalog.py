"""The artifact catalog: each owner's files as (owner, path) -> blob rows in the metadata database.

:class:`SqlArtifacts` implements :class:`~shipyard.artifacts.service.ArtifactService` over a
:class:`~shipyard.store.Database` and a :class:`~shipyard.artifacts.blobs.BlobStore`. Blobs are
always written before the rows that name them, so a crash can leave an unreferenced blob (which
garbage collection removes) but never a row without its bytes. Folders are not stored: a folder
is the common prefix of its files' paths.

Paths are POSIX, relative and normalised (``a/./b//c`` -> ``a/b/c``); ``..``, absolute paths and
backslashes are refused. One path is never both a file and a folder of the same owner.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import BigInteger, ColumnElement, Connection, Integer, String, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from shipyard._util import now_ms
from shipyard.artifacts.blobs import BlobStore, check_sha256
from shipyard.artifacts.entities import ArtifactInfo
from shipyard.artifacts.paths import check_owner as _check_owner
from shipyard.artifacts.paths import normalize_path
from shipyard.errors import Conflict, IntegrityError, InvalidArgument, NotFound
from shipyard.store import Database
from shipyard.store.schema import artifacts as _t

T = TypeVar("T")


class SqlArtifacts:
    """Artifacts of runs, model versions and datasets: rows in ``artifacts``, bytes in blobs.

    Cheap to build; the database and the blob store are touched on first use.
    """

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self._db = db
        self._blobs = blobs

    @property
    def blobs(self) -> BlobStore:
        """The blob store holding the bytes."""
        return self._blobs

    # -- writing ---------------------------------------------------------------------------

    def upload(self, owner: str, local_path: Path, artifact_path: str = "") -> list[ArtifactInfo]:
        """Store a file, or every file under a folder, below ``artifact_path`` of ``owner``.

        A file keeps its own name; a folder's content goes directly under ``artifact_path``.
        Every blob is written before one transaction inserts (or replaces) all the rows.
        Returns the stored files. Raises InvalidArgument for a missing local path or a bad
        artifact path, Conflict when a file would sit where a folder is (or the reverse).
        """
        owner = _check_owner(owner)
        base = normalize_path(artifact_path)
        files = _local_files(Path(local_path), base)
        stored = [(rel, *self._blobs.put_file(src)) for rel, src in files]
        self._write_rows(owner, base, stored)
        return [ArtifactInfo(path, False, size, sha) for path, sha, size in stored]

    def upload_stream(
        self, owner: str, path: str, chunks: Iterable[bytes], *, sha256: str | None = None
    ) -> ArtifactInfo:
        """Store one file from a stream of byte chunks (how the team server receives uploads).

        With ``sha256``, the received bytes must hash to it or IntegrityError is raised and no
        row is written. Returns the stored file. Raises InvalidArgument, Conflict.
        """
        owner = _check_owner(owner)
        path = normalize_path(path, allow_root=False)
        expected = None if sha256 is None else check_sha256(sha256)
        digest, size = self._blobs.put_stream(chunks)
        if expected is not None and digest != expected:
            raise IntegrityError(
                f"upload of {path!r} to {owner} arrived corrupted: its bytes hash to {digest}, "
                f"not {expected}; send the file again"
            )
        self._write_rows(owner, path.rpartition("/")[0], [(path, digest, size)])
        return ArtifactInfo(path, False, size, digest)

    def _write_rows(self, owner: str, base: str, stored: list[tuple[str, str, int]]) -> None:
        if not stored:
            return
        now = now_ms()
        rows = [
            {"owner": owner, "path": path, "sha256": sha, "size": size, "created_at": now}
            for path, sha, size in stored
        ]
        with self._db.begin() as conn:
            _check_layout(conn, owner, base, [path for path, _, _ in stored])
            conn.execute(_upsert(_insert(conn)), rows)

    def copy(self, src_owner: str, src_path: str, dst_owner: str, dst_path: str) -> int:
        """Share a file or a folder with another owner by reference; returns how many files.

        ``src_path`` becomes ``dst_path``: a folder's files keep their layout below it; a file
        is copied to ``dst_path`` (to its own name when ``dst_path`` is ``""``). No bytes are
        copied, rows are (INSERT … SELECT). Raises NotFound, Conflict, InvalidArgument.
        """
        src_owner, dst_owner = _check_owner(src_owner), _check_owner(dst_owner)
        src, dst = normalize_path(src_path), normalize_path(dst_path)
        with self._db.begin() as conn:
            found = conn.execute(select(_t.c.path).where(_under(src_owner, src))).scalars()
            plan = _plan_copy(src_owner, src, dst, list(found))
            _check_layout(conn, dst_owner, plan.base, plan.new_paths)
            rows = select(
                literal(dst_owner, String),
                plan.new_path,
                _t.c.sha256,
                _t.c.size,
                literal(now_ms(), BigInteger),
            ).where(plan.where)
            cols = ["owner", "path", "sha256", "size", "created_at"]
            conn.execute(_upsert(_insert(conn), from_select=(cols, rows)))
        return len(plan.new_paths)

    def delete_owner(self, owner: str) -> int:
        """Remove every row of ``owner``; returns how many. Blobs stay until garbage collection."""
        owner = _check_owner(owner)
        with self._db.begin() as conn:
            return conn.execute(_t.delete().where(_t.c.owner == owner)).rowcount

    # -- reading ---------------------------------------------------------------------------

    def list(self, owner: str, path: str = "", *, recursive: bool = False) -> list[ArtifactInfo]:
        """List the files and folders directly in ``path``, or with ``recursive`` every file below.

        Results are sorted by path; a file's own path lists that file. Returns ``[]`` for an
        owner with no artifacts; raises NotFound for a ``path`` that names nothing stored.
        """
        owner = _check_owner(owner)
        path = normalize_path(path)
        with self._db.read() as conn:
            if recursive:
                infos = _files(conn, _under(owner, path, files_only=True))
            else:
                infos = _children(conn, owner, path)
            if not infos and path:
                infos = _files(conn, (_t.c.owner == owner) & (_t.c.path == path))
        if not infos and path:
            raise NotFound(_missing(owner, path))
        return infos

    def download(self, owner: str, path: str, dst: Path) -> Path:
        """Copy a file or a folder into the local folder ``dst``, verifying every SHA-256.

        Files land at ``dst/<artifact path>`` (MLflow's layout); each is written through a
        temporary file, so a corrupted one never appears. Returns ``dst/path``.
        Raises NotFound, IntegrityError.
        """
        owner = _check_owner(owner)
        path = normalize_path(path)
        dst = Path(dst)
        with self._db.read() as conn:
            infos = _files(conn, _under(owner, path))
        if not infos:
            raise NotFound(_missing(owner, path))
        for info in infos:
            self._blobs.read_to(str(info.sha256), dst / info.path)
        return dst / path if path else dst

    def open(self, owner: str, path: str) -> Iterator[bytes]:
        """Stream one file's bytes in chunks, verified at the end.

        Raises NotFound (at once) for a missing file, InvalidArgument for a folder, and
        IntegrityError after the last chunk if the bytes are corrupted.
        """
        return self._blobs.open(self._sha256(owner, path))

    def read(self, owner: str, path: str, parse: Callable[[bytes], T]) -> T:
        """``parse`` of one file's whole bytes, once verified (see ``BlobStore.read``).

        Raises NotFound, InvalidArgument for a folder, IntegrityError for corrupted bytes.
        """
        return self._blobs.read(self._sha256(owner, path), parse)

    def _sha256(self, owner: str, path: str) -> str:
        owner = _check_owner(owner)
        path = normalize_path(path, allow_root=False)
        with self._db.read() as conn:
            sha = conn.execute(
                select(_t.c.sha256).where(_t.c.owner == owner, _t.c.path == path)
            ).scalar()
            if sha is None:
                below = select(_t.c.path).where(_under(owner, path, files_only=True)).limit(1)
                if conn.execute(below).first() is not None:
                    raise InvalidArgument(
                        f"artifact {path!r} of {owner} is a folder; list or download it instead"
                    )
                raise NotFound(_missing(owner, path))
        return str(sha)


# -- SQL helpers ---------------------------------------------------------------------------


def _missing(owner: str, path: str) -> str:
    where = f"artifact {path!r}" if path else "any artifact"
    return f"{owner} has no {where}; list the owner's artifacts to see what is stored"


def _under(owner: str, path: str, *, files_only: bool = False) -> ColumnElement[bool]:
    """Rows of ``owner`` that are the file ``path`` or lie below the folder ``path``."""
    cond: ColumnElement[bool] = _t.c.owner == owner
    if not path:
        return cond
    prefix = f"{path}/"
    below = func.substr(_t.c.path, 1, len(prefix), type_=String) == prefix
    return cond & (below if files_only else (below | (_t.c.path == path)))


def _files(conn: Connection, where: ColumnElement[bool]) -> list[ArtifactInfo]:
    """Files matching ``where``, in code-point order of path (the same on every database)."""
    rows = conn.execute(select(_t.c.path, _t.c.size, _t.c.sha256).where(where))
    return [ArtifactInfo(path, False, size, sha) for path, size, sha in sorted(rows)]


def _children(conn: Connection, owner: str, path: str) -> list[ArtifactInfo]:
    """Files directly in ``path`` and its sub-folders, computed in SQL."""
    cut = len(path) + 1 if path else 0
    rest = func.substr(_t.c.path, cut + 1, type_=String)
    slash = (
        func.instr(rest, "/", type_=Integer)
        if conn.dialect.name == "sqlite"
        else func.strpos(rest, "/", type_=Integer)
    )
    under = _under(owner, path, files_only=True)
    files = _files(conn, under & (slash == 0))
    folder = func.substr(_t.c.path, 1, cut + slash - 1, type_=String)
    dirs = conn.execute(select(folder).where(under, slash > 0).distinct()).scalars()
    infos = files + [ArtifactInfo(name, True) for name in dirs]
    return sorted(infos, key=lambda info: info.path)


class _CopyPlan(NamedTuple):
    new_paths: list[str]  # the destination paths, to check the layout
    new_path: ColumnElement[str]  # the destination path of a source row, in SQL
    base: str  # the destination folder every new path lies below
    where: ColumnElement[bool]  # the source rows


def _plan_copy(src_owner: str, src: str, dst: str, src_paths: list[str]) -> _CopyPlan:
    """Where each file under ``src`` goes below ``dst``; NotFound if ``src`` holds nothing."""
    if not src_paths:
        raise NotFound(_missing(src_owner, src))
    if src in src_paths:  # a file
        target = dst or src.rpartition("/")[2]
        where = (_t.c.owner == src_owner) & (_t.c.path == src)
        return _CopyPlan([target], literal(target, String), target.rpartition("/")[0], where)
    cut, prefix = len(src) + 1 if src else 0, f"{dst}/" if dst else ""
    new_paths = [normalize_path(prefix + path[cut:]) for path in src_paths]
    new_path = literal(prefix, String) + func.substr(_t.c.path, cut + 1, type_=String)
    return _CopyPlan(new_paths, new_path, dst, _under(src_owner, src))


def _check_layout(conn: Connection, owner: str, base: str, new_paths: Collection[str]) -> None:
    """Raise Conflict if a new file would be a folder of ``owner`` or sit inside a file.

    Every new path lies below ``base``, so only rows below it, or at ``base`` and above, matter.
    """
    new = set(new_paths)
    new_dirs = _ancestors(new)
    near = _under(owner, base, files_only=True)
    if base:
        near = near | ((_t.c.owner == owner) & _t.c.path.in_([base, *_ancestors([base])]))
    existing = set(conn.execute(select(_t.c.path).where(near)).scalars())
    clash = (existing & new_dirs) | (_ancestors(existing) & new) | (new & new_dirs)
    if clash:
        name = min(clash)
        raise Conflict(
            f"{owner} cannot hold {name!r} both as a file and as a folder; "
            "store the new files under another path"
        )


def _ancestors(paths: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        parts = path.split("/")
        found.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return found


def _insert(conn: Connection) -> Any:
    """A dialect INSERT on ``artifacts`` that supports ON CONFLICT."""
    return (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(_t)


def _upsert(insert: Any, *, from_select: tuple[list[str], Any] | None = None) -> Any:
    """``insert`` (from :func:`_insert`) replacing any row at the same (owner, path)."""
    stmt = insert if from_select is None else insert.from_select(*from_select)
    return stmt.on_conflict_do_update(
        index_elements=[_t.c.owner, _t.c.path],
        set_={name: insert.excluded[name] for name in ("sha256", "size", "created_at")},
    )


def _local_files(local_path: Path, base: str) -> list[tuple[str, Path]]:
    """``(artifact path, local file)`` for a file or every file under a folder, sorted."""
    if local_path.is_file():
        return [(normalize_path(_join(base, local_path.name)), local_path)]
    if not local_path.is_dir():
        raise InvalidArgument(
            f"cannot upload {str(local_path)!r}: no such file or folder on this machine"
        )
    found: list[tuple[str, Path]] = []
    for folder, _dirs, names in os.walk(local_path):  # symlinked folders are not followed
        for name in names:
            file = Path(folder, name)
            if file.is_file():
                rel = file.relative_to(local_path).as_posix()
                found.append((normalize_path(_join(base, rel), allow_root=False), file))
    return sorted(found)


def _join(base: str, name: str) -> str:
    return f"{base}/{name}" if base else name


__all__ = ["SqlArtifacts"]
