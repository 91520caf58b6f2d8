"""``use: evaluate`` — score a model on a dataset version.

Inputs ``model`` (``runs:/…`` or a registry reference) and ``dataset``; ``with: {label: churn,
positive: "Yes", min: {roc_auc: 0.7}}`` — a metric below its ``min`` fails the step, so a
worse model never reaches ``register``. Output ``metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.errors import InvalidArgument
from shipyard.pipelines.steps import Builtin, StepContext
from shipyard.pipelines.steps._common import load_frame, load_model_ref, score, split_label


def run(ctx: StepContext) -> Mapping[str, Any]:
    model = load_model_ref(str(ctx.inputs["model"]))
    X, y = split_label(ctx, load_frame(ctx, str(ctx.inputs["dataset"])))
    metrics = score(model, X, y)
    floors = ctx.params.get("min") or {}
    low = {k: (metrics.get(k), float(v)) for k, v in floors.items() if metrics.get(k, -1e300) < v}
    if low:
        raise InvalidArgument(
            f"step {ctx.step!r}: metric(s) below their minimum: "
            + ", ".join(f"{k} {got} < {want}" for k, (got, want) in low.items())
        )
    return {"metrics": metrics}


STEP = Builtin(
    name="evaluate",
    version="1",
    run=run,
    inputs=("model", "dataset"),
    outputs={"metrics": "metrics"},
    doc=__doc__ or "",
)
