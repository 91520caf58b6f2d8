"""The drift SDK: ``shipyard.compute_drift`` on files, URLs, dataset versions or tables.

>>> import shipyard
>>> shipyard.compute_drift  # doctest: +ELLIPSIS
<function compute_drift at ...>
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidArgument
from shipyard.monitoring.drift.config import DriftConfig
from shipyard.monitoring.drift.inputs import ParquetColumns

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.monitoring.drift.entities import DriftReport

__all__ = ["compute_drift", "drift_config", "load_side"]

_FILE_SUFFIXES = (".csv", ".parquet", ".pq", ".jsonl", ".ndjson")
_COMPRESSED = (".gz", ".bz2", ".zst", ".xz")


def _looks_like_file(text: str) -> bool:
    """A path or URL rather than a dataset reference (``NAME``, ``NAME@VERSION``)."""
    if "://" in text or "/" in text or "\\" in text or Path(text).exists():
        return True
    lowered = text.lower()
    for suffix in _COMPRESSED:
        lowered = lowered.removesuffix(suffix)
    return lowered.endswith(_FILE_SUFFIXES)


def load_side(source: str, *, side: str = "data") -> pa.Table | ParquetColumns:
    """The rows ``source`` names: a CSV/Parquet/JSON Lines file, glob or folder (a path or any
    fsspec URL), or a stored dataset version ``NAME@VERSION`` / ``NAME`` (newest) /
    ``dataset:NAME@VERSION``. A local Parquet file is not read here but one column at a time
    while drift is computed (:class:`ParquetColumns`), so memory stays bounded.

    Raises:
        InvalidArgument: ``source`` is empty or a file cannot be read.
        NotFound: no file matches, or no such dataset version.
    """
    if not isinstance(source, str) or not source.strip():
        raise InvalidArgument(
            f"the {side} is empty: give a CSV/Parquet path or URL, or a dataset NAME@VERSION"
        )
    text = source.strip()
    if text.startswith("dataset:") or not _looks_like_file(text):
        from shipyard.data.fluent import load_dataset

        return load_dataset(text, context="monitoring")
    if text.lower().endswith((".parquet", ".pq")) and Path(text).is_file():
        return ParquetColumns.open(text)
    from shipyard.data.sources.files import FileSource

    return FileSource(side, text).read().table


def drift_config(config: DriftConfig | Mapping[str, Any] | str | Path | None) -> DriftConfig:
    """A ``DriftConfig`` from one, from plain data, or from a YAML file or text.

    Raises:
        ConfigError: invalid settings. NotFound: the YAML file does not exist.
    """
    if config is None or isinstance(config, DriftConfig):
        return config or DriftConfig()
    if isinstance(config, Mapping):
        return DriftConfig.from_dict(config)
    return DriftConfig.from_yaml(config)


def compute_drift(
    reference: Any,
    current: Any,
    *,
    config: DriftConfig | Mapping[str, Any] | str | Path | None = None,
    columns: Sequence[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> DriftReport:
    """Drift of ``current`` against ``reference``, per column and for the dataset.

    Each side is a pandas DataFrame, an Arrow table, a file path/URL (CSV, Parquet, JSON Lines)
    or a dataset version ``NAME@VERSION``. ``config`` is a ``DriftConfig``, a mapping or a YAML
    file; ``thresholds`` sets per-column effect-size thresholds over it (each must name a
    tested column). See
    :func:`shipyard.monitoring.drift.compute_drift` for the tests and the result.

    Raises:
        InvalidArgument: an input cannot be read or compared (the message says why).
        NotFound: a file or dataset version does not exist.
        ConfigError: invalid settings.
    """
    from shipyard.monitoring.drift.engine import compute_drift as _compute

    settings = drift_config(config)
    ref = load_side(reference, side="reference") if isinstance(reference, str) else reference
    cur = load_side(current, side="current") if isinstance(current, str) else current
    return _compute(ref, cur, config=settings, columns=columns, thresholds=thresholds)
