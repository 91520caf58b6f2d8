"""The source interface: every connector reads into one Arrow table.

A source is a small frozen object built from Python or from a ``sources:`` entry of
``shipyard.yaml`` (``type: files | sql | http`` plus the fields of that type). ``read`` returns
the rows and, for incremental sources, the new high-water mark to pass to the next ``read``.
Errors name the source, the row or column, and the fix (``InvalidArgument`` for bad settings or
bad data, ``NotFound`` for a missing file/table, ``StoreUnavailable`` for an unreachable
database or API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class ReadResult:
    """What a read produced: the rows and, for incremental sources, the new watermark."""

    table: pa.Table
    watermark: Any = None  # the largest watermark value read (None when not incremental)


class Source(Protocol):
    """A place rows come from."""

    @property
    def name(self) -> str:
        """The source's name (its key under ``sources:`` in shipyard.yaml)."""
        ...

    @property
    def kind(self) -> str:
        """``files``, ``sql`` or ``http``: the ``type:`` of its YAML entry."""
        ...

    def read(self, *, since: Any = None) -> ReadResult:
        """Read the rows (only those newer than ``since`` for an incremental source)."""
        ...

    def describe(self) -> dict[str, Any]:
        """JSON-safe settings for lineage and display (never a secret)."""
        ...
