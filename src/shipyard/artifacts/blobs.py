"""Content-addressed blobs on any fsspec URL: written atomically, verified on every read.

A blob whose SHA-256 is ``abcdef…`` lives at ``<root>/sha256/ab/abcdef…``. Bytes are streamed
to ``<root>/tmp/<uuid>`` while being hashed, then renamed into place, so a reader never sees a
partial blob: on local disk the temporary file is fsynced and ``os.replace``-d (atomic); on
other filesystems it is moved with ``fs.mv``. A process killed mid-write leaves only a file
under ``tmp/``, which :meth:`BlobStore.stale_temp_files` finds and garbage collection removes.

>>> import tempfile
>>> store = BlobStore(Path(tempfile.mkdtemp()).as_uri())
>>> digest, size = store.put_stream([b"hello ", b"world"])
>>> digest[:12], size
('b94d27b9934d', 11)
>>> b"".join(store.open(digest))
b'hello world'
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from shipyard.errors import ConfigError, IntegrityError, InvalidArgument, NotFound

T = TypeVar("T")

CHUNK_SIZE = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_sha256(value: object) -> str:
    """Return ``value`` as a lowercase SHA-256 hex digest; raises InvalidArgument if it is not one.

    >>> check_sha256("AB" * 32)[:4]
    'abab'
    """
    if isinstance(value, str) and _SHA256.match(value.lower()):
        return value.lower()
    raise InvalidArgument(f"{value!r} is not a SHA-256 digest: expected 64 hexadecimal characters")


class BlobStore:
    """Content-addressed byte store under one fsspec URL (``file:///abs/path``, ``s3://…``).

    Cheap to build: the filesystem is resolved on first use.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._resolved: tuple[Any, str, bool] | None = None

    def __repr__(self) -> str:
        return f"BlobStore({self.url!r})"

    # -- writing ---------------------------------------------------------------------------

    def put_file(self, path: Path) -> tuple[str, int]:
        """Store a local file, streamed in 1 MiB chunks; returns ``(sha256, size)``.

        Raises InvalidArgument if ``path`` is not a readable file.
        """
        path = Path(path)
        if not path.is_file():
            raise InvalidArgument(f"cannot store {str(path)!r}: it is not an existing file")
        return self.put_stream(_read_chunks(path))

    def put_stream(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store the concatenation of ``chunks``; returns ``(sha256, size)``.

        The bytes go to a temporary file first; an exception from ``chunks`` removes it and
        leaves nothing behind. An existing blob with the same digest is kept (dedup).
        """
        tmp = self._temp_path(uuid.uuid4().hex)
        try:
            digest, size = self._write_temp(tmp, chunks)
            self._commit(tmp, digest)
        except BaseException:
            self._remove(tmp)
            raise
        return digest, size

    def _write_temp(self, tmp: str, chunks: Iterable[bytes]) -> tuple[str, int]:
        fs, _, local = self._fs()
        digest = hashlib.sha256()
        size = 0
        if local:
            os.makedirs(os.path.dirname(tmp), exist_ok=True)
        else:
            fs.makedirs(tmp.rsplit("/", 1)[0], exist_ok=True)
        with open(tmp, "xb") if local else fs.open(tmp, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            if local:
                out.flush()
                os.fsync(out.fileno())
        return digest.hexdigest(), size

    def _commit(self, tmp: str, digest: str) -> None:
        fs, _, local = self._fs()
        final = self._blob_path(digest)
        if not local:
            if fs.exists(final):
                fs.rm_file(tmp)
            else:
                fs.mv(tmp, final)
            return
        if os.path.exists(final):
            os.unlink(tmp)
            # Fresh mtime: a concurrent garbage collection sees the blob as just written.
            with suppress(OSError):
                os.utime(final)
            return
        parent = os.path.dirname(final)
        os.makedirs(parent, exist_ok=True)
        os.replace(tmp, final)
        _fsync_dir(parent)

    # -- reading ---------------------------------------------------------------------------

    def open(self, sha256: str) -> Iterator[bytes]:
        """Stream a blob's bytes in chunks, re-hashing them as they go.

        Raises NotFound (at once) if there is no such blob, and IntegrityError after the last
        chunk if the bytes do not hash to ``sha256``.
        """
        digest = check_sha256(sha256)
        path = self._blob_path(digest)
        if not self._fs()[0].exists(path):
            raise NotFound(self._missing(digest))
        return self._verified_chunks(digest, path)

    def _verified_chunks(self, digest: str, path: str) -> Iterator[bytes]:
        hasher = hashlib.sha256()
        try:
            with self._fs()[0].open(path, "rb") as src:
                while chunk := src.read(CHUNK_SIZE):
                    hasher.update(chunk)
                    yield chunk
        except FileNotFoundError as exc:
            raise NotFound(self._missing(digest)) from exc
        self._check(digest, hasher.hexdigest(), path)

    def _check(self, digest: str, actual: str, path: str) -> None:
        if actual != digest:
            raise IntegrityError(
                f"blob {digest} in {self.url} is corrupted: its stored bytes hash to {actual}. "
                f"The file {path} changed after it was written; restore it from a backup, or "
                "delete it and upload the artifact again"
            )

    def read(self, sha256: str, parse: Callable[[bytes], T]) -> T:
        """``parse(bytes)`` of a whole blob, read at once; the SHA-256 is computed in a second
        thread meanwhile (hashlib releases the GIL), and the result is returned only if it
        matches. Raises NotFound, or IntegrityError (also when ``parse`` failed on the bytes).

        For a blob read whole (a dataset snapshot) this saves the chunked copy and overlaps
        the hash with the parse: 0.1 s of 0.3 s on an 80 MiB Parquet snapshot.
        """
        digest = check_sha256(sha256)
        path = self._blob_path(digest)
        try:
            with self._fs()[0].open(path, "rb") as src:
                data: bytes = src.read()
        except FileNotFoundError as exc:
            raise NotFound(self._missing(digest)) from exc
        hashed: list[str] = []
        hasher = threading.Thread(target=lambda: hashed.append(hashlib.sha256(data).hexdigest()))
        hasher.start()
        try:
            result = parse(data)
        except BaseException:
            hasher.join()
            self._check(digest, hashed[0], path)  # corrupted bytes explain a failed parse
            raise
        hasher.join()
        self._check(digest, hashed[0], path)
        return result

    def read_to(self, sha256: str, dst: Path) -> None:
        """Write a blob to the local file ``dst``, verified, via a temporary file and a rename.

        ``dst`` is only replaced once every byte matched; on NotFound or IntegrityError nothing
        is left at ``dst`` (an existing file there is kept as it was).
        """
        dst = Path(dst)
        chunks = self.open(sha256)
        if dst.is_dir():
            raise InvalidArgument(f"cannot write blob {sha256} to {dst}: it is a folder")
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.part")
        try:
            with open(tmp, "xb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, dst)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def exists(self, sha256: str) -> bool:
        """Whether a blob with this digest is stored."""
        return bool(self._fs()[0].exists(self._blob_path(check_sha256(sha256))))

    def modified(self, sha256: str) -> float | None:
        """A blob's last-modified time (Unix seconds), or None if the filesystem has none.

        Raises NotFound if there is no such blob.
        """
        digest = check_sha256(sha256)
        path = self._blob_path(digest)
        fs, _, local = self._fs()
        try:
            if local:
                return os.stat(path).st_mtime
            return _info_mtime(fs.info(path))
        except FileNotFoundError as exc:
            raise NotFound(self._missing(digest)) from exc

    # -- housekeeping ----------------------------------------------------------------------

    def delete(self, sha256: str) -> None:
        """Remove a blob; removing one that is not there is not an error."""
        self._remove(self._blob_path(check_sha256(sha256)))

    def iter_digests(self) -> Iterator[tuple[str, int]]:
        """Every stored blob as ``(sha256, size)``; stray files under ``sha256/`` are skipped."""
        for path, size, _ in self._scan("sha256"):
            parent, name = path.rsplit("/", 2)[-2:]
            if _SHA256.match(name) and name[:2] == parent:
                yield name, size

    def stale_temp_files(self, older_than_s: float) -> list[tuple[str, int]]:
        """Temporary files untouched for ``older_than_s`` seconds, as ``(name, size)``.

        They are what a process killed in the middle of a write leaves; remove them with
        :meth:`delete_temp`. A file whose age is unknown counts only when ``older_than_s <= 0``.
        """
        cutoff = time.time() - older_than_s
        return [
            (path.rsplit("/", 1)[-1], size)
            for path, size, mtime in self._scan("tmp")
            if (older_than_s <= 0 if mtime is None else mtime <= cutoff)
        ]

    def delete_temp(self, name: str) -> None:
        """Remove one temporary file named by :meth:`stale_temp_files` (missing is fine)."""
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise InvalidArgument(f"{name!r} is not the name of a temporary file")
        self._remove(self._temp_path(name))

    # -- internals -------------------------------------------------------------------------

    def _fs(self) -> tuple[Any, str, bool]:
        """(filesystem, root path, is local disk), resolved once from the URL."""
        if self._resolved is None:
            from fsspec.core import url_to_fs
            from fsspec.implementations.local import LocalFileSystem

            try:
                fs, root = url_to_fs(self.url)
            except (ValueError, ImportError) as exc:
                raise ConfigError(
                    f"artifact URI {self.url!r} cannot be opened ({exc}); use file:///abs/path "
                    "or an fsspec URL whose package is installed (s3fs for s3://, gcsfs for gs://)"
                ) from exc
            self._resolved = (fs, cast(str, root).rstrip("/"), isinstance(fs, LocalFileSystem))
        return self._resolved

    def _blob_path(self, digest: str) -> str:
        return f"{self._fs()[1]}/sha256/{digest[:2]}/{digest}"

    def _temp_path(self, name: str) -> str:
        return f"{self._fs()[1]}/tmp/{name}"

    def _missing(self, digest: str) -> str:
        return (
            f"blob {digest} is not in the artifact store {self.url}; it was never uploaded, or "
            "it was deleted (by garbage collection or by hand): upload the artifact again"
        )

    def _remove(self, path: str) -> None:
        fs, _, local = self._fs()
        with suppress(FileNotFoundError):
            if local:
                os.unlink(path)
            else:
                fs.rm_file(path)

    def _scan(self, sub: str) -> Iterator[tuple[str, int, float | None]]:
        """``(path, size, mtime)`` of every file under ``<root>/<sub>``."""
        fs, root, local = self._fs()
        base = f"{root}/{sub}"
        if local:
            yield from _scan_local(base)
            return
        try:
            found: dict[str, dict[str, Any]] = fs.find(base, detail=True)
        except FileNotFoundError:
            return
        for path, info in found.items():
            if info.get("type", "file") == "file":
                yield path, int(info.get("size") or 0), _info_mtime(info)


def _read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as src:
        while chunk := src.read(CHUNK_SIZE):
            yield chunk


def _scan_local(base: str) -> Iterator[tuple[str, int, float | None]]:
    for dirpath, _dirs, files in os.walk(base):
        for name in files:
            path = f"{dirpath}/{name}"
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                continue
            yield path, stat.st_size, stat.st_mtime


def _fsync_dir(path: str) -> None:
    """Persist a rename on local disk (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _info_mtime(info: dict[str, Any]) -> float | None:
    """The modification time in an fsspec ``info`` dict, whichever key the backend uses."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "modified", "created"):
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, str):
            with suppress(ValueError):
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None


__all__ = ["CHUNK_SIZE", "BlobStore", "check_sha256"]
