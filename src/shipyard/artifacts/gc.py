"""Garbage collection of the blob store: remove blobs no artifact row refers to.

Rows of runs, model versions and datasets all live in the ``artifacts`` table, so a blob is
garbage when its digest appears in no row. Uploads write the blob before committing its row; a
blob younger than ``grace_s`` is therefore kept even when unreferenced, since its row may be on
its way. Re-uploading content that is already stored refreshes the blob's mtime on local disk
for the same reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from shipyard.artifacts.blobs import BlobStore
from shipyard.errors import NotFound
from shipyard.store import Database
from shipyard.store.schema import artifacts


@dataclass(frozen=True)
class GcReport:
    """What a garbage collection found, and removed unless ``dry_run``.

    ``blobs`` and ``stale_temp_files`` are ``(sha256 or temporary file name, size)`` pairs;
    ``bytes_freed`` counts both (what would be freed, in a dry run); ``kept_recent`` is the
    number of unreferenced blobs kept because they are younger than the grace period.
    """

    dry_run: bool
    blobs: tuple[tuple[str, int], ...]
    stale_temp_files: tuple[tuple[str, int], ...]
    bytes_freed: int
    kept_recent: int


def collect_garbage(
    db: Database,
    blobs: BlobStore,
    *,
    dry_run: bool = True,
    temp_older_than_s: float = 3600,
    grace_s: float = 600,
) -> GcReport:
    """Find (and, unless ``dry_run``, delete) unreferenced blobs and stale temporary files.

    A blob is deleted only if no ``artifacts`` row names its digest and its file is older than
    ``grace_s`` seconds (a blob whose age the filesystem cannot tell is kept unless
    ``grace_s <= 0``). Temporary files left by interrupted uploads go once older than
    ``temp_older_than_s``. Returns a :class:`GcReport`.
    """
    with db.read() as conn:
        referenced = set(conn.execute(select(artifacts.c.sha256).distinct()).scalars())
    candidates = [(sha, size) for sha, size in blobs.iter_digests() if sha not in referenced]
    garbage: list[tuple[str, int]] = []
    kept_recent = 0
    for sha, size in candidates:
        if _old_enough(blobs, sha, grace_s):  # checked just before deleting, not at listing
            garbage.append((sha, size))
            if not dry_run:
                blobs.delete(sha)
        else:
            kept_recent += 1
    temps = blobs.stale_temp_files(temp_older_than_s)
    if not dry_run:
        for name, _ in temps:
            blobs.delete_temp(name)
    freed = sum(size for _, size in garbage) + sum(size for _, size in temps)
    return GcReport(dry_run, tuple(garbage), tuple(temps), freed, kept_recent)


def _old_enough(blobs: BlobStore, sha: str, grace_s: float) -> bool:
    try:
        mtime = blobs.modified(sha)
    except NotFound:  # already gone (another collector)
        return False
    if mtime is None:
        return grace_s <= 0
    return mtime <= time.time() - grace_s


__all__ = ["GcReport", "collect_garbage"]
