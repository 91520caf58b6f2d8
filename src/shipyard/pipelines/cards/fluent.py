"""The model-card SDK: build the card of a model version from the registry, tracking, gate
results and deployments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shipyard.errors import NotFound
from shipyard.pipelines.cards.card import ModelCard

if TYPE_CHECKING:
    from shipyard.client import Services

INTENDED_USE_TAGS = ("intended_use", "intended-use", "use")


def build_card(services: Services, name: str, version: int) -> ModelCard:
    """The card of ``name/version`` from the registry, tracking, gate results and deployments.
    Raises NotFound."""
    mv = services.registry.get_version(name, version)
    run_info = None
    datasets: list[dict[str, Any]] = []
    features: list[dict[str, Any]] = []
    if mv.run_id:
        try:
            run = services.tracking.get_run(mv.run_id)
        except NotFound:
            run = None
        if run is not None:
            run_info = _run_info(services, run)
            for inp in run.inputs:
                entry = {
                    "name": inp.name,
                    "digest": inp.digest,
                    "source": inp.source,
                    "context": inp.context,
                    "num_rows": inp.num_rows,
                }
                (features if inp.context == "features" else datasets).append(entry)
    gates = services.gates.list(model=name, version=version)
    metrics: list[dict[str, Any]] = [
        {"metric": k, "value": v, "dataset": None, "source": "logged with the model"}
        for k, v in sorted((mv.metrics or {}).items())
    ]
    for g in gates:
        metrics += [
            {
                "metric": c.figures.get("metric"),
                "value": c.figures.get("candidate"),
                "dataset": c.figures.get("dataset"),
                "source": f"gate #{g.id}",
            }
            for c in g.checks
            if c.kind == "metric"
        ]
    signature = mv.signature or {}
    inputs = signature.get("inputs") if isinstance(signature, Mapping) else None
    columns = inputs.get("columns") if isinstance(inputs, Mapping) else None
    return ModelCard(
        model=mv.name,
        version=mv.version,
        description=mv.description,
        flavor=mv.flavor,
        user=mv.user,
        created_at=mv.created_at,
        intended_use=_intended_use(mv.tags, mv.description),
        aliases=tuple(mv.aliases),
        tags=dict(mv.tags),
        inputs=[
            {"name": c["name"], "dtype": c["dtype"], "nullable": bool(c.get("nullable"))}
            for c in columns or []
        ],
        run=run_info,
        datasets=datasets,
        features=features,
        metrics=metrics,
        gates=[
            {
                "id": g.id,
                "passed": g.passed,
                "champion": None
                if g.champion_version is None
                else f"{g.model}/{g.champion_version}",
                "dataset": g.dataset,
                "failed": [c.name for c in g.failed],
                "created_at": g.created_at,
            }
            for g in gates
        ],
        deployments=[
            {
                "id": d.id,
                "name": d.name,
                "policy": d.policy.kind,
                "target": d.target,
                "endpoint": d.endpoint,
                "created_at": d.created_at,
            }
            for d in services.deployments.list(model=name)
            if d.version == version
        ],
    )


def _intended_use(tags: Mapping[str, str], description: str) -> str:
    for key in INTENDED_USE_TAGS:
        if tags.get(key):
            return tags[key]
    return description


def _run_info(services: Services, run: Any) -> dict[str, Any]:
    try:
        experiment = services.tracking.get_experiment(run.experiment_id).name
    except NotFound:
        experiment = None
    return {
        "run_id": run.run_id,
        "name": run.name,
        "experiment_id": run.experiment_id,
        "experiment": experiment,
        "status": str(run.status),
        "params": dict(run.params),
        "metrics": dict(run.metrics),
        "git_commit": run.tags.get("shipyard.git.commit"),
    }


def model_card(ref: str) -> ModelCard:
    """The card of the version ``ref`` names (``churn/3``, ``churn@champion``). Raises NotFound."""
    from shipyard.registry.fluent import get_model_version
    from shipyard.tracking.fluent import services

    mv = get_model_version(ref)
    return build_card(services(), mv.name, mv.version)


__all__ = ["build_card", "model_card"]
