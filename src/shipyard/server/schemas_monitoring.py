"""Request and response bodies of the monitoring routes (``/api/v1/feedback``,
``/api/v1/monitoring/…``)."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from shipyard.monitoring.entities import Alert, Check, Delivery, FeedbackReceipt, Retraining


class _Model(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedbackIn(_Request):
    """Labels as columns: ``prediction_id`` and ``label``, or the entity ``keys``, ``ts`` and
    ``label`` (records are accepted too)."""

    model: Any
    labels: dict[str, list[Any]] | list[dict[str, Any]]
    keys: list[str] = Field(default_factory=list)
    label: str = "label"
    id_column: str = "prediction_id"
    ts: str = "ts"
    allow_unknown: bool = False


class FeedbackOut(_Model):
    model: str
    stored: int
    replaced: int = 0
    unmatched: int = 0

    @classmethod
    def from_entity(cls, r: FeedbackReceipt) -> Self:
        return cls.model_validate(r)

    def to_entity(self) -> FeedbackReceipt:
        return FeedbackReceipt(**self.model_dump())


class FeedbackTable(_Model):
    prediction_id: list[str]
    label_text: list[str]
    label_number: list[float | None]
    received_at: list[int]


class CheckIn(_Request):
    monitor: str
    model: str
    version: int | None = None
    status: str
    window_start: int | None = None
    window_end: int | None = None
    rows: int
    labelled: int
    metrics: dict[str, float | None]
    details: dict[str, Any]
    report: str = ""
    started_at: int


class CheckOut(_Model):
    id: int
    monitor: str
    model: str
    version: int | None
    status: str
    window_start: int | None
    window_end: int | None
    rows: int
    labelled: int
    metrics: dict[str, float | None]
    details: dict[str, Any]
    report: str
    started_at: int
    finished_at: int

    @classmethod
    def from_entity(cls, c: Check) -> Self:
        return cls.model_validate(c)

    def to_entity(self) -> Check:
        return Check(**self.model_dump())


class CheckList(_Model):
    checks: list[CheckOut]


class DeliveryIO(_Model):
    channel: str
    ok: bool
    attempts: int
    error: str = ""


class AlertIn(_Request):
    monitor: str
    check_id: int | None = None
    rule: str
    metric: str
    value: float | None = None
    threshold: float
    state: str
    message: str
    deliveries: list[DeliveryIO] = Field(default_factory=list)


class AlertOut(_Model):
    id: int
    monitor: str
    check_id: int | None
    rule: str
    metric: str
    value: float | None
    threshold: float
    state: str
    message: str
    deliveries: list[DeliveryIO]
    created_at: int

    @classmethod
    def from_entity(cls, a: Alert) -> Self:
        return cls.model_validate(a)

    def to_entity(self) -> Alert:
        data = self.model_dump()
        data["deliveries"] = tuple(Delivery(**d) for d in data["deliveries"])
        return Alert(**data)


class AlertList(_Model):
    alerts: list[AlertOut]


class RetrainingIn(_Request):
    monitor: str
    model: str
    trigger: str
    outcome: str
    champion: int | None = None
    challenger: int | None = None
    steps: list[dict[str, Any]] = Field(default_factory=list)


class RetrainingOut(_Model):
    id: int
    monitor: str
    model: str
    trigger: str
    outcome: str
    champion: int | None
    challenger: int | None
    steps: list[dict[str, Any]]
    created_at: int

    @classmethod
    def from_entity(cls, r: Retraining) -> Self:
        return cls.model_validate(r)

    def to_entity(self) -> Retraining:
        data = self.model_dump()
        data["steps"] = tuple(data["steps"])
        return Retraining(**data)


class RetrainingList(_Model):
    retrainings: list[RetrainingOut]
