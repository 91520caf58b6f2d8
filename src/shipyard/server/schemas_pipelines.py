"""Request and response bodies of the pipeline routes."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from shipyard.pipelines.definitions import Pipeline
from shipyard.pipelines.entities import PipelineRun, StepFailure, StepState


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FailureIO(_Model):
    step: str
    error_type: str
    message: str
    traceback: str = ""
    attempts: int = 1


class StepStateIO(_Model):
    step: str
    position: int
    status: str
    reason: str = ""
    attempts: int = 0
    cache_key: str | None = None
    code_hash: str | None = None
    params_hash: str | None = None
    inputs_hash: str | None = None
    outputs: dict[str, Any] | None = None
    failure: FailureIO | None = None
    run_id: str | None = None
    started_at: int | None = None
    ended_at: int | None = None
    seconds: float | None = None

    @classmethod
    def from_entity(cls, s: StepState) -> Self:
        return cls.model_validate({**s.to_dict(), "seconds": s.seconds})

    def to_entity(self) -> StepState:
        return StepState.from_dict(self.model_dump())


class PipelineRunIO(_Model):
    id: str
    pipeline: str
    status: str
    trigger: str
    executor: str
    definition_hash: str
    user: str
    started_at: int
    run_id: str | None = None
    resumed_from: str | None = None
    ended_at: int | None = None
    failure: FailureIO | None = None
    steps: list[StepStateIO] = Field(default_factory=list)

    @classmethod
    def from_entity(cls, r: PipelineRun) -> Self:
        data = r.to_dict()
        data["steps"] = [StepStateIO.from_entity(s) for s in r.steps]
        return cls.model_validate(data)

    def to_entity(self) -> PipelineRun:
        return PipelineRun.from_dict(self.model_dump())


class PipelineRunList(_Model):
    runs: list[PipelineRunIO]


class StepStateOrNone(_Model):
    step: StepStateIO | None = None


class RunFinish(_Request):
    status: str
    failure: FailureIO | None = None

    def failure_entity(self) -> StepFailure | None:
        return StepFailure.from_dict(self.failure.model_dump()) if self.failure else None


class PipelineStepOut(_Model):
    name: str
    runs: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    after: list[str]
    retries: int
    timeout: float | None
    cache: bool


class PipelineOut(_Model):
    name: str
    executor: str | None
    description: str
    order: list[str]
    edges: list[list[str]]
    steps: list[PipelineStepOut]

    @classmethod
    def from_entity(cls, p: Pipeline) -> Self:
        return cls(
            name=p.name,
            executor=p.executor,
            description=p.description,
            order=list(p.order),
            edges=[list(e) for e in p.edges()],
            steps=[
                PipelineStepOut(
                    name=s.name,
                    runs=s.kind,
                    inputs=dict(s.inputs),
                    outputs=dict(s.outputs),
                    after=list(s.after),
                    retries=s.retries,
                    timeout=s.timeout_s,
                    cache=s.cache,
                )
                for s in p.steps
            ],
        )


class PipelineList(_Model):
    pipelines: list[PipelineOut]
