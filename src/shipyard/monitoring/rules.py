"""Alert rules: ``METRIC OP THRESHOLD`` (``drift_share > 0.3``, ``roc_auc < 0.75``).

A metric is one a check measures (see :data:`KNOWN_METRICS`) or a per-feature drift score
``drift_score.<column>``; an unknown name is refused when the rule is loaded, so a typo
cannot silently never fire. A rule whose metric a check could not measure (no labels yet,
say) does not hold.

>>> rule = parse_rule("roc_auc < 0.75")
>>> rule.holds({"roc_auc": 0.7}), rule.holds({"roc_auc": None})
(True, False)
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shipyard.errors import InvalidArgument
from shipyard.monitoring.performance import METRICS
from shipyard.monitoring.server_health import SERVER_METRICS

DRIFT_METRICS = ("drift_share", "drifted_features", "prediction_drift", "quality_failed")
KNOWN_METRICS = (*DRIFT_METRICS, *METRICS, *SERVER_METRICS)
PER_FEATURE = "drift_score."
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_RULE = re.compile(
    r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*([-+]?[\d.]+(?:[eE][-+]?\d+)?)\s*$"
)


@dataclass(frozen=True)
class Rule:
    """One alert condition; ``text`` is how it was written (its name in alert history)."""

    metric: str
    op: str
    threshold: float
    text: str

    def holds(self, metrics: Mapping[str, float | None]) -> bool:
        """True when the metric was measured and the condition is met."""
        value = metrics.get(self.metric)
        return value is not None and OPERATORS[self.op](float(value), self.threshold)


def parse_rule(text: str) -> Rule:
    """The rule ``text`` states. Raises InvalidArgument for bad syntax or an unknown metric."""
    if not isinstance(text, str):
        raise InvalidArgument(f"an alert rule is a text like 'drift_share > 0.3', not {text!r}")
    match = _RULE.match(text)
    if match is None:
        raise InvalidArgument(
            f"alert rule {text!r} is not METRIC OP NUMBER; write it like 'drift_share > 0.3' "
            f"(operators {list(OPERATORS)})"
        )
    metric, op, number = match.groups()
    if metric not in KNOWN_METRICS and not (metric.startswith(PER_FEATURE) and len(metric) > 12):
        raise InvalidArgument(
            f"alert rule {text!r} names unknown metric {metric!r}; known metrics are "
            f"{sorted(KNOWN_METRICS)} and drift_score.<column>"
        )
    try:
        threshold = float(number)
    except ValueError as exc:
        raise InvalidArgument(f"alert rule {text!r}: {number!r} is not a number") from exc
    return Rule(metric, op, threshold, " ".join(text.split()))
