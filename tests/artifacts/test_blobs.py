"""BlobStore on real files (and fsspec's memory filesystem): layout, dedup, atomicity, integrity."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.artifacts.blobs import CHUNK_SIZE, BlobStore, check_sha256
from shipyard.errors import ConfigError, IntegrityError, InvalidArgument, NotFound

EMPTY_SHA = hashlib.sha256(b"").hexdigest()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def store(root: Path) -> BlobStore:
    return BlobStore(root.as_uri())


def blob_file(root: Path, sha: str) -> Path:
    return root / "sha256" / sha[:2] / sha


def flip_byte(path: Path, offset: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_put_file_stores_at_content_address_and_reads_back(
    store: BlobStore, root: Path, tmp_path: Path
) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 123)
    src = tmp_path / "data.bin"
    src.write_bytes(data)

    sha, size = store.put_file(src)

    assert (sha, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert blob_file(root, sha).read_bytes() == data
    chunks = list(store.open(sha))
    assert len(chunks) == 3 and max(len(c) for c in chunks) == CHUNK_SIZE
    assert b"".join(chunks) == data
    assert store.exists(sha)
    assert list(store.iter_digests()) == [(sha, len(data))]


def test_same_content_is_stored_once_and_no_temp_file_remains(
    store: BlobStore, root: Path, tmp_path: Path
) -> None:
    data = b"same bytes " * 1000
    (tmp_path / "a.txt").write_bytes(data)
    (tmp_path / "b.txt").write_bytes(data)

    first = store.put_file(tmp_path / "a.txt")
    second = store.put_file(tmp_path / "b.txt")
    third = store.put_stream(iter([data[:7], data[7:]]))

    assert first == second == third
    assert list(store.iter_digests()) == [first]
    assert list((root / "tmp").iterdir()) == []
    assert store.stale_temp_files(0) == []


def test_storing_existing_content_refreshes_its_mtime(store: BlobStore, root: Path) -> None:
    sha, _ = store.put_stream([b"payload"])
    age(blob_file(root, sha), 7200)
    old = store.modified(sha)
    assert old is not None and old < time.time() - 7000

    store.put_stream([b"pay", b"load"])

    new = store.modified(sha)
    assert new is not None and new > time.time() - 60


def test_empty_stream_is_a_valid_blob(store: BlobStore) -> None:
    assert store.put_stream([]) == (EMPTY_SHA, 0)
    assert list(store.open(EMPTY_SHA)) == []


def test_stream_failing_midway_leaves_nothing(store: BlobStore, root: Path) -> None:
    first = os.urandom(1000)

    def broken() -> Iterator[bytes]:
        yield first
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream(broken())

    assert not blob_file(root, hashlib.sha256(first).hexdigest()).exists()
    assert list(store.iter_digests()) == []
    assert list((root / "tmp").iterdir()) == []


def test_flipped_byte_is_detected_on_read(store: BlobStore, root: Path) -> None:
    sha, _ = store.put_stream([os.urandom(3 * CHUNK_SIZE)])
    flip_byte(blob_file(root, sha), offset=CHUNK_SIZE + 5)

    with pytest.raises(IntegrityError) as info:
        b"".join(store.open(sha))
    assert sha in str(info.value) and "upload the artifact again" in str(info.value)


def test_read_to_writes_verified_file(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(CHUNK_SIZE + 10)
    sha, _ = store.put_stream([data])
    dst = tmp_path / "out" / "nested" / "file.bin"

    store.read_to(sha, dst)

    assert dst.read_bytes() == data
    assert sorted(p.name for p in dst.parent.iterdir()) == ["file.bin"]


def test_read_to_corrupted_blob_writes_nothing(
    store: BlobStore, root: Path, tmp_path: Path
) -> None:
    sha, _ = store.put_stream([os.urandom(2 * CHUNK_SIZE)])
    flip_byte(blob_file(root, sha), offset=2 * CHUNK_SIZE - 1)
    out = tmp_path / "out"
    out.mkdir()
    kept = out / "kept.bin"
    kept.write_bytes(b"previous version")

    with pytest.raises(IntegrityError):
        store.read_to(sha, out / "new.bin")
    with pytest.raises(IntegrityError):
        store.read_to(sha, kept)

    assert sorted(p.name for p in out.iterdir()) == ["kept.bin"]
    assert kept.read_bytes() == b"previous version"


def test_read_parses_verified_bytes_and_refuses_corrupted_ones(
    store: BlobStore, root: Path
) -> None:
    payload = os.urandom(3 * CHUNK_SIZE + 7)
    sha, _ = store.put_stream([payload])
    assert store.read(sha, len) == len(payload)
    assert store.read(sha, lambda data: data == payload) is True

    flip_byte(blob_file(root, sha), offset=CHUNK_SIZE)
    with pytest.raises(IntegrityError, match="corrupted"):
        store.read(sha, len)  # the parse succeeds: the hash still decides

    def choke(data: bytes) -> None:
        raise ValueError("not a Parquet file")

    with pytest.raises(IntegrityError, match="corrupted"):  # the cause, not the symptom
        store.read(sha, choke)
    with pytest.raises(NotFound):
        store.read(hashlib.sha256(b"never stored").hexdigest(), len)


def test_missing_blob_raises_not_found_at_once(store: BlobStore, tmp_path: Path) -> None:
    sha = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(NotFound, match=sha):
        store.open(sha)  # no iteration needed
    with pytest.raises(NotFound):
        store.read_to(sha, tmp_path / "x")
    with pytest.raises(NotFound):
        store.modified(sha)
    assert not (tmp_path / "x").exists()
    assert store.exists(sha) is False


@pytest.mark.parametrize("bad", ["", "abc", "../../etc/passwd", "g" * 64, "a" * 63 + "/", 42])
def test_malformed_digest_is_rejected_before_any_path_is_built(
    store: BlobStore, root: Path, bad: object
) -> None:
    with pytest.raises(InvalidArgument, match="SHA-256"):
        store.open(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        store.exists(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        store.delete(bad)  # type: ignore[arg-type]
    assert not root.exists()


def test_uppercase_digest_is_accepted() -> None:
    assert check_sha256(EMPTY_SHA.upper()) == EMPTY_SHA


def test_delete_removes_blob_and_is_idempotent(store: BlobStore) -> None:
    sha, _ = store.put_stream([b"to delete"])
    store.delete(sha)
    store.delete(sha)
    assert not store.exists(sha)
    assert list(store.iter_digests()) == []


def test_iter_digests_ignores_stray_files(store: BlobStore, root: Path) -> None:
    sha, size = store.put_stream([b"real"])
    (root / "sha256" / "zz").mkdir()
    (root / "sha256" / "zz" / "notes.txt").write_text("junk")
    misplaced = hashlib.sha256(b"x").hexdigest()
    (root / "sha256" / sha[:2] / misplaced).write_bytes(b"x")  # wrong fan-out folder

    assert list(store.iter_digests()) == [(sha, size)]


def test_stale_temp_files_are_found_by_age_and_deleted(store: BlobStore, root: Path) -> None:
    (root / "tmp").mkdir(parents=True)
    old = root / "tmp" / uuid.uuid4().hex
    old.write_bytes(b"x" * 10)
    age(old, 7200)
    fresh = root / "tmp" / uuid.uuid4().hex
    fresh.write_bytes(b"y" * 3)

    assert store.stale_temp_files(3600) == [(old.name, 10)]
    assert sorted(store.stale_temp_files(0)) == sorted([(old.name, 10), (fresh.name, 3)])

    store.delete_temp(old.name)
    store.delete_temp(old.name)
    assert not old.exists() and fresh.exists()
    for bad in ["", "../sha256", "a/b", ".."]:
        with pytest.raises(InvalidArgument):
            store.delete_temp(bad)


def test_put_file_of_missing_path_is_invalid(store: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="not an existing file"):
        store.put_file(tmp_path / "nope.bin")
    with pytest.raises(InvalidArgument):
        store.put_file(tmp_path)


def test_unknown_url_scheme_fails_on_first_use_with_config_error() -> None:
    store = BlobStore("nosuchproto://bucket/artifacts")  # cheap: nothing resolved yet
    with pytest.raises(ConfigError, match="nosuchproto"):
        store.exists(EMPTY_SHA)


@pytest.fixture
def memory_store() -> Iterator[BlobStore]:
    import fsspec

    name = f"shipyard-test-{uuid.uuid4().hex}"
    yield BlobStore(f"memory://{name}/artifacts")
    fs = fsspec.filesystem("memory")
    if fs.exists(f"/{name}"):
        fs.rm(f"/{name}", recursive=True)


def test_memory_url_round_trip_dedup_and_integrity(memory_store: BlobStore) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    data = os.urandom(CHUNK_SIZE + 77)
    sha, size = memory_store.put_stream([data[:100], data[100:]])
    assert memory_store.put_stream([data]) == (sha, size)
    assert list(memory_store.iter_digests()) == [(sha, size)]
    assert b"".join(memory_store.open(sha)) == data
    assert memory_store.stale_temp_files(0) == []
    assert memory_store.modified(sha) is not None

    root = memory_store.url.removeprefix("memory://")
    fs.pipe(f"/{root}/sha256/{sha[:2]}/{sha}", b"tampered" + data[8:])
    with pytest.raises(IntegrityError, match=sha):
        b"".join(memory_store.open(sha))

    memory_store.delete(sha)
    assert not memory_store.exists(sha)
    with pytest.raises(NotFound):
        memory_store.open(sha)


def test_memory_url_failed_stream_and_stale_temp(memory_store: BlobStore) -> None:
    import fsspec

    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        memory_store.put_stream(broken())
    assert list(memory_store.iter_digests()) == []
    assert memory_store.stale_temp_files(0) == []

    root = memory_store.url.removeprefix("memory://")
    fsspec.filesystem("memory").pipe(f"/{root}/tmp/leftover", b"12345")
    assert memory_store.stale_temp_files(0) == [("leftover", 5)]
    assert memory_store.stale_temp_files(3600) == []
    memory_store.delete_temp("leftover")
    assert memory_store.stale_temp_files(0) == []


_UPLOADER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from shipyard.artifacts.blobs import BlobStore

    store = BlobStore(sys.argv[1])
    while True:
        store.put_file(Path(sys.argv[2]))
        print("stored", flush=True)
    """
)


def _partial_temp(tmp_dir: Path, full: int) -> bool:
    try:
        return any(0 < p.stat().st_size < full for p in tmp_dir.iterdir())
    except FileNotFoundError:  # a temp file vanished between listing and stat
        return False


@pytest.mark.slow
def test_kill_9_during_upload_leaves_only_a_stale_temp_file(
    store: BlobStore, root: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        for _ in range(50):
            out.write(os.urandom(CHUNK_SIZE))
    full = 50 * CHUNK_SIZE
    proc = subprocess.Popen(
        [sys.executable, "-c", _UPLOADER, store.url, str(big)], stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"stored\n"  # one blob is complete
        deadline = time.monotonic() + 60
        while not _partial_temp(root / "tmp", full):
            assert time.monotonic() < deadline, "the uploader never started a second upload"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    digests = list(store.iter_digests())
    assert digests == [(hashlib.sha256(big.read_bytes()).hexdigest(), full)]
    for sha, _ in digests:
        store.read_to(sha, tmp_path / "check.bin")  # raises IntegrityError if not intact
    stale = store.stale_temp_files(0)
    assert len(stale) == 1 and 0 < stale[0][1] <= full
    assert store.stale_temp_files(3600) == []  # too fresh for the default age
    store.delete_temp(stale[0][0])
    assert list((root / "tmp").iterdir()) == []
