"""Runs as a pandas DataFrame: one row per run, ``metrics.*``, ``params.*``, ``tags.*`` columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shipyard.tracking.entities import Run

if TYPE_CHECKING:
    import pandas as pd

BASE_COLUMNS = (
    "run_id",
    "experiment_id",
    "name",
    "status",
    "user",
    "start_time",
    "end_time",
    "parent_run_id",
)


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """Build the DataFrame in one go from column lists (no per-row DataFrame appends)."""
    import pandas as pd

    n = len(runs)
    cols: dict[str, list[Any]] = {c: [] for c in BASE_COLUMNS}
    extra: dict[str, list[Any]] = {}

    def put(name: str, i: int, value: Any) -> None:
        col = extra.get(name)
        if col is None:
            col = extra[name] = [None] * n
        col[i] = value

    for i, run in enumerate(runs):
        cols["run_id"].append(run.run_id)
        cols["experiment_id"].append(run.experiment_id)
        cols["name"].append(run.name)
        cols["status"].append(run.status.value)
        cols["user"].append(run.user)
        cols["start_time"].append(run.start_time)
        cols["end_time"].append(run.end_time)
        cols["parent_run_id"].append(run.parent_run_id)
        for k, v in run.metrics.items():
            put(f"metrics.{k}", i, v)
        for key, text in run.params.items():
            put(f"params.{key}", i, text)
        for key, text in run.tags.items():
            put(f"tags.{key}", i, text)
    df = pd.DataFrame({**cols, **{k: extra[k] for k in sorted(extra)}})
    for c in ("start_time", "end_time"):
        df[c] = pd.to_datetime(df[c], unit="ms", utc=True)
    metric_cols = [c for c in df.columns if c.startswith("metrics.")]
    if metric_cols:
        df[metric_cols] = df[metric_cols].astype("float64")
    return df
