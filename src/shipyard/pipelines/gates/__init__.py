"""Gates: a candidate model version checked against the champion before it is promoted —
metric margins on the same evaluation rows, the validation suite, a latency budget measured by
a load test of the real model server, and signature compatibility."""

from shipyard.pipelines.gates.entities import (
    Check,
    GateConfig,
    GateResult,
    LatencyBudget,
    MetricRule,
)
from shipyard.pipelines.gates.service import GateStore

__all__ = ["Check", "GateConfig", "GateResult", "GateStore", "LatencyBudget", "MetricRule"]
