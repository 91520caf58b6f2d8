"""Plain, frozen values the tracking service hands out. Times are ms since the epoch (UTC)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclass(frozen=True)
class Experiment:
    experiment_id: int
    name: str
    created_at: int
    updated_at: int
    deleted_at: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class Metric:
    """One point. ``value`` may be NaN or +/-inf (NaN is stored as NULL, see docs)."""

    key: str
    value: float
    step: int = 0
    timestamp: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": encode_float(self.value),
            "step": self.step,
            "timestamp": self.timestamp,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Metric:
        return cls(
            str(d["key"]),
            decode_float(d["value"]),
            int(d.get("step", 0)),
            int(d.get("timestamp", 0)),
        )


@dataclass(frozen=True)
class DatasetInput:
    """A dataset a run read: lineage recorded by ``log_input``."""

    name: str
    digest: str
    source: str
    context: str = "training"
    num_rows: int | None = None
    schema: Mapping[str, str] | None = None
    logged_at: int = 0


@dataclass(frozen=True)
class Run:
    run_id: str
    experiment_id: int
    name: str
    status: RunStatus
    user: str
    start_time: int
    end_time: int | None
    heartbeat_at: int
    parent_run_id: str | None = None
    deleted_at: int | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)  # latest value of each
    tags: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[DatasetInput, ...] = ()

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class RunPage:
    """One page of ``search_runs`` results; pass ``next_page_token`` to get the next."""

    runs: list[Run]
    next_page_token: str | None = None


def encode_float(value: float) -> float | str:
    """JSON-safe form of a float: non-finite values become "NaN", "Infinity", "-Infinity"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_float(value: Any) -> float:
    """Inverse of :func:`encode_float` (``None`` reads back as NaN)."""
    if value is None:
        return math.nan
    return float(value)
