"""``use: monitor`` — run a monitor's checks once (drift, data quality, performance, health).

``with: {monitor: NAME, fail_on_alert: false}`` names a monitor declared under ``monitors:``
in shipyard.yaml. Output ``metrics``: the check's metrics plus ``alerts`` (how many rules held)
and ``check_id``. With ``fail_on_alert: true`` the step fails when a rule holds, so the steps
after it (a retraining branch, a deploy) are skipped. An optional input ``model`` only orders
the step after the one that produced it (a deploy, say). A monitor reads the live prediction
log, so the step runs every time (never cached).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.errors import InvalidArgument
from shipyard.pipelines.steps import Builtin, StepContext


class AlertRaised(InvalidArgument):
    """A monitor step with ``fail_on_alert`` saw alert rules hold."""


def run(ctx: StepContext) -> Mapping[str, Any]:
    from shipyard.monitoring.fluent import run_monitor

    name = str(ctx.param("monitor"))
    outcome = run_monitor(name)
    metrics: dict[str, Any] = dict(outcome.metrics)
    metrics["alerts"] = len(outcome.alerts)
    metrics["check_id"] = outcome.id
    if outcome.alerts and bool(ctx.params.get("fail_on_alert", False)):
        held = "; ".join(a.rule for a in outcome.alerts)
        raise AlertRaised(
            f"monitor {name!r} raised {len(outcome.alerts)} alert(s): {held} "
            f"(check #{outcome.id}; `shipyard monitor show {outcome.id}` has the report)"
        )
    return {"metrics": metrics}


def _never_cached(ctx: StepContext) -> str | None:
    return None


STEP = Builtin(
    name="monitor",
    version="1",
    run=run,
    optional_inputs=("model",),
    outputs={"metrics": "metrics"},
    fingerprint=_never_cached,
    doc=__doc__ or "",
)
