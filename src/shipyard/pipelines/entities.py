"""What the pipelines service hands out: step states, pipeline runs, failure reports."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from shipyard.errors import ShipyardError, StoreUnavailable


class StepStatus(enum.StrEnum):
    """The state of one step in one pipeline run."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    CACHED = "CACHED"  # skipped: an earlier run with the same code, params and inputs
    REUSED = "REUSED"  # outside --step/--from, or done before --resume: earlier outputs used
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # not run because a step it depends on failed

    @property
    def done(self) -> bool:
        return self in (StepStatus.SUCCEEDED, StepStatus.CACHED, StepStatus.REUSED)

    @property
    def final(self) -> bool:
        return self.done or self in (StepStatus.FAILED, StepStatus.SKIPPED)


class RunState(enum.StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class StepFailure:
    """Why a step failed: the exception, the tail of its traceback, how many attempts it had."""

    step: str
    error_type: str
    message: str
    traceback: str
    attempts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "error_type": self.error_type,
            "message": self.message,
            "traceback": self.traceback,
            "attempts": self.attempts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepFailure:
        return cls(
            step=str(data["step"]),
            error_type=str(data["error_type"]),
            message=str(data["message"]),
            traceback=str(data.get("traceback", "")),
            attempts=int(data.get("attempts", 1)),
        )

    def describe(self) -> str:
        tail = "\n".join(self.traceback.strip().splitlines()[-6:])
        return (
            f"step {self.step!r} failed after {self.attempts} attempt(s): "
            f"{self.error_type}: {self.message}\n{tail}"
        )


@dataclass(frozen=True)
class StepState:
    """One step of one pipeline run as recorded: status, cache key, why it ran, its outputs."""

    step: str
    position: int
    status: StepStatus
    reason: str = ""
    attempts: int = 0
    cache_key: str | None = None
    code_hash: str | None = None
    params_hash: str | None = None
    inputs_hash: str | None = None
    outputs: Mapping[str, Any] | None = None
    failure: StepFailure | None = None
    run_id: str | None = None
    started_at: int | None = None
    ended_at: int | None = None

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at) / 1000.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (the REST representation)."""
        data = _plain(self)
        data["outputs"] = dict(self.outputs) if self.outputs is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepState:
        return cls(**_values(cls, data, StepStatus))


@dataclass(frozen=True)
class PipelineRun:
    """One run of a pipeline with the state of each of its steps (in DAG order)."""

    id: str
    pipeline: str
    status: RunState
    trigger: str
    executor: str
    definition_hash: str
    user: str
    started_at: int
    run_id: str | None = None
    resumed_from: str | None = None
    ended_at: int | None = None
    failure: StepFailure | None = None
    steps: tuple[StepState, ...] = ()

    def step(self, name: str) -> StepState:
        for s in self.steps:
            if s.step == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (the REST representation)."""
        data = _plain(self)
        data["steps"] = [s.to_dict() for s in self.steps]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineRun:
        values = _values(cls, data, RunState)
        values["steps"] = tuple(StepState.from_dict(s) for s in data.get("steps", ()))
        return cls(**values)

    @property
    def cached(self) -> list[str]:
        return [s.step for s in self.steps if s.status == StepStatus.CACHED]

    @property
    def executed(self) -> list[str]:
        return [s.step for s in self.steps if s.status == StepStatus.SUCCEEDED]


def _plain(obj: StepState | PipelineRun) -> dict[str, Any]:
    data = {f.name: getattr(obj, f.name) for f in fields(obj)}
    data["status"] = obj.status.value
    data["failure"] = obj.failure.to_dict() if obj.failure else None
    return data


def _values(cls: type, data: Mapping[str, Any], status: type[enum.StrEnum]) -> dict[str, Any]:
    known = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in known}
    values["status"] = status(data["status"])
    values["failure"] = StepFailure.from_dict(data["failure"]) if data.get("failure") else None
    return values


@dataclass(frozen=True)
class PipelineRunResult:
    """What :func:`~shipyard.pipelines.run_pipeline` returns: the run as recorded, and each
    step's outputs by ``step.output``."""

    run: PipelineRun
    outputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.run.status == RunState.SUCCEEDED

    def output(self, ref: str) -> Any:
        """The value of output ``step.output``. Raises KeyError."""
        return self.outputs[ref]


class PipelineFailed(ShipyardError, RuntimeError):
    """A pipeline run ended with a failed step; ``run`` holds the report."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "PIPELINE_FAILED"

    def __init__(self, message: str, run: PipelineRun | None = None) -> None:
        super().__init__(message)
        self.run = run


class ExecutorUnavailable(StoreUnavailable):
    """The executor (a Dask scheduler) cannot be reached or lost every worker."""


class StepTimeout(ShipyardError, TimeoutError):
    """A step ran longer than its ``timeout``."""

    status: ClassVar[int] = 504
    code: ClassVar[str] = "STEP_TIMEOUT"


class WorkerLost(ShipyardError, RuntimeError):
    """The process running a step died (killed, out of memory) before it answered."""

    code: ClassVar[str] = "WORKER_LOST"


__all__ = [
    "ExecutorUnavailable",
    "PipelineFailed",
    "PipelineRun",
    "PipelineRunResult",
    "RunState",
    "StepFailure",
    "StepState",
    "StepStatus",
    "StepTimeout",
    "WorkerLost",
]
