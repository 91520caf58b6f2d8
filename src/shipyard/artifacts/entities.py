"""What the artifact service hands out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArtifactInfo:
    """A file (or, with ``is_dir``, a folder prefix) among an owner's artifacts."""

    path: str
    is_dir: bool
    size: int | None = None
    sha256: str | None = None
