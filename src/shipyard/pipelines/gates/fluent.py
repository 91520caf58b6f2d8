"""The gate SDK: evaluate a candidate model version against the champion, read results, and
refuse promotions that have no passing gate.

Example::

    result = shipyard.run_gate("churn/4", metrics=["roc_auc >= champion + 0.01"],
                               dataset="churn-eval", label="churned")
    if result.passed:
        shipyard.set_alias("churn", "champion", 4, require_gate=True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shipyard.errors import ConfigError, Conflict, InvalidArgument, NotFound
from shipyard.pipelines.gates.entities import (
    Check,
    GateConfig,
    GateResult,
    LatencyBudget,
    MetricRule,
)

if TYPE_CHECKING:
    from shipyard.client import Services
    from shipyard.config import Settings
    from shipyard.registry.entities import ModelVersion


def gate_config(model: str, settings: Settings | None = None) -> GateConfig:
    """The ``gates: {model: ...}`` entry of ``shipyard.yaml`` (defaults when there is none)."""
    from shipyard.tracking.fluent import services

    settings = settings or services().settings
    gates = settings.extra.get("gates") or {}
    if not isinstance(gates, Mapping):
        raise ConfigError("gates: in shipyard.yaml must map model names to gate settings")
    entry = gates.get(model)
    return GateConfig() if entry is None else GateConfig.from_dict(entry, where=f"gates.{model}")


def run_gate(
    candidate: str,
    *,
    champion: str | None = None,
    dataset: str | None = None,
    label: str | None = None,
    metrics: Sequence[str | MetricRule] | None = None,
    suite: str | None = None,
    latency: LatencyBudget | Mapping[str, Any] | None = None,
    signature: bool | None = None,
    config: GateConfig | None = None,
) -> GateResult:
    """Evaluate ``candidate`` (``churn/4``, ``churn@challenger``) against ``champion``
    (an alias or reference; default: the gate config's, normally ``champion``), record the
    result and tag the version with it.

    Settings come from ``config`` (default: ``gates.<model>`` of ``shipyard.yaml``); each
    keyword given overrides its field. Checks: metric rules, both models scored on the same
    rows of ``dataset``; the validation ``suite`` on those rows; the ``latency`` budget by a
    load test of the real model server; signature compatibility. Returns the recorded
    :class:`GateResult` (``.passed``, ``.failed``). Raises NotFound (unknown model, version,
    alias or dataset), InvalidArgument (candidate is the champion, bad rule, missing label),
    ConfigError (bad ``gates:`` entry).
    """
    from shipyard.registry.fluent import get_model_version
    from shipyard.tracking.fluent import services

    cand = get_model_version(candidate)
    base = (config or gate_config(cand.name)).merged(
        champion=champion,
        dataset=dataset,
        label=label,
        metrics=None if metrics is None else tuple(_rule(m) for m in metrics),
        suite=suite,
        latency=_budget(latency),
        signature=signature,
    )
    cfg = base.check()
    champ = _champion(cand, cfg.champion)
    checks, data_ref = _evaluate(cand, champ, cfg)
    return services().gates.record(
        cand.name,
        cand.version,
        champion_version=None if champ is None else champ.version,
        passed=all(c.passed for c in checks),
        dataset=data_ref,
        checks=checks,
        config={**cfg.to_dict(), "candidate": f"{cand.name}/{cand.version}"},
    )


def _rule(rule: str | MetricRule) -> MetricRule:
    return rule if isinstance(rule, MetricRule) else MetricRule.parse(rule)


def _budget(value: LatencyBudget | Mapping[str, Any] | None) -> LatencyBudget | None:
    if value is None or isinstance(value, LatencyBudget):
        return value
    return GateConfig.from_dict({"latency": dict(value)}, where="latency").latency


def _champion(candidate: ModelVersion, champion: str) -> ModelVersion | None:
    """The champion version, or None when the model has no such alias yet (a first model)."""
    from shipyard.registry.fluent import get_model_version
    from shipyard.registry.uri import parse_model_ref

    bare = "@" not in champion and "/" not in champion
    ref = f"{candidate.name}@{champion}" if bare else champion
    parse_model_ref(ref)
    try:
        champ = get_model_version(ref)
    except NotFound:
        if bare and champion == GateConfig().champion:
            return None  # a first model has no champion: relative rules fail with a clear error
        raise
    if (champ.name, champ.version) == (candidate.name, candidate.version):
        raise InvalidArgument(
            f"the candidate {candidate.name}/{candidate.version} is the champion ({ref}); "
            "gate a new version, or compare with another one (--champion NAME/VERSION)"
        )
    return champ


def _evaluate(
    cand: ModelVersion, champ: ModelVersion | None, cfg: GateConfig
) -> tuple[list[Check], str | None]:
    from shipyard.data.fluent import dataset_store
    from shipyard.pipelines.gates import checks as ck

    if champ is None and any(r.relative for r in cfg.metrics):
        raise InvalidArgument(
            f"model {cand.name} has no {cfg.champion!r} version to compare with; set the alias, "
            "give --champion NAME/VERSION, or use absolute rules such as 'roc_auc >= 0.8'"
        )
    results: list[Check] = []
    data_ref = None
    X = None
    if cfg.dataset is not None:
        store = dataset_store()
        table, version = store.load(cfg.dataset)
        data_ref = version.ref
        if cfg.metrics:
            X, y = ck.split_label(table, str(cfg.label), data_ref)
            results += _metric_checks(cand, champ, cfg, X, y, data_ref)
        elif cfg.label is not None and cfg.label in table.column_names:
            X = table.drop_columns([cfg.label]).to_pandas()
        else:
            X = table.to_pandas()
        if cfg.suite is not None:
            results.append(ck.suite_check(store, data_ref, cfg.suite))
    if cfg.latency is not None and X is not None:
        from shipyard.pipelines.gates.latency import latency_check

        results.append(latency_check(f"{cand.name}/{cand.version}", X, cfg.latency))
    if cfg.signature:
        results.append(ck.signature_check(cand, champ))
    return results, data_ref


def _metric_checks(
    cand: ModelVersion,
    champ: ModelVersion | None,
    cfg: GateConfig,
    X: Any,
    y: Any,
    data_ref: str,
) -> list[Check]:
    from shipyard.pipelines.gates import checks as ck
    from shipyard.registry.fluent import load_model

    wanted = {r.metric for r in cfg.metrics}
    try:
        scores = ck.score(load_model(f"{cand.name}/{cand.version}"), X, y, wanted)
    except InvalidArgument as exc:  # e.g. it needs a column the evaluation data lacks
        return [
            Check(str(rule), "metric", False,
                  f"the candidate could not score {data_ref}: {exc}",
                  {"metric": rule.metric, "dataset": data_ref, "error": str(exc)})
            for rule in cfg.metrics
        ]  # fmt: skip
    base = None
    if champ is not None:
        base = ck.score(load_model(f"{champ.name}/{champ.version}"), X, y, wanted)
    return ck.metric_checks(cfg.metrics, scores, base, dataset=data_ref, rows=len(X))


def list_gate_results(
    model: str | None = None, *, version: int | None = None, limit: int = 100
) -> list[GateResult]:
    """Recorded gate results, newest first (of one model and/or version)."""
    from shipyard.tracking.fluent import services

    return services().gates.list(model=model, version=version, limit=limit)


def get_gate_result(result_id: int) -> GateResult:
    """One recorded gate result. Raises NotFound."""
    from shipyard.tracking.fluent import services

    return services().gates.get(result_id)


def gate_required(settings: Settings, alias: str) -> bool:
    """True when ``registry.require_gate_for`` in ``shipyard.yaml`` lists ``alias``."""
    registry = settings.extra.get("registry") or {}
    if not isinstance(registry, Mapping):
        raise ConfigError("registry: in shipyard.yaml must be a mapping")
    listed = registry.get("require_gate_for") or []
    if isinstance(listed, str) or not isinstance(listed, Sequence):
        raise ConfigError("registry.require_gate_for must be a list of aliases, e.g. [champion]")
    return alias in {str(a) for a in listed}


def check_gate(
    services: Services, name: str, alias: str, version: int, *, require: bool | None = None
) -> GateResult | None:
    """Before pointing ``alias`` at ``name/version``: when the gate is required (``require``,
    or by default when ``registry.require_gate_for`` lists the alias), the newest passing gate
    result of that version; None when no gate is required.

    Raises Conflict when a gate is required and the version has no passing result.
    """
    needed = gate_required(services.settings, alias) if require is None else require
    if not needed:
        return None
    for result in services.gates.list(model=name, version=version):
        if result.passed:
            return result
    last = services.gates.list(model=name, version=version, limit=1)
    why = (
        f"its last gate (#{last[0].id}) failed: {', '.join(c.name for c in last[0].failed)}"
        if last
        else "it has never been gated"
    )
    raise Conflict(
        f"{name}@{alias} requires a passing gate and {name}/{version} has none ({why}); "
        f"run `shipyard gate {name}/{version}` first"
    )


def promote(name: str, alias: str, version: int, *, require_gate: bool | None = None) -> None:
    """Point ``alias`` at ``version`` after :func:`check_gate` allows it."""
    from shipyard.tracking.fluent import services

    svc = services()
    svc.registry.get_version(name, version)  # NotFound before anything else
    check_gate(svc, name, alias, version, require=require_gate)
    svc.registry.set_alias(name, alias, version)
