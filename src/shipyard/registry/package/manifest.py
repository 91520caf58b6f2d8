"""``MANIFEST.json``: the SHA-256 and size of every file of a model package.

The manifest is written last, once every other file is in place, and checked first, before
a single byte of the package is deserialized or run. A package verifies when the set of files
on disk is exactly the set listed (nothing missing, nothing added) and every file matches its
recorded size and digest. Files that are then read to load the model go through
:func:`read_verified`, which checks the bytes actually read once more, so a file swapped after
the check is still caught.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "model.skops").write_bytes(b"weights")
>>> sorted(write_manifest(folder))
['model.skops']
>>> verify_manifest(folder)["model.skops"].size
7
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from shipyard.errors import IntegrityError, InvalidArgument

MANIFEST_FILE = "MANIFEST.json"
MANIFEST_FORMAT = 1
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    """What the manifest records for one file: its SHA-256 (hex) and size in bytes."""

    sha256: str
    size: int


Manifest = Mapping[str, FileEntry]


def write_manifest(folder: Path) -> dict[str, FileEntry]:
    """Hash every file under ``folder`` into ``folder/MANIFEST.json``; return the entries.

    Paths are relative, ``/``-separated. Raises InvalidArgument when the folder holds a
    symbolic link (a package must be self-contained).
    """
    entries = {rel: _digest(folder / rel) for rel in _walk(folder, on_link=_refuse_link)}
    body = {
        "format": MANIFEST_FORMAT,
        "algorithm": "sha256",
        "files": {rel: {"sha256": e.sha256, "size": e.size} for rel, e in entries.items()},
    }
    tmp = folder / f".{MANIFEST_FILE}.tmp"
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST_FILE)
    return entries


def verify_manifest(folder: Path) -> dict[str, FileEntry]:
    """Check that ``folder`` holds exactly the files of its manifest, byte for byte.

    Returns the manifest entries. Raises IntegrityError naming every missing, modified or
    unlisted file (and when MANIFEST.json itself is missing or malformed).
    """
    entries = read_manifest(folder)
    problems: list[str] = []
    on_disk = set(_walk(folder, on_link=lambda rel: problems.append(f"{rel!r} is a symlink")))
    for rel in sorted(set(entries) - on_disk):
        problems.append(f"{rel!r} is listed in {MANIFEST_FILE} but missing")
    for rel in sorted(on_disk - set(entries)):
        problems.append(f"{rel!r} is not listed in {MANIFEST_FILE}")
    for rel in sorted(on_disk & set(entries)):
        actual = _digest(folder / rel)
        if actual != entries[rel]:
            problems.append(_mismatch(rel, actual, entries[rel]))
    if problems:
        raise IntegrityError(
            f"model package {folder} failed its integrity check: {'; '.join(problems)}. "
            "The package was modified or corrupted; save or download it again"
        )
    return entries


def read_verified(folder: Path, rel: str, manifest: Manifest) -> bytes:
    """Read ``folder/rel`` and check the bytes read against ``manifest``.

    Raises IntegrityError when the file is not listed or its bytes do not match.
    """
    entry = manifest.get(rel)
    if entry is None:
        raise IntegrityError(f"{rel!r} is not listed in {MANIFEST_FILE} of {folder}")
    try:
        data = (folder / rel).read_bytes()
    except OSError as exc:
        raise IntegrityError(f"{rel!r} of model package {folder} cannot be read: {exc}") from exc
    actual = FileEntry(hashlib.sha256(data).hexdigest(), len(data))
    if actual != entry:
        raise IntegrityError(f"model package {folder}: {_mismatch(rel, actual, entry)}")
    return data


def read_manifest(folder: Path) -> dict[str, FileEntry]:
    """Parse ``folder/MANIFEST.json`` without checking files. Raises IntegrityError."""
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise IntegrityError(
            f"{folder} has no {MANIFEST_FILE}: it is not a Shipyard model package, or it was "
            "not completely written; save it again with save_model()"
        )
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return {_safe_rel(rel): _entry(raw) for rel, raw in body["files"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntegrityError(f"{path} is malformed ({exc}); save the package again") from exc


def _entry(raw: Any) -> FileEntry:
    sha, size = raw["sha256"], raw["size"]
    if not isinstance(sha, str) or len(sha) != 64 or not isinstance(size, int):
        raise ValueError(f"bad entry {raw!r}")
    return FileEntry(sha, size)


def _safe_rel(rel: str) -> str:
    parts = PurePosixPath(rel).parts
    if not rel or rel.startswith("/") or "\\" in rel or ".." in parts or rel == MANIFEST_FILE:
        raise ValueError(f"unsafe path {rel!r}")
    return rel


def _digest(path: Path) -> FileEntry:
    with path.open("rb") as fh:
        sha = hashlib.file_digest(fh, "sha256").hexdigest()
    return FileEntry(sha, path.stat().st_size)


def _mismatch(rel: str, actual: FileEntry, expected: FileEntry) -> str:
    return (
        f"{rel!r} does not match {MANIFEST_FILE} (size {actual.size}, sha256 "
        f"{actual.sha256[:12]}…; expected size {expected.size}, sha256 {expected.sha256[:12]}…)"
    )


def _refuse_link(rel: str) -> None:
    raise InvalidArgument(f"{rel!r} is a symbolic link; a model package must hold real files")


def _walk(folder: Path, *, on_link: Callable[[str], None]) -> Iterator[str]:
    """Relative paths of the files under ``folder`` except the manifest; links go to on_link."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                on_link((base / name).relative_to(folder).as_posix())
        for name in sorted(files):
            rel = (base / name).relative_to(folder).as_posix()
            if rel == MANIFEST_FILE:
                continue
            if (base / name).is_symlink():
                on_link(rel)
            else:
                yield rel
