"""What the monitoring service hands out: feedback receipts, checks, alerts, retrainings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CHECK_STATES = ("ok", "alert", "empty", "error")
ALERT_STATES = ("sent", "suppressed", "failed")


@dataclass(frozen=True)
class FeedbackReceipt:
    """What a feedback call stored: ``stored`` labels (``replaced`` of them overwrote an
    earlier label of the same prediction) and ``unmatched`` labels kept although no logged
    prediction has their id yet (only with ``allow_unknown``)."""

    model: str
    stored: int
    replaced: int = 0
    unmatched: int = 0


@dataclass(frozen=True)
class Check:
    """One run of a monitor over a window of the prediction log.

    ``status``: ``ok``, ``alert`` (a rule held), ``empty`` (no predictions in the window) or
    ``error``. ``metrics`` holds every number the alert rules can name (``drift_share``,
    ``roc_auc``, ``p99_latency_ms`` …); ``details`` the per-feature drift, the validation
    results and the counts behind the metrics. ``report`` is the path of the HTML report.
    Times are milliseconds since the epoch (UTC).
    """

    id: int
    monitor: str
    model: str
    version: int | None
    status: str
    window_start: int | None
    window_end: int | None
    rows: int
    labelled: int
    metrics: Mapping[str, float | None]
    details: Mapping[str, Any]
    report: str
    started_at: int
    finished_at: int


@dataclass(frozen=True)
class Delivery:
    """One channel's handling of an alert: ``ok``, the attempts made and the last error."""

    channel: str
    ok: bool
    attempts: int
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "ok": self.ok,
            "attempts": self.attempts,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Delivery:
        return cls(
            str(data["channel"]), bool(data["ok"]), int(data["attempts"]), str(data["error"])
        )


@dataclass(frozen=True)
class Alert:
    """A rule that held after a check. ``state``: ``sent`` (at least one channel took it),
    ``suppressed`` (the same rule already alerted within its cool-down) or ``failed``."""

    id: int
    monitor: str
    check_id: int | None
    rule: str
    metric: str
    value: float | None
    threshold: float
    state: str
    message: str
    deliveries: tuple[Delivery, ...]
    created_at: int


@dataclass(frozen=True)
class Retraining:
    """One run of a retraining policy: what triggered it, the champion and challenger
    versions, its ``outcome`` (``promoted``, ``refused`` or ``failed``) and every step with
    its reason."""

    id: int
    monitor: str
    model: str
    trigger: str
    outcome: str
    champion: int | None
    challenger: int | None
    steps: tuple[Mapping[str, Any], ...]
    created_at: int
    extra: Mapping[str, Any] = field(default_factory=dict)
