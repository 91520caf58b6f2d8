"""MANIFEST.json: written last, every change to the folder detected."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shipyard.errors import IntegrityError, InvalidArgument
from shipyard.registry.package.manifest import (
    MANIFEST_FILE,
    read_verified,
    verify_manifest,
    write_manifest,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "code").mkdir(parents=True)
    (root / "model.skops").write_bytes(b"\x00weights" * 1000)
    (root / "code" / "mod.py").write_text("X = 1\n")
    (root / "empty.txt").write_bytes(b"")
    return root


def test_write_then_verify(folder: Path) -> None:
    written = write_manifest(folder)
    assert sorted(written) == ["code/mod.py", "empty.txt", "model.skops"]
    assert written["model.skops"].size == 8000
    body = json.loads((folder / MANIFEST_FILE).read_text())
    assert body["algorithm"] == "sha256"
    assert set(body["files"]) == set(written)
    assert verify_manifest(folder) == written


def test_modified_file_is_named(folder: Path) -> None:
    write_manifest(folder)
    (folder / "code" / "mod.py").write_text("X = 2\n")  # same size, other bytes
    with pytest.raises(IntegrityError, match=r"'code/mod.py' does not match MANIFEST.json"):
        verify_manifest(folder)


def test_added_and_deleted_files_are_named(folder: Path) -> None:
    write_manifest(folder)
    (folder / "evil.py").write_text("import os\n")
    (folder / "empty.txt").unlink()
    with pytest.raises(IntegrityError) as err:
        verify_manifest(folder)
    assert "'evil.py' is not listed in MANIFEST.json" in str(err.value)
    assert "'empty.txt' is listed in MANIFEST.json but missing" in str(err.value)


def test_missing_or_malformed_manifest(folder: Path) -> None:
    with pytest.raises(IntegrityError, match=r"has no MANIFEST.json"):
        verify_manifest(folder)
    (folder / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(IntegrityError, match="malformed"):
        verify_manifest(folder)


def test_manifest_paths_outside_the_folder_are_refused(folder: Path) -> None:
    write_manifest(folder)
    body = json.loads((folder / MANIFEST_FILE).read_text())
    body["files"]["../outside"] = body["files"].pop("empty.txt")
    (folder / MANIFEST_FILE).write_text(json.dumps(body))
    with pytest.raises(IntegrityError, match="unsafe path"):
        verify_manifest(folder)


def test_symlinks_are_refused(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("s")
    os.symlink(tmp_path / "secret", folder / "link")
    with pytest.raises(InvalidArgument, match="'link' is a symbolic link"):
        write_manifest(folder)
    (folder / "link").unlink()
    write_manifest(folder)
    os.symlink(tmp_path / "secret", folder / "link")
    with pytest.raises(IntegrityError, match="'link' is a symlink"):
        verify_manifest(folder)


def test_read_verified_rechecks_the_bytes_read(folder: Path) -> None:
    manifest = write_manifest(folder)
    assert read_verified(folder, "code/mod.py", manifest) == b"X = 1\n"
    (folder / "code" / "mod.py").write_text("X = 3\n")  # swapped after verification
    with pytest.raises(IntegrityError, match=r"'code/mod.py' does not match"):
        read_verified(folder, "code/mod.py", manifest)
    with pytest.raises(IntegrityError, match="not listed"):
        read_verified(folder, "other.bin", manifest)
