"""What a gate is made of (its configuration and metric rules) and what it hands out (results)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from shipyard.errors import ConfigError, InvalidArgument

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "rmse", "r2")
METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
CHECK_KINDS = ("metric", "suite", "latency", "signature")

_RULE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w]*)\s*(?P<op>>=|<=|>|<)\s*"
    r"(?:(?P<champion>champion)\s*(?:(?P<sign>[+-])\s*(?P<margin>\d+(?:\.\d*)?(?:e-?\d+)?))?"
    r"|(?P<value>-?\d+(?:\.\d*)?(?:e-?\d+)?))\s*$"
)
_RULE_HELP = (
    "write a metric rule as 'METRIC OP champion [+|- MARGIN]' or 'METRIC OP NUMBER', "
    "e.g. 'roc_auc >= champion + 0.01' or 'log_loss <= 0.4', with OP one of >=, <=, >, <"
)


@dataclass(frozen=True)
class MetricRule:
    """``roc_auc >= champion + 0.01``: the candidate's ``metric`` compared with a bound that is
    either the champion's value plus ``margin`` (``relative``) or the number ``margin``.

    >>> round(MetricRule.parse("roc_auc >= champion + 0.01").bound(0.8), 6)
    0.81
    >>> MetricRule.parse("log_loss < 0.5").relative
    False
    """

    metric: str
    op: str
    relative: bool
    margin: float

    @classmethod
    def parse(cls, text: str) -> MetricRule:
        """Read a rule. Raises InvalidArgument naming the grammar or the unknown metric."""
        match = _RULE.match(text) if isinstance(text, str) else None
        if match is None:
            raise InvalidArgument(f"metric rule {text!r} does not parse; {_RULE_HELP}")
        metric = match["metric"]
        if metric not in METRICS:
            raise InvalidArgument(
                f"metric rule {text!r}: unknown metric {metric!r}; known: {', '.join(METRICS)}"
            )
        if match["champion"]:
            margin = float(match["margin"] or 0.0) * (-1.0 if match["sign"] == "-" else 1.0)
            return cls(metric, match["op"], True, margin)
        return cls(metric, match["op"], False, float(match["value"]))

    def bound(self, champion: float | None) -> float:
        """The value the candidate is compared with. Raises InvalidArgument when the rule is
        relative and there is no champion value."""
        if not self.relative:
            return self.margin
        if champion is None:
            raise InvalidArgument(f"rule {self} compares with a champion, but there is none")
        return champion + self.margin

    def holds(self, value: float, bound: float) -> bool:
        """True when ``value OP bound``."""
        return {
            ">=": value >= bound,
            "<=": value <= bound,
            ">": value > bound,
            "<": value < bound,
        }[self.op]

    def __str__(self) -> str:
        if not self.relative:
            return f"{self.metric} {self.op} {self.margin:g}"
        if self.margin == 0:
            return f"{self.metric} {self.op} champion"
        sign = "+" if self.margin > 0 else "-"
        return f"{self.metric} {self.op} champion {sign} {abs(self.margin):g}"


@dataclass(frozen=True)
class LatencyBudget:
    """A short load test of the model server: ``requests`` requests of ``rows`` rows each,
    ``concurrency`` at a time; the check passes when p99 latency <= ``p99_ms`` and none failed."""

    p99_ms: float
    requests: int = 300
    concurrency: int = 4
    rows: int = 1

    def __post_init__(self) -> None:
        if not self.p99_ms > 0:
            raise InvalidArgument(f"latency budget p99_ms must be > 0, not {self.p99_ms!r}")
        if self.requests < 10 or self.concurrency < 1 or self.rows < 1:
            raise InvalidArgument(
                "a latency test needs requests >= 10, concurrency >= 1 and rows >= 1, got "
                f"requests={self.requests}, concurrency={self.concurrency}, rows={self.rows}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateConfig:
    """Everything a gate checks. From ``gates: {MODEL: {...}}`` in ``shipyard.yaml``::

    gates:
      churn:
        champion: champion            # alias (or NAME/VERSION) to compare with
        dataset: churn-eval           # evaluation data: NAME or NAME@VERSION
        label: churned                # its label column
        metrics: ["roc_auc >= champion + 0.01", "log_loss <= champion"]
        suite: suites/churn.yaml      # validation suite run on the evaluation data
        latency: {p99_ms: 50, requests: 300, concurrency: 4}
        signature: true               # the candidate accepts what the champion accepted
    """

    champion: str = "champion"
    dataset: str | None = None
    label: str | None = None
    metrics: tuple[MetricRule, ...] = ()
    suite: str | None = None
    latency: LatencyBudget | None = None
    signature: bool = True

    def check(self) -> GateConfig:
        """Return self when the parts fit. Raises InvalidArgument naming what is missing."""
        if self.metrics and (self.dataset is None or self.label is None):
            raise InvalidArgument(
                "metric rules need evaluation data: give dataset (--dataset NAME@VERSION) and "
                "its label column (--label COLUMN)"
            )
        if (self.suite or self.latency) and self.dataset is None:
            raise InvalidArgument(
                "a validation suite or a latency budget needs evaluation data: give --dataset"
            )
        if not (self.metrics or self.suite or self.latency or self.signature):
            raise InvalidArgument(
                "the gate checks nothing: give metric rules, a suite, a latency budget or keep "
                "the signature check"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "champion": self.champion,
            "dataset": self.dataset,
            "label": self.label,
            "metrics": [str(r) for r in self.metrics],
            "suite": self.suite,
            "latency": None if self.latency is None else self.latency.to_dict(),
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "gate") -> GateConfig:
        """Read a ``gates:`` entry. Raises ConfigError naming the bad field."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must be a mapping of gate settings")
        known = {"champion", "dataset", "label", "metrics", "suite", "latency", "signature"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {unknown}; known: {sorted(known)}")
        try:
            rules = data.get("metrics") or []
            if isinstance(rules, str) or not isinstance(rules, Sequence):
                raise InvalidArgument("metrics must be a list of rules")
            latency = data.get("latency")
            if latency is not None and not isinstance(latency, Mapping):
                raise InvalidArgument("latency must be a mapping like {p99_ms: 50}")
            return cls(
                champion=str(data.get("champion") or "champion"),
                dataset=_opt_str(data.get("dataset")),
                label=_opt_str(data.get("label")),
                metrics=tuple(MetricRule.parse(str(r)) for r in rules),
                suite=_opt_str(data.get("suite")),
                latency=None if latency is None else _latency(latency),
                signature=bool(data.get("signature", True)),
            )
        except (InvalidArgument, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from exc

    def merged(self, **changes: Any) -> GateConfig:
        """A copy with the given fields replaced (``None`` values leave a field as it is)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _latency(data: Mapping[str, Any]) -> LatencyBudget:
    unknown = sorted(set(data) - {"p99_ms", "requests", "concurrency", "rows"})
    if unknown:
        raise InvalidArgument(f"latency: unknown field(s) {unknown}")
    if "p99_ms" not in data:
        raise InvalidArgument("latency needs p99_ms, the budget in milliseconds")
    return LatencyBudget(
        p99_ms=float(data["p99_ms"]),
        requests=int(data.get("requests", 300)),
        concurrency=int(data.get("concurrency", 4)),
        rows=int(data.get("rows", 1)),
    )


@dataclass(frozen=True)
class Check:
    """One check of a gate: ``name`` (``roc_auc >= champion + 0.01``, ``suite``, ``latency``,
    ``signature``), whether it passed, its ``figures`` and a one-line ``message``."""

    name: str
    kind: str
    passed: bool
    message: str
    figures: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "figures": dict(self.figures)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Check:
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            passed=bool(data["passed"]),
            message=str(data.get("message", "")),
            figures=dict(data.get("figures") or {}),
        )


@dataclass(frozen=True)
class GateResult:
    """One gate evaluation of ``model/version`` against ``champion_version``, as recorded."""

    id: int
    model: str
    version: int
    champion_version: int | None
    passed: bool
    dataset: str | None
    checks: tuple[Check, ...]
    config: Mapping[str, Any]
    user: str
    created_at: int

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that did not pass."""
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (what ``shipyard gate --json`` prints)."""
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "champion_version": self.champion_version,
            "passed": self.passed,
            "dataset": self.dataset,
            "checks": [c.to_dict() for c in self.checks],
            "failed": [c.name for c in self.failed],
            "config": dict(self.config),
            "user": self.user,
            "created_at": self.created_at,
        }


__all__ = [
    "CHECK_KINDS",
    "METRICS",
    "Check",
    "GateConfig",
    "GateResult",
    "LatencyBudget",
    "MetricRule",
]
