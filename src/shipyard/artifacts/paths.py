"""Artifact paths and owners: checked and normalised the same way on client and server.

Kept free of heavy imports so the HTTP client can use it without SQLAlchemy.
"""

from __future__ import annotations

from shipyard.errors import InvalidArgument

OWNER_MAX = 400
PATH_MAX = 1000


def normalize_path(path: object, *, allow_root: bool = True) -> str:
    """Return an artifact path in normal form; ``""`` is the owner's root folder.

    Raises InvalidArgument for ``..``, an absolute path, a backslash, a path longer than 1000
    characters, or (with ``allow_root=False``) a path that names no file.

    >>> normalize_path("model/./weights//a.bin")
    'model/weights/a.bin'
    """
    if not isinstance(path, str):
        raise InvalidArgument(f"artifact path must be a string, got {path!r}")
    if "\x00" in path or "\\" in path:
        raise InvalidArgument(
            f"artifact path {path!r} holds a NUL or a backslash; use '/' between folders"
        )
    if path.startswith("/"):
        raise InvalidArgument(
            f"artifact path {path!r} is absolute; give it relative to the owner's root"
        )
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise InvalidArgument(f"artifact path {path!r} contains '..'; paths cannot leave the root")
    normal = "/".join(parts)
    if not allow_root and (not normal or path.endswith("/")):
        raise InvalidArgument(f"artifact path {path!r} names no file: give a file name")
    if len(normal) > PATH_MAX:
        raise InvalidArgument(
            f"artifact path {normal[:40]!r}… is longer than {PATH_MAX} characters"
        )
    return normal


def check_owner(owner: object) -> str:
    if not isinstance(owner, str) or not owner.strip() or len(owner) > OWNER_MAX:
        raise InvalidArgument(
            f"artifact owner must be a non-empty string of at most {OWNER_MAX} characters "
            f"such as 'run:<id>', got {owner!r}"
        )
    return owner


__all__ = ["OWNER_MAX", "PATH_MAX", "check_owner", "normalize_path"]
