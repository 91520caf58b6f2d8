"""Artifacts: content-addressed blobs on any fsspec URL and the catalog of each owner's files.

``BlobStore`` (``blobs``) holds the bytes; ``SqlArtifacts`` (``catalog``) maps (owner, path) to
them in the metadata database; ``collect_garbage`` (``gc``) removes blobs nothing refers to.
Names are loaded lazily so importing this package stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.artifacts.blobs import BlobStore
    from shipyard.artifacts.catalog import SqlArtifacts
    from shipyard.artifacts.gc import GcReport, collect_garbage
    from shipyard.artifacts.service import ArtifactService

_WHERE = {
    "ArtifactService": "shipyard.artifacts.service",
    "BlobStore": "shipyard.artifacts.blobs",
    "GcReport": "shipyard.artifacts.gc",
    "SqlArtifacts": "shipyard.artifacts.catalog",
    "collect_garbage": "shipyard.artifacts.gc",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ArtifactService", "BlobStore", "GcReport", "SqlArtifacts", "collect_garbage"]
