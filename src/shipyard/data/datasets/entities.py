"""What the dataset catalog hands out: datasets and their immutable snapshot versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.data.profile import TableProfile

SHORT = 12  # hex digits shown for a version; any unique prefix of 6 or more selects it


@dataclass(frozen=True)
class DatasetVersion:
    """One snapshot of a dataset, never changed after it is written.

    ``version`` is the SHA-256 of the snapshot's Parquet file, so the same rows, in the same order
    and with the same schema, always get the same id. ``seq`` numbers a dataset's versions from 1.
    ``source`` describes where the rows came from (a connector's settings, never a secret);
    ``watermark`` is the incremental high-water mark reached; ``parent`` the version an
    incremental ingest appended to.
    """

    name: str
    version: str
    seq: int
    num_rows: int
    num_bytes: int
    schema: Mapping[str, str]
    profile: Mapping[str, Any]
    source: Mapping[str, Any]
    created_at: int
    user: str
    watermark: Any = None
    parent: str | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def short(self) -> str:
        """The version id as shown: its first 12 hex digits."""
        return self.version[:SHORT]

    @property
    def ref(self) -> str:
        """``NAME@VERSION``: how commands name this snapshot."""
        return f"{self.name}@{self.short}"

    @property
    def uri(self) -> str:
        """``dataset:NAME@VERSION`` (full id): how runs record that they read it."""
        return f"dataset:{self.name}@{self.version}"

    def table_profile(self) -> TableProfile:
        """The stored profile as a :class:`~shipyard.data.profile.TableProfile`."""
        from shipyard.data.profile import TableProfile

        return TableProfile.from_dict(self.profile)


@dataclass(frozen=True)
class Dataset:
    """A named dataset: its newest version and how many it has."""

    name: str
    description: str
    created_at: int
    updated_at: int
    num_versions: int
    latest: DatasetVersion | None
