"""Request and response bodies of the gate, trigger and model-card routes."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from shipyard.pipelines.gates.entities import Check, GateResult
from shipyard.pipelines.scheduler.entities import Trigger


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- gates ----------------------------------------------------------------------------------


class CheckIO(_Model):
    name: str
    kind: str
    passed: bool
    message: str = ""
    figures: dict[str, Any] = Field(default_factory=dict)


class GateResultOut(_Model):
    id: int
    model: str
    version: int
    champion_version: int | None
    passed: bool
    dataset: str | None
    checks: list[CheckIO]
    failed: list[str] = Field(default_factory=list)
    config: dict[str, Any]
    user: str
    created_at: int

    @classmethod
    def from_entity(cls, r: GateResult) -> Self:
        return cls.model_validate(r.to_dict())

    def to_entity(self) -> GateResult:
        return GateResult(
            id=self.id,
            model=self.model,
            version=self.version,
            champion_version=self.champion_version,
            passed=self.passed,
            dataset=self.dataset,
            checks=tuple(Check.from_dict(c.model_dump()) for c in self.checks),
            config=self.config,
            user=self.user,
            created_at=self.created_at,
        )


class GateResultList(_Model):
    results: list[GateResultOut]


class GateResultCreate(_Request):
    model: str
    version: int
    champion_version: int | None = None
    passed: bool
    dataset: str | None = None
    checks: list[CheckIO]
    config: dict[str, Any] = Field(default_factory=dict)


# --- triggers -------------------------------------------------------------------------------


class TriggerOut(_Model):
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

    @classmethod
    def from_entity(cls, t: Trigger) -> Self:
        return cls.model_validate(t.to_dict())

    def to_entity(self) -> Trigger:
        return Trigger(**self.model_dump())


class TriggerList(_Model):
    triggers: list[TriggerOut]


class ClaimOut(_Model):
    trigger: TriggerOut | None


class JobsIn(_Request):
    jobs: dict[str, dict[str, Any]]


class JobsOut(_Model):
    registered_at: dict[str, int]


class ClaimIn(_Request):
    job: str
    slot: str
    reason: str
    owner: str


class HeartbeatIn(_Request):
    ids: list[int]


class FinishIn(_Request):
    state: str
    run_id: str | None = None
    error: str | None = None


class SweepIn(_Request):
    stale_after_ms: int


class LastSlotOut(_Model):
    slot: str | None


# --- model cards ----------------------------------------------------------------------------


class CardOut(_Model):
    model: str
    version: int
    markdown: str
    card: dict[str, Any]
