"""What the scheduler works with: jobs (what runs, when) and triggers (each time one ran)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from shipyard.errors import ConfigError

KINDS = ("pipeline", "monitor", "python")
GROUPS = {"pipeline": "pipelines", "python": "pipelines", "monitor": "monitors"}
STATES = ("running", "succeeded", "failed", "interrupted", "skipped")


@dataclass(frozen=True)
class Job:
    """One scheduled job: run ``target`` of ``kind`` (a pipeline name, a monitor name, or a
    ``module:function`` for ``python``) on ``cron`` slots and/or when dataset ``on_new_data``
    gets a new version.

    >>> Job.from_dict("nightly", {"pipeline": "churn", "cron": "0 2 * * *"}).group
    'pipelines'
    """

    name: str
    kind: str
    target: str
    cron: str | None = None
    on_new_data: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"job {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.cron is None and self.on_new_data is None:
            raise ConfigError(
                f"job {self.name!r} never runs: give cron: '0 2 * * *' and/or on_new_data: DATASET"
            )
        if self.cron is not None:
            check_cron(self.cron, where=f"job {self.name!r}")

    @property
    def group(self) -> str:
        """``pipelines`` or ``monitors`` (what ``--only`` selects)."""
        return GROUPS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "cron": self.cron,
            "on_new_data": self.on_new_data,
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> Job:
        """A ``schedules:`` entry: exactly one of ``pipeline:``, ``monitor:``, ``python:``, plus
        ``cron:`` and/or ``on_new_data:``. Raises ConfigError naming the bad field."""
        where = f"schedules.{name}"
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must be a mapping like {{pipeline: churn, cron: ...}}")
        known = {*KINDS, "cron", "on_new_data"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {unknown}; known: {sorted(known)}")
        kinds = [k for k in KINDS if k in data]
        if len(kinds) != 1:
            raise ConfigError(f"{where} needs exactly one of pipeline:, monitor:, python:")
        return cls(
            name=name,
            kind=kinds[0],
            target=str(data[kinds[0]]),
            cron=None if data.get("cron") is None else str(data["cron"]),
            on_new_data=None if data.get("on_new_data") is None else str(data["on_new_data"]),
        )


def check_cron(expr: str, *, where: str = "schedule") -> str:
    """Return ``expr`` if it is a cron expression (5 fields, or 6 with seconds first).

    Raises ConfigError quoting cronsim's reason.

    >>> check_cron("*/5 * * * *")
    '*/5 * * * *'
    """
    from cronsim import CronSim, CronSimError

    try:
        CronSim(expr, datetime.now(UTC))
    except (CronSimError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"{where}: {expr!r} is not a cron expression ({exc}); write 5 fields "
            "'minute hour day-of-month month day-of-week', e.g. '0 2 * * *', or 6 with seconds "
            "first"
        ) from exc
    return expr


@dataclass(frozen=True)
class Trigger:
    """One (job, slot) claimed by a scheduler: when, why, by whom, and how it ended.

    ``slot`` is the cron time (``2026-11-27T02:00:00Z``) or ``data:NAME@VERSION``; ``state`` is
    running, succeeded, failed, interrupted (its scheduler died mid-run) or skipped.
    """

    id: int
    job: str
    slot: str
    state: str
    reason: str
    owner: str
    created_at: int
    run_id: str | None = None
    error: str | None = None
    started_at: int | None = None
    finished_at: int | None = None
    heartbeat_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def slot_text(when: datetime) -> str:
    """The slot id of a cron time: ISO 8601 in UTC, to the second."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["GROUPS", "KINDS", "STATES", "Job", "Trigger", "check_cron", "slot_text"]
