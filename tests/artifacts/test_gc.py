"""Garbage collection against real catalogs (SQLite and PostgreSQL) and real blob files."""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.artifacts.blobs import BlobStore
from shipyard.artifacts.catalog import SqlArtifacts
from shipyard.artifacts.gc import GcReport, collect_garbage
from shipyard.artifacts.owners import dataset_owner, model_owner, run_owner
from shipyard.store import Database

RUN = run_owner("a" * 32)
MODEL = model_owner("churn", 3)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def arts(db: Database, root: Path) -> SqlArtifacts:
    return SqlArtifacts(db, BlobStore(root.as_uri()))


def age_blob(root: Path, digest: str, seconds: float = 7200) -> None:
    then = time.time() - seconds
    os.utime(root / "sha256" / digest[:2] / digest, (then, then))


def test_dry_run_lists_unreferenced_old_blobs_without_deleting(
    db: Database, arts: SqlArtifacts, root: Path
) -> None:
    kept = arts.upload_stream(RUN, "model.pkl", [b"referenced"])
    orphan, orphan_size = arts.blobs.put_stream([b"orphan bytes"])
    young, _ = arts.blobs.put_stream([b"just written, row not committed yet"])
    age_blob(root, str(kept.sha256))
    age_blob(root, orphan)

    report = collect_garbage(db, arts.blobs)

    assert report == GcReport(
        dry_run=True,
        blobs=((orphan, orphan_size),),
        stale_temp_files=(),
        bytes_freed=orphan_size,
        kept_recent=1,
    )
    assert arts.blobs.exists(orphan) and arts.blobs.exists(young)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.dry_run = False  # type: ignore[misc]


def test_real_run_deletes_only_unreferenced_blobs(
    db: Database, arts: SqlArtifacts, root: Path, tmp_path: Path
) -> None:
    run_file = arts.upload_stream(RUN, "model/model.pkl", [b"weights"])
    arts.copy(RUN, "model", MODEL, "")
    data_file = arts.upload_stream(dataset_owner("sales", "ab12cd"), "part-0.parquet", [b"rows"])
    orphans = [arts.blobs.put_stream([f"orphan {i}".encode()]) for i in range(3)]
    young, _ = arts.blobs.put_stream([b"young orphan"])
    for digest, _ in [*arts.blobs.iter_digests()]:
        if digest != young:
            age_blob(root, digest)

    report = collect_garbage(db, arts.blobs, dry_run=False)

    assert report.dry_run is False
    assert sorted(report.blobs) == sorted(orphans)
    assert report.bytes_freed == sum(size for _, size in orphans)
    assert report.kept_recent == 1
    assert sorted(d for d, _ in arts.blobs.iter_digests()) == sorted(
        [str(run_file.sha256), str(data_file.sha256), young]
    )
    assert b"".join(arts.open(MODEL, "model.pkl")) == b"weights"

    # A blob still shared by a model version survives its run being deleted.
    arts.delete_owner(RUN)
    assert collect_garbage(db, arts.blobs, dry_run=False).blobs == ()
    assert arts.blobs.exists(str(run_file.sha256))
    arts.delete_owner(MODEL)
    again = collect_garbage(db, arts.blobs, dry_run=False)
    assert again.blobs == ((str(run_file.sha256), len(b"weights")),)
    assert not arts.blobs.exists(str(run_file.sha256))


def test_grace_period_is_a_parameter(db: Database, arts: SqlArtifacts) -> None:
    digest, size = arts.blobs.put_stream([b"fresh"])

    assert collect_garbage(db, arts.blobs, dry_run=False).blobs == ()
    report = collect_garbage(db, arts.blobs, dry_run=False, grace_s=0)

    assert report.blobs == ((digest, size),)
    assert not arts.blobs.exists(digest)


def test_stale_temp_files_are_cleaned(db: Database, arts: SqlArtifacts, root: Path) -> None:
    arts.blobs.put_stream([b"creates the tmp folder"])
    stale = root / "tmp" / uuid.uuid4().hex
    stale.write_bytes(b"half an upload")
    then = time.time() - 7200
    os.utime(stale, (then, then))
    fresh = root / "tmp" / uuid.uuid4().hex
    fresh.write_bytes(b"upload in progress")

    dry = collect_garbage(db, arts.blobs)
    assert dry.stale_temp_files == ((stale.name, 14),) and stale.exists()

    report = collect_garbage(db, arts.blobs, dry_run=False)
    assert report.stale_temp_files == ((stale.name, 14),)
    assert report.bytes_freed == 14
    assert not stale.exists() and fresh.exists()


def test_gc_on_a_memory_url(db: Database) -> None:
    import fsspec

    name = f"shipyard-gc-{uuid.uuid4().hex}"
    arts = SqlArtifacts(db, BlobStore(f"memory://{name}"))
    try:
        used = arts.upload_stream(RUN, "a.txt", [b"used"])
        orphan = arts.blobs.put_stream([b"unused"])

        assert collect_garbage(db, arts.blobs, dry_run=False).blobs == ()  # too young
        report = collect_garbage(db, arts.blobs, dry_run=False, grace_s=0)

        assert report.blobs == (orphan,)
        assert [d for d, _ in arts.blobs.iter_digests()] == [used.sha256]
    finally:
        fsspec.filesystem("memory").rm(f"/{name}", recursive=True)


def test_empty_store_and_catalog(db: Database, root: Path) -> None:
    report = collect_garbage(db, BlobStore(root.as_uri()), dry_run=False)
    assert report == GcReport(False, (), (), 0, 0)
