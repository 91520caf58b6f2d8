"""The artifact service interface: files of an owner (a run, a model version, a dataset).

Two layers sit under it:

* ``shipyard.artifacts.blobs.BlobStore`` — content-addressed bytes on any fsspec URL:
  ``<root>/sha256/ab/cdef…``; written to a temporary name then renamed; verified on read.
* the ``artifacts`` table — (owner, path) -> (sha256, size), in the metadata database.

``SqlArtifacts`` (``shipyard.artifacts.catalog``) joins the two for a local store;
``HttpArtifacts`` (``shipyard.client.http``) streams through a team server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

from shipyard.artifacts.entities import ArtifactInfo

T = TypeVar("T")


class ArtifactService(Protocol):
    def upload(self, owner: str, local_path: Path, artifact_path: str = "") -> list[ArtifactInfo]:
        """Store a file, or every file under a folder, below ``artifact_path`` of ``owner``.

        A file keeps its own name under ``artifact_path``; a folder's content goes under
        ``artifact_path`` (``upload(o, Path("model"), "model")`` -> ``model/…``).
        Returns the stored files. Raises InvalidArgument for a missing local path or a path
        that escapes (``..``, absolute).
        """
        ...

    def upload_stream(
        self, owner: str, path: str, chunks: Iterable[bytes], *, sha256: str | None = None
    ) -> ArtifactInfo:
        """Store one file from a stream of byte chunks (never held whole in memory).

        With ``sha256``, bytes that do not match it raise IntegrityError and store nothing.
        """
        ...

    def list(self, owner: str, path: str = "", *, recursive: bool = False) -> list[ArtifactInfo]:
        """Direct children of ``path`` (files and folders), or every file with ``recursive``."""
        ...

    def download(self, owner: str, path: str, dst: Path) -> Path:
        """Copy a file or a folder to ``dst`` (a folder), verifying every SHA-256.

        Returns the local path of what was asked for. Raises NotFound, IntegrityError.
        """
        ...

    def open(self, owner: str, path: str) -> Iterator[bytes]:
        """Stream one file's bytes in chunks, verified at the end (IntegrityError if not)."""
        ...

    def read(self, owner: str, path: str, parse: Callable[[bytes], T]) -> T:
        """``parse`` applied to one file's whole bytes, returned only once they are verified
        (IntegrityError if not, even when ``parse`` failed on them). Raises NotFound."""
        ...

    def copy(self, src_owner: str, src_path: str, dst_owner: str, dst_path: str) -> int:
        """Share files with another owner by reference; returns how many. Raises NotFound."""
        ...
