"""Retraining policies: when a monitor alerts (or enough new labels arrived), run the model's
training pipeline, gate the challenger against the champion on fresh labelled data, and
promote it only if the gate passes (optionally after recording a canary deployment).

Declared on a monitor::

    retrain:
      pipeline: churn-train           # a pipeline of shipyard.yaml that registers a version
      on: alert                       # alert (default: any rule that fired), a list of rule
                                      # texts, or new_labels (with min_new_labels: 500)
      gate:                           # shipyard gate settings; the dataset defaults to the
        metrics: ["roc_auc >= champion + 0.01"]    # window's labelled predictions
      promote: champion               # the alias moved to the challenger when the gate passes
      canary: 0.1                     # optional: record a canary deployment first

Every step is stored with its reason (``shipyard monitor retrainings``, REST
``/api/v1/monitoring/retrainings``) and tagged on the challenger version
(``shipyard.retrain.*``), so lineage shows why a version was trained and what became of it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from shipyard.errors import InvalidArgument, ShipyardError
from shipyard.monitoring.entities import Retraining
from shipyard.monitoring.window import input_columns, join_labels, read_window

if TYPE_CHECKING:
    from shipyard.monitoring.checks import CheckOutcome
    from shipyard.monitoring.monitors import Monitor
    from shipyard.monitoring.service import MonitorServices
    from shipyard.registry.entities import ModelVersion

log = logging.getLogger(__name__)
FIELDS = ("pipeline", "on", "min_new_labels", "gate", "promote", "canary", "label")


@dataclass(frozen=True)
class RetrainPolicy:
    """A monitor's ``retrain:`` settings (see the module docstring)."""

    pipeline: Any  # a pipeline name of shipyard.yaml, or a shipyard.pipelines.Pipeline
    on: tuple[str, ...] = ("alert",)
    min_new_labels: int = 500
    gate: Mapping[str, Any] = field(default_factory=dict)
    promote: str = "champion"
    canary: float | None = None
    label: str = "label"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, target: str | None = None) -> RetrainPolicy:
        """Raises InvalidArgument naming the bad field."""
        if not isinstance(data, Mapping) or "pipeline" not in data:
            raise InvalidArgument("retrain: needs pipeline: (the pipeline that trains the model)")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise InvalidArgument(f"unknown retrain field(s) {unknown}; fields are {list(FIELDS)}")
        on = data.get("on", "alert")
        on = (on,) if isinstance(on, str) else tuple(str(o) for o in on)
        if "new_labels" not in on and "alert" not in on:
            from shipyard.monitoring.rules import parse_rule

            on = tuple(parse_rule(o).text for o in on)
        canary = data.get("canary")
        if canary is not None and not 0 < float(canary) < 1:
            raise InvalidArgument(f"retrain canary must be a share between 0 and 1, not {canary!r}")
        gate = data.get("gate") or {}
        if not isinstance(gate, Mapping):
            raise InvalidArgument("retrain gate: must be a mapping of shipyard gate settings")
        pipeline = data["pipeline"]
        if not isinstance(pipeline, str):
            from shipyard.pipelines.definitions import Pipeline

            if not isinstance(pipeline, Pipeline):
                raise InvalidArgument(
                    f"retrain pipeline must be a pipeline name or a Pipeline, not {pipeline!r}"
                )
        return cls(
            pipeline=pipeline,
            on=on,
            min_new_labels=int(data.get("min_new_labels", 500)),
            gate=dict(gate),
            promote=str(data.get("promote", "champion")),
            canary=None if canary is None else float(canary),
            label=str(data.get("label") or target or "label"),
        )

    def triggered_by(self, outcome: CheckOutcome, new_labels: int = 0) -> str | None:
        """Why ``outcome`` triggers a retraining, or None. A suppressed alert (its rule fired
        within the cool-down, so a retraining already ran for it) triggers nothing."""
        fired = [a for a in outcome.alerts if a.state != "suppressed"]
        chosen = fired if "alert" in self.on else [a for a in fired if a.rule in self.on]
        if chosen:
            return "alert: " + "; ".join(a.message for a in chosen)
        if "new_labels" in self.on and new_labels >= self.min_new_labels:
            return f"new data: {new_labels:,} labels since the last retraining"
        return None


class _Steps:
    """The record of a retraining: each step with its reason."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, step: str, reason: str, **figures: Any) -> None:
        log.info("retrain %s: %s", step, reason)
        self.items.append({"step": step, "reason": reason, **figures})


def retrain(
    monitor: Monitor,
    services: MonitorServices,
    *,
    trigger: str,
    now: dt.datetime | None = None,
) -> Retraining:
    """Run ``monitor``'s retraining policy now (``trigger`` says why). Never raises for a
    failed pipeline or gate: the outcome (``promoted``, ``refused``, ``failed``) and every
    step's reason are recorded and returned. Raises InvalidArgument when the monitor has no
    ``retrain:`` policy."""
    if not monitor.retrain:
        raise InvalidArgument(f"monitor {monitor.name!r} has no retrain: policy")
    policy = RetrainPolicy.from_dict(monitor.retrain, target=monitor.target)
    steps = _Steps()
    steps.add("triggered", trigger)
    champion, challenger, outcome = None, None, "failed"
    try:
        champion = _champion(monitor, services, policy)
        fresh = _fresh_data(monitor, services, policy, champion, steps, now)
        challenger = _train(monitor, services, policy, champion, steps)
        result = _gate(policy, champion, challenger, fresh, steps)
        if result.passed:
            _promote(policy, champion, challenger, steps)
            outcome = "promoted"
        else:
            outcome = "refused"
    except ShipyardError as exc:
        steps.add("failed", str(exc))
    except Exception as exc:  # the user's training or model code: recorded, never lost
        log.exception("retraining for monitor %s failed", monitor.name)
        steps.add("failed", f"{type(exc).__name__}: {exc}")
    record = services.monitoring.record_retraining(
        monitor=monitor.name,
        model=champion.name if champion else monitor.model.split("@")[0].split("/")[0],
        trigger=trigger[:64],
        outcome=outcome,
        champion=None if champion is None else champion.version,
        challenger=None if challenger is None else challenger.version,
        steps=steps.items,
    )
    if challenger is not None:
        _tag(services, challenger, record)
    return record


def _champion(monitor: Monitor, services: MonitorServices, policy: RetrainPolicy) -> ModelVersion:
    from shipyard.registry.uri import parse_model_ref, resolve_ref

    ref = parse_model_ref(monitor.model)
    return resolve_ref(services.registry, f"{ref.name}@{policy.promote}")


def _fresh_data(
    monitor: Monitor,
    services: MonitorServices,
    policy: RetrainPolicy,
    champion: ModelVersion,
    steps: _Steps,
    now: dt.datetime | None,
) -> str | None:
    """The window's labelled predictions (inputs and label) at ``now`` (default: the clock,
    as for the check that triggered it) as a dataset version for the gate; None when the gate
    names its own dataset."""
    if policy.gate.get("dataset"):
        steps.add("fresh data", f"the gate's own dataset {policy.gate['dataset']}")
        return None
    from shipyard.data.datasets.store import DatasetStore
    from shipyard.monitoring.checks import log_root

    when = now or dt.datetime.now(dt.UTC)
    window = read_window(log_root(monitor, services), champion.name, monitor.window, now=when)
    labelled = join_labels(window, services.monitoring.feedback(champion.name), policy.label)
    if labelled.num_rows == 0:
        raise InvalidArgument(
            f"no labelled predictions in the window of monitor {monitor.name!r} to gate the "
            "challenger on; send feedback first or give the gate a dataset"
        )
    table = labelled.select([*input_columns(window), policy.label])
    name = f"{champion.name}-fresh-labels"
    stored = DatasetStore(services.datasets, services.artifacts).ingest(
        table, name=name, description=f"labelled predictions of monitor {monitor.name}"
    )
    steps.add(
        "fresh data",
        f"{table.num_rows:,} labelled predictions of the window stored as {stored.version.ref}",
        dataset=stored.version.ref,
        rows=table.num_rows,
    )
    return str(stored.version.ref)


def _train(
    monitor: Monitor,
    services: MonitorServices,
    policy: RetrainPolicy,
    champion: ModelVersion,
    steps: _Steps,
) -> ModelVersion:
    from shipyard.pipelines.fluent import run_pipeline

    before = {v.version for v in services.registry.list_versions(champion.name)}
    name = getattr(policy.pipeline, "name", policy.pipeline)
    result = run_pipeline(policy.pipeline, trigger=f"monitor:{monitor.name}")
    if not result.ok:
        failure = result.run.failure
        raise InvalidArgument(f"pipeline {name!r} failed: {failure}")
    new = [v for v in services.registry.list_versions(champion.name) if v.version not in before]
    if not new:
        raise InvalidArgument(
            f"pipeline {name!r} registered no new version of {champion.name!r}; its "
            "register step must register the model the monitor watches"
        )
    challenger = max(new, key=lambda v: v.version)
    steps.add(
        "trained",
        f"pipeline {name} run {result.run.run_id} registered "
        f"{challenger.name}/{challenger.version}",
        pipeline_run=result.run.run_id,
        challenger=challenger.version,
    )
    return challenger


def _gate(
    policy: RetrainPolicy,
    champion: ModelVersion,
    challenger: ModelVersion,
    fresh: str | None,
    steps: _Steps,
) -> Any:
    from shipyard.pipelines.gates.fluent import run_gate

    gate = dict(policy.gate)
    metrics: Sequence[str] | None = gate.pop("metrics", None)
    result = run_gate(
        f"{challenger.name}/{challenger.version}",
        champion=f"{champion.name}/{champion.version}",
        dataset=gate.pop("dataset", None) or fresh,
        label=gate.pop("label", None) or policy.label,
        metrics=metrics,
        suite=gate.pop("suite", None),
        latency=gate.pop("latency", None),
        signature=gate.pop("signature", None),
    )
    checks = [{"name": c.name, "passed": c.passed, "message": c.message} for c in result.checks]
    verdict = (
        "passed"
        if result.passed
        else "failed: " + "; ".join(f"{c.name} ({c.message})" for c in result.failed)
    )
    steps.add(
        "gated",
        f"gate #{result.id} of {challenger.name}/{challenger.version} against "
        f"{champion.name}/{champion.version} {verdict}",
        gate=result.id,
        passed=result.passed,
        checks=checks,
    )
    if not result.passed:
        steps.add(
            "refused",
            f"{champion.name}@{policy.promote} stays {champion.name}/{champion.version}",
        )
    return result


def _promote(
    policy: RetrainPolicy, champion: ModelVersion, challenger: ModelVersion, steps: _Steps
) -> None:
    from shipyard.pipelines.gates.fluent import promote

    if policy.canary is not None:
        from shipyard.serving.deployments.entities import Policy
        from shipyard.serving.fluent import deploy

        deployment = deploy(
            f"{champion.name}/{champion.version}",
            policy=Policy("canary", f"{challenger.name}/{challenger.version}", policy.canary),
            note="canary of a retrained challenger",
        )
        steps.add(
            "canary",
            f"deployment #{deployment.id}: {policy.canary:.0%} of traffic to "
            f"{challenger.name}/{challenger.version}",
            deployment=deployment.id,
        )
    promote(challenger.name, policy.promote, challenger.version, require_gate=True)
    steps.add(
        "promoted",
        f"{challenger.name}@{policy.promote} moved from {champion.version} to "
        f"{challenger.version} (gate passed)",
    )


def _tag(services: MonitorServices, version: ModelVersion, record: Retraining) -> None:
    reasons = "; ".join(f"{s['step']}: {s['reason']}" for s in record.steps)
    services.registry.update_version(
        version.name,
        version.version,
        tags={
            "shipyard.retrain.id": str(record.id),
            "shipyard.retrain.monitor": record.monitor,
            "shipyard.retrain.outcome": record.outcome,
            "shipyard.retrain.champion": str(record.champion),
            "shipyard.retrain.reasons": reasons[:4000],
        },
    )


def new_labels_since_last(services: MonitorServices, model: str, labels: pa.Table) -> int:
    """How many labels arrived since the last retraining of ``model``."""
    import pyarrow.compute as pc

    last = services.monitoring.list_retrainings(model=model, limit=1)
    if not last:
        return int(labels.num_rows)
    return int(pc.sum(pc.greater(labels.column("received_at"), last[0].created_at)).as_py() or 0)
