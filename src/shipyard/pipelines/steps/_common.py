"""Helpers the built-in steps share: tables, labels, models by reference."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidArgument

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.pipelines.steps import StepContext

RUNS_SCHEME = "runs:/"


def load_frame(ctx: StepContext, ref: str) -> pd.DataFrame:
    """The dataset version ``ref`` as pandas; the step's run records it as an input."""
    from shipyard.data.fluent import load_dataset

    frame: pd.DataFrame = load_dataset(ref, run_id=ctx.run_id).to_pandas()
    return frame


def split_label(ctx: StepContext, df: pd.DataFrame) -> tuple[pd.DataFrame, Any]:
    """Features and labels: ``label`` names the column; with ``positive`` the label is 1 where
    it equals that value, else 0."""
    label = ctx.param("label")
    if label not in df.columns:
        raise InvalidArgument(
            f"step {ctx.step!r}: label column {label!r} is not in the data; "
            f"columns: {list(df.columns)}"
        )
    y = df.pop(label)
    positive = ctx.params.get("positive")
    if positive is not None:
        y = (y == positive).astype(int)
    return df, y


def load_model_ref(ref: str) -> Any:
    """A model by ``runs:/RUN_ID/PATH`` (logged, not registered) or a registry reference."""
    from shipyard.registry.fluent import load_model

    if not ref.startswith(RUNS_SCHEME):
        return load_model(ref)
    from shipyard.artifacts.owners import run_owner
    from shipyard.registry.package import load_model as load_package
    from shipyard.tracking.fluent import services

    run_id, _, path = ref[len(RUNS_SCHEME) :].partition("/")
    with tempfile.TemporaryDirectory(prefix="shipyard-model-") as tmp:
        folder = services().artifacts.download(run_owner(run_id), path or "model", Path(tmp))
        return load_package(folder)


def score(model: Any, X: Any, y: Any) -> dict[str, float]:
    """Classification or regression scores of ``model`` on (X, y)."""
    import numpy as np
    from sklearn import metrics

    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X))
        if proba.ndim == 2 and proba.shape[1] == 2:
            p1 = proba[:, 1]
            pred = (p1 >= 0.5).astype(int)
            return {
                "roc_auc": float(metrics.roc_auc_score(y, p1)),
                "accuracy": float(metrics.accuracy_score(y, pred)),
                "f1": float(metrics.f1_score(y, pred)),
                "log_loss": float(metrics.log_loss(y, p1)),
            }
        return {"accuracy": float(metrics.accuracy_score(y, model.predict(X)))}
    pred = np.asarray(model.predict(X))
    return {
        "rmse": float(np.sqrt(metrics.mean_squared_error(y, pred))),
        "mae": float(metrics.mean_absolute_error(y, pred)),
        "r2": float(metrics.r2_score(y, pred)),
    }


SHORT_MODELS = {
    "logreg": "sklearn.linear_model:LogisticRegression",
    "linear": "sklearn.linear_model:LinearRegression",
    "ridge": "sklearn.linear_model:Ridge",
    "gbm": "sklearn.ensemble:HistGradientBoostingClassifier",
    "gbm_regressor": "sklearn.ensemble:HistGradientBoostingRegressor",
    "rf": "sklearn.ensemble:RandomForestClassifier",
    "rf_regressor": "sklearn.ensemble:RandomForestRegressor",
}


def build_estimator(
    ctx: StepContext, kind: str, params: dict[str, Any], preprocessing: str | None
) -> Any:
    """A scikit-learn estimator ``kind`` (a short name or ``module:Class``) with ``params``,
    behind the Preprocessor declared in the ``preprocessing`` YAML file if given."""
    from sklearn.pipeline import Pipeline

    from shipyard.pipelines.definitions import import_callable

    target = SHORT_MODELS.get(kind, kind)
    if ":" not in target:
        raise InvalidArgument(
            f"step {ctx.step!r}: model {kind!r} is not one of {sorted(SHORT_MODELS)} "
            "nor a 'module:Class' path"
        )
    cls = import_callable(target, step=ctx.step)
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise InvalidArgument(f"step {ctx.step!r}: {target}({params}) failed: {exc}") from exc
    if not preprocessing:
        return estimator
    from shipyard.data.preprocess import Preprocessor

    prep = Preprocessor.from_yaml(ctx.path(preprocessing))
    return Pipeline([("prep", prep), ("model", estimator)])
