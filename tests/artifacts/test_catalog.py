"""SqlArtifacts on real SQLite and PostgreSQL with a real blob store on disk."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shipyard.artifacts.blobs import BlobStore
from shipyard.artifacts.catalog import SqlArtifacts
from shipyard.artifacts.entities import ArtifactInfo
from shipyard.artifacts.owners import model_owner, run_owner
from shipyard.artifacts.paths import normalize_path
from shipyard.artifacts.service import ArtifactService
from shipyard.errors import Conflict, IntegrityError, InvalidArgument, NotFound
from shipyard.store import Database

RUN = run_owner("0123456789abcdef0123456789abcdef")
MODEL = model_owner("churn", 1)


@pytest.fixture
def arts(db_url: str, tmp_path: Path) -> Iterator[SqlArtifacts]:
    db = Database(db_url)
    yield SqlArtifacts(db, BlobStore((tmp_path / "blobs").as_uri()))
    db.dispose()


def make_tree(root: Path) -> dict[str, bytes]:
    """A nested folder on disk; returns {relative path: content}."""
    files = {
        "README.md": b"# model\n",
        "model/MLmodel": b"flavor: sklearn\n",
        "model/weights/a.bin": os.urandom(300_000),
        "model/weights/b.bin": os.urandom(1000),
        "model/data/nested/deep/c.txt": b"deep",
        "model/data/empty.txt": b"",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_satisfies_the_service_protocol(arts: SqlArtifacts) -> None:
    service: ArtifactService = arts
    assert service is arts


def test_folder_upload_list_download_round_trip(arts: SqlArtifacts, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "src")

    stored = arts.upload(RUN, tmp_path / "src")

    assert stored == [ArtifactInfo(p, False, len(d), sha(d)) for p, d in sorted(files.items())]
    assert arts.list(RUN) == [
        ArtifactInfo("README.md", False, 8, sha(b"# model\n")),
        ArtifactInfo("model", True),
    ]
    assert arts.list(RUN, "model") == [
        ArtifactInfo("model/MLmodel", False, 16, sha(files["model/MLmodel"])),
        ArtifactInfo("model/data", True),
        ArtifactInfo("model/weights", True),
    ]
    assert arts.list(RUN, "model/data/") == [
        ArtifactInfo("model/data/empty.txt", False, 0, sha(b"")),
        ArtifactInfo("model/data/nested", True),
    ]
    assert [i.path for i in arts.list(RUN, recursive=True)] == sorted(files)
    assert [i.path for i in arts.list(RUN, "model/data", recursive=True)] == [
        "model/data/empty.txt",
        "model/data/nested/deep/c.txt",
    ]

    out = arts.download(RUN, "", tmp_path / "all")
    assert out == tmp_path / "all"
    for rel, data in files.items():
        assert (out / rel).read_bytes() == data
    assert sum(1 for p in out.rglob("*") if p.is_file()) == len(files)

    sub = arts.download(RUN, "model/weights", tmp_path / "sub")
    assert sub == tmp_path / "sub" / "model" / "weights"
    assert sorted(p.name for p in sub.iterdir()) == ["a.bin", "b.bin"]
    one = arts.download(RUN, "model/data/nested/deep/c.txt", tmp_path / "one")
    assert one.read_bytes() == b"deep"


def test_upload_places_files_and_folders_under_artifact_path(
    arts: SqlArtifacts, tmp_path: Path
) -> None:
    make_tree(tmp_path / "src")
    (tmp_path / "roc.png").write_bytes(b"\x89PNG")

    [plot] = arts.upload(RUN, tmp_path / "roc.png", "plots/./eval/")
    folder = arts.upload(MODEL, tmp_path / "src" / "model", "model")

    assert plot.path == "plots/eval/roc.png"
    assert {i.path for i in folder} == {
        "model/MLmodel",
        "model/weights/a.bin",
        "model/weights/b.bin",
        "model/data/nested/deep/c.txt",
        "model/data/empty.txt",
    }
    assert arts.list(RUN, "plots/eval/roc.png") == [plot]


def test_empty_folder_uploads_nothing(arts: SqlArtifacts, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert arts.upload(RUN, tmp_path / "empty") == []
    assert arts.list(RUN) == []


def test_reupload_replaces_the_row(arts: SqlArtifacts, tmp_path: Path) -> None:
    f = tmp_path / "metrics.json"
    f.write_bytes(b'{"auc": 0.7}')
    arts.upload(RUN, f)
    f.write_bytes(b'{"auc": 0.9}')
    arts.upload(RUN, f)

    assert arts.list(RUN, recursive=True) == [
        ArtifactInfo("metrics.json", False, 12, sha(b'{"auc": 0.9}'))
    ]
    assert b"".join(arts.open(RUN, "metrics.json")) == b'{"auc": 0.9}'


def test_paths_are_matched_exactly_not_as_patterns(arts: SqlArtifacts) -> None:
    for path in ["a_b/x", "a%b/y", "aXb/z", "A_B/w"]:
        arts.upload_stream(RUN, path, [path.encode()])

    assert [i.path for i in arts.list(RUN, "a_b", recursive=True)] == ["a_b/x"]
    assert [i.path for i in arts.list(RUN, "a%b")] == ["a%b/y"]
    with pytest.raises(NotFound):
        arts.list(RUN, "a_")
    assert [i.path for i in arts.list(RUN)] == ["A_B", "a%b", "aXb", "a_b"]


@pytest.mark.parametrize("bad", ["../escape", "a/../../b", "/abs/path", "a\\b", "a\x00b"])
def test_escaping_paths_are_rejected(arts: SqlArtifacts, tmp_path: Path, bad: str) -> None:
    (tmp_path / "f.txt").write_bytes(b"x")
    with pytest.raises(InvalidArgument, match="artifact path"):
        arts.upload(RUN, tmp_path / "f.txt", bad)
    with pytest.raises(InvalidArgument):
        arts.list(RUN, bad)
    with pytest.raises(InvalidArgument):
        arts.download(RUN, bad, tmp_path / "out")
    with pytest.raises(InvalidArgument):
        arts.upload_stream(RUN, bad, [b"x"])
    assert arts.list(RUN) == []
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bad", ["", ".", "dir/", "a/./"])
def test_a_file_needs_a_name(arts: SqlArtifacts, bad: str) -> None:
    with pytest.raises(InvalidArgument, match="names no file"):
        arts.upload_stream(RUN, bad, [b"x"])
    with pytest.raises(InvalidArgument, match="names no file"):
        arts.open(RUN, bad)


def test_bad_owner_and_missing_local_path_are_invalid(arts: SqlArtifacts, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="owner"):
        arts.list("")
    with pytest.raises(InvalidArgument, match="owner"):
        arts.list("x" * 401)
    with pytest.raises(InvalidArgument, match="no such file or folder"):
        arts.upload(RUN, tmp_path / "missing")
    with pytest.raises(InvalidArgument, match="longer than 1000"):
        normalize_path("a/" * 600)


def test_normalize_path() -> None:
    assert normalize_path("") == ""
    assert normalize_path("./a//b/./c/") == "a/b/c"
    assert normalize_path("x.y/..z") == "x.y/..z"


def test_missing_things_raise_not_found_naming_owner_and_path(
    arts: SqlArtifacts, tmp_path: Path
) -> None:
    arts.upload_stream(RUN, "model/a.txt", [b"a"])
    other = run_owner("f" * 32)

    assert arts.list(other) == []  # an owner with nothing logged yet
    calls: list[tuple[str, Callable[[], object]]] = [
        ("model/b.txt", lambda: arts.list(RUN, "model/b.txt")),
        ("nope", lambda: arts.list(RUN, "nope", recursive=True)),
        ("model/b.txt", lambda: arts.open(RUN, "model/b.txt")),
        ("model/b.txt", lambda: arts.download(RUN, "model/b.txt", tmp_path / "out")),
        ("model/b.txt", lambda: arts.copy(RUN, "model/b.txt", MODEL, "")),
    ]
    for path, call in calls:
        with pytest.raises(NotFound) as info:
            call()
        assert RUN in str(info.value) and repr(path) in str(info.value)
    with pytest.raises(NotFound, match=other):
        arts.download(other, "", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_open_streams_a_file_and_refuses_a_folder(arts: SqlArtifacts) -> None:
    data = os.urandom(2_500_000)
    arts.upload_stream(RUN, "big/data.bin", [data[:10], data[10:]])

    chunks = list(arts.open(RUN, "big/data.bin"))
    assert b"".join(chunks) == data and len(chunks) == 3
    with pytest.raises(InvalidArgument, match="folder"):
        arts.open(RUN, "big")


def test_upload_stream_checks_an_expected_digest(arts: SqlArtifacts) -> None:
    info = arts.upload_stream(RUN, "x.txt", [b"hello"], sha256=sha(b"hello").upper())
    assert info == ArtifactInfo("x.txt", False, 5, sha(b"hello"))

    with pytest.raises(IntegrityError, match=r"y\.txt"):
        arts.upload_stream(RUN, "y.txt", [b"hellO"], sha256=sha(b"hello"))
    assert [i.path for i in arts.list(RUN)] == ["x.txt"]


def test_copy_shares_rows_not_bytes(arts: SqlArtifacts, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "src")
    arts.upload(RUN, tmp_path / "src")
    blobs_before = sorted(arts.blobs.iter_digests())

    assert arts.copy(RUN, "model", MODEL, "") == 5
    assert arts.copy(RUN, "README.md", MODEL, "") == 1
    assert arts.copy(RUN, "model/MLmodel", MODEL, "meta/MLmodel.yaml") == 1
    assert arts.copy(RUN, "", "backup:1", "snap") == len(files)

    assert sorted(arts.blobs.iter_digests()) == blobs_before
    copied = {i.path: i.sha256 for i in arts.list(MODEL, recursive=True)}
    assert copied == {
        "MLmodel": sha(files["model/MLmodel"]),
        "README.md": sha(files["README.md"]),
        "data/empty.txt": sha(b""),
        "data/nested/deep/c.txt": sha(b"deep"),
        "meta/MLmodel.yaml": sha(files["model/MLmodel"]),
        "weights/a.bin": sha(files["model/weights/a.bin"]),
        "weights/b.bin": sha(files["model/weights/b.bin"]),
    }
    assert [i.path for i in arts.list("backup:1", "snap")] == ["snap/README.md", "snap/model"]

    assert arts.delete_owner(RUN) == len(files)
    assert arts.list(RUN) == []
    out = arts.download(MODEL, "weights", tmp_path / "out")
    assert (out / "a.bin").read_bytes() == files["model/weights/a.bin"]


def test_copy_replaces_existing_destination_rows(arts: SqlArtifacts) -> None:
    arts.upload_stream(RUN, "model/a.txt", [b"new"])
    arts.upload_stream(MODEL, "a.txt", [b"old"])

    assert arts.copy(RUN, "model", MODEL, "") == 1
    assert b"".join(arts.open(MODEL, "a.txt")) == b"new"


def test_a_path_cannot_be_both_file_and_folder(arts: SqlArtifacts, tmp_path: Path) -> None:
    arts.upload_stream(RUN, "model", [b"a file named model"])
    with pytest.raises(Conflict, match="'model'"):
        arts.upload_stream(RUN, "model/weights.bin", [b"w"])
    arts.upload_stream(RUN, "plots/roc.png", [b"png"])
    with pytest.raises(Conflict, match="'plots'"):
        arts.upload_stream(RUN, "plots", [b"x"])
    with pytest.raises(Conflict):
        arts.copy(RUN, "plots/roc.png", RUN, "model/roc.png")

    # A folder upload that clashes stores no row at all: one transaction for every file.
    make_tree(tmp_path / "src")
    (tmp_path / "src" / "plots").write_bytes(b"clash")
    with pytest.raises(Conflict):
        arts.upload(RUN, tmp_path / "src")
    assert [i.path for i in arts.list(RUN, recursive=True)] == ["model", "plots/roc.png"]


def test_corrupted_blob_fails_download_and_leaves_no_file(
    arts: SqlArtifacts, tmp_path: Path
) -> None:
    info = arts.upload_stream(RUN, "model/weights.bin", [os.urandom(50_000)])
    digest = str(info.sha256)
    blob = tmp_path / "blobs" / "sha256" / digest[:2] / digest
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))

    with pytest.raises(IntegrityError, match=digest):
        arts.download(RUN, "model", tmp_path / "out")
    with pytest.raises(IntegrityError):
        b"".join(arts.open(RUN, "model/weights.bin"))
    assert not (tmp_path / "out" / "model" / "weights.bin").exists()
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_delete_owner_removes_rows_but_keeps_blobs(arts: SqlArtifacts) -> None:
    arts.upload_stream(RUN, "a", [b"1"])
    arts.upload_stream(RUN, "b/c", [b"2"])
    arts.upload_stream(MODEL, "a", [b"1"])

    assert arts.delete_owner(RUN) == 2
    assert arts.delete_owner(RUN) == 0
    assert arts.list(RUN) == []
    assert [i.path for i in arts.list(MODEL)] == ["a"]
    assert len(list(arts.blobs.iter_digests())) == 2
