"""``use: train`` — fit a scikit-learn model on a dataset version and log it in the step's run.

Inputs ``train`` (and optionally ``test`` to score on); ``with: {label: churn, positive: "Yes",
model: logreg | gbm | rf | module:Class, params: {...}, preprocessing: preprocessing.yaml}``.
Outputs ``model`` (``runs:/RUN_ID/model``, register it with ``use: register``) and ``metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.pipelines.steps import Builtin, StepContext
from shipyard.pipelines.steps._common import build_estimator, load_frame, score, split_label


def run(ctx: StepContext) -> Mapping[str, Any]:
    from shipyard.registry.fluent import log_model
    from shipyard.tracking import fluent

    params = dict(ctx.params.get("params") or {})
    X, y = split_label(ctx, load_frame(ctx, str(ctx.inputs["train"])))
    model = build_estimator(ctx, str(ctx.param("model")), params, ctx.params.get("preprocessing"))
    fluent.log_params({"model": ctx.param("model"), "n_train": len(X), **params}, run_id=ctx.run_id)
    model.fit(X, y)
    metrics = {f"train_{k}": v for k, v in score(model, X, y).items()}
    if "test" in ctx.inputs:
        X_test, y_test = split_label(ctx, load_frame(ctx, str(ctx.inputs["test"])))
        metrics.update({f"test_{k}": v for k, v in score(model, X_test, y_test).items()})
    fluent.log_metrics(metrics, run_id=ctx.run_id)
    log_model(model, "model", input_example=X, run_id=ctx.run_id)
    return {"model": f"runs:/{ctx.run_id}/model", "metrics": metrics}


STEP = Builtin(
    name="train",
    version="1",
    run=run,
    inputs=("train",),
    optional_inputs=("test",),
    outputs={"model": "model", "metrics": "metrics"},
    file_params=("preprocessing",),
    doc=__doc__ or "",
)
