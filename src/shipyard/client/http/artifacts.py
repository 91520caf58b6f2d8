"""``HttpArtifacts``: artifacts streamed to and from a team server."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import quote

from shipyard.artifacts.entities import ArtifactInfo
from shipyard.client.http._transport import API, CHUNK_SIZE, HttpTransport, parse, segment
from shipyard.errors import (
    IntegrityError,
    InvalidArgument,
    NotFound,
)
from shipyard.server import schemas as sc

T = TypeVar("T")


class HttpArtifacts:
    """:class:`~shipyard.artifacts.service.ArtifactService` over a team server, streamed."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def upload(self, owner: str, local_path: Path, artifact_path: str = "") -> list[ArtifactInfo]:
        """Store a file, or every file under a folder, below ``artifact_path`` of ``owner``.

        Each file is streamed from disk with its SHA-256, which the server checks. Returns
        the stored files. Raises InvalidArgument (missing local path, bad artifact path),
        Conflict, IntegrityError (the bytes changed on the way).
        """
        from shipyard.artifacts.paths import normalize_path

        prefix = _owner_prefix(owner)
        base = normalize_path(artifact_path)
        return [
            self._put(prefix, path, file) for path, file in _local_files(Path(local_path), base)
        ]

    def _put(self, prefix: str, path: str, file: Path) -> ArtifactInfo:
        digest, size = _file_digest(file)
        headers = {
            sc.SHA256_HEADER: digest,
            "Content-Length": str(size),
            "Content-Type": "application/octet-stream",
        }
        with self._http.stream(
            "PUT",
            f"{prefix}/{_path_segments(path)}",
            content=lambda: _read_chunks(file),
            headers=headers,
            idempotent=True,
        ) as response:
            response.read()
        return parse(sc.ArtifactOut, response.json()).to_entity()

    def upload_stream(
        self, owner: str, path: str, chunks: Iterable[bytes], *, sha256: str | None = None
    ) -> ArtifactInfo:
        """Store one file from a stream of byte chunks (sent once, not retried).

        Raises InvalidArgument, Conflict, IntegrityError (with ``sha256``, bytes that do not
        hash to it).
        """
        headers = {"Content-Type": "application/octet-stream"}
        if sha256 is not None:
            headers[sc.SHA256_HEADER] = sha256
        url = f"{_owner_prefix(owner)}/{_path_segments(path)}"
        with self._http.stream("PUT", url, content=iter(chunks), headers=headers) as response:
            response.read()
        return parse(sc.ArtifactOut, response.json()).to_entity()

    def list(self, owner: str, path: str = "", *, recursive: bool = False) -> list[ArtifactInfo]:
        """Direct children of ``path`` (files and folders), or every file with ``recursive``.

        Raises NotFound for a path that names neither a file nor a folder.
        """
        data = self._http.call(
            "GET",
            _owner_prefix(owner),
            params={"path": path, "recursive": recursive},
            idempotent=True,
        )
        return [f.to_entity() for f in parse(sc.ArtifactList, data).files]

    def download(self, owner: str, path: str, dst: Path) -> Path:
        """Copy a file or a folder into the local folder ``dst``, verifying every SHA-256.

        Files land at ``dst/<artifact path>``, each written to a temporary file, checked,
        then renamed. Returns ``dst/path``. Raises NotFound, IntegrityError.
        """
        dst = Path(dst)
        infos = self.list(owner, path, recursive=True)
        if not infos:
            raise NotFound(f"{owner} has no artifacts; upload some first")
        prefix = _owner_prefix(owner)
        for info in infos:
            self._fetch(prefix, info.path, dst / info.path)
        return dst / path if path else dst

    def _fetch(self, prefix: str, path: str, target: Path) -> None:
        if target.is_dir():
            raise InvalidArgument(f"cannot write artifact {path!r} to {target}: it is a folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            with self._http.stream(
                "GET", f"{prefix}/{_path_segments(path)}", idempotent=True
            ) as response:
                expected = response.headers.get(sc.SHA256_HEADER)
                with open(tmp, "xb") as out:
                    actual = _write_hashed(response.iter_bytes(CHUNK_SIZE), out)
                    out.flush()
                    os.fsync(out.fileno())
            _verify(actual, expected, path)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def open(self, owner: str, path: str) -> Iterator[bytes]:
        """Stream one file's bytes in chunks, verified at the end.

        The request is sent at once, so NotFound (and InvalidArgument for a folder) are raised
        here; IntegrityError after the last chunk if the bytes do not match.
        """
        chunks = self._verified_chunks(f"{_owner_prefix(owner)}/{_path_segments(path)}", path)
        next(chunks)  # send the request now: errors surface here, not at the first read
        return chunks

    def read(self, owner: str, path: str, parse_bytes: Callable[[bytes], T]) -> T:
        """``parse_bytes`` of one file's whole bytes, once streamed and verified."""
        return parse_bytes(b"".join(self.open(owner, path)))

    def _verified_chunks(self, url: str, path: str) -> Iterator[bytes]:
        """Yields ``b""`` once the response has started, then the file's chunks."""
        with self._http.stream("GET", url, idempotent=True) as response:
            yield b""
            hasher = hashlib.sha256()
            for chunk in response.iter_bytes(CHUNK_SIZE):
                hasher.update(chunk)
                yield chunk
        _verify(hasher.hexdigest(), response.headers.get(sc.SHA256_HEADER), path)

    def copy(self, src_owner: str, src_path: str, dst_owner: str, dst_path: str) -> int:
        """Share files with another owner by reference; returns how many. Raises NotFound."""
        body = {
            "src_owner": src_owner,
            "src_path": src_path,
            "dst_owner": dst_owner,
            "dst_path": dst_path,
        }
        data = self._http.call("POST", f"{API}/artifacts/copy", body=body, idempotent=True)
        return parse(sc.CopyOut, data).count


def _write_hashed(chunks: Iterable[bytes], out: BinaryIO) -> str:
    """Write ``chunks`` to ``out``; returns their SHA-256."""
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
        out.write(chunk)
    return hasher.hexdigest()


def _verify(actual: str, expected: str | None, path: str) -> None:
    if expected is None:
        raise IntegrityError(
            f"the server sent artifact {path!r} without its SHA-256 ({sc.SHA256_HEADER}); "
            "it cannot be verified. Is the URL a Shipyard server?"
        )
    if actual != expected.lower():
        raise IntegrityError(
            f"artifact {path!r} arrived corrupted: its bytes hash to {actual}, not {expected}. "
            "Download it again; if it persists the stored copy is damaged"
        )


def _owner_prefix(owner: str) -> str:
    """The URL of an owner's artifacts: ``run:<id>``, ``model:<name>/<v>``, ``dataset:<n>@<v>``."""
    kind, _, rest = str(owner).partition(":")
    if kind == "run" and rest:
        return f"{API}/runs/{segment(rest)}/artifacts"
    sep = {"model": "/", "dataset": "@"}.get(kind)
    if sep and sep in rest:
        name, _, version = rest.rpartition(sep)
        if name and (version.isdigit() or (kind == "dataset" and version.isalnum())):
            plural = f"{kind}s"
            return f"{API}/{plural}/{segment(name)}/versions/{segment(version)}/artifacts"
    raise InvalidArgument(
        f"artifact owner {owner!r} is not one a server knows: use run:<run_id>, "
        "model:<name>/<version> or dataset:<name>@<version>"
    )


def _path_segments(path: str) -> str:
    """An artifact path in a URL; the server normalizes and checks it (``..`` is refused)."""
    return "/".join({".": "%2E", "..": "%2E%2E"}.get(p, p) for p in quote(str(path)).split("/"))


def _local_files(local_path: Path, base: str) -> list[tuple[str, Path]]:
    """``(artifact path, local file)`` for a file or every file under a folder, sorted."""
    join = (lambda name: f"{base}/{name}") if base else (lambda name: name)
    if local_path.is_file():
        return [(join(local_path.name), local_path)]
    if not local_path.is_dir():
        raise InvalidArgument(
            f"cannot upload {str(local_path)!r}: no such file or folder on this machine"
        )
    found = [
        (join(Path(folder, name).relative_to(local_path).as_posix()), Path(folder, name))
        for folder, _dirs, names in os.walk(local_path)
        for name in names
        if Path(folder, name).is_file()
    ]
    return sorted(found)


def _file_digest(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    for chunk in _read_chunks(path):
        hasher.update(chunk)
        size += len(chunk)
    return hasher.hexdigest(), size


def _read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as src:
        while chunk := src.read(CHUNK_SIZE):
            yield chunk
