"""``shipyard.autolog()``: scikit-learn fit logs params, training metrics and the model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import shipyard


@pytest.fixture(autouse=True)
def _autolog() -> Iterator[None]:
    shipyard.autolog()
    yield
    shipyard.autolog(disable=True)


def test_fit_inside_a_run_logs_params_metrics_and_model() -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with shipyard.start_run(experiment="auto") as run:
        pipe = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500))
        pipe.fit(X, y)
    got = shipyard.get_run(run.run_id)
    assert got.params["logisticregression__C"] == "0.5"
    assert got.params["logisticregression"] == "LogisticRegression"
    assert 0.9 < got.metrics["training_accuracy_score"] <= 1.0
    assert "training_roc_auc" in got.metrics and "training_log_loss" in got.metrics
    assert (
        got.tags["shipyard.autolog"] == "sklearn" and got.tags["shipyard.estimator"] == "Pipeline"
    )
    files = {a.path for a in shipyard.list_artifacts(run.run_id, "model", recursive=True)}
    assert "model/shipyard-model.json" in files and "model/MANIFEST.json" in files
    # only the outermost fit logs: no params of the inner steps' own fits as separate runs
    assert len(shipyard.search_runs("auto")) == 1

    mv = shipyard.register_model("auto-model", run_id=run.run_id)
    loaded = shipyard.load_model(f"models:/auto-model/{mv.version}")
    assert (loaded.predict(X.head(20)) == pipe.predict(X.head(20))).all()
    columns = (mv.signature or {})["inputs"]["columns"]
    assert [c["name"] for c in columns] == list(X.columns)


def test_fit_outside_a_run_starts_and_ends_one() -> None:
    X, y = load_diabetes(return_X_y=True)
    LinearRegression().fit(X, y)
    df = shipyard.search_runs()
    assert len(df) == 1
    row = df.iloc[0]
    assert row["status"] == "FINISHED" and row["name"] == "autolog-LinearRegression"
    assert 0 < row["metrics.training_r2_score"] < 1
    assert shipyard.active_run() is None


def test_grid_search_logs_once_with_best_params() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    with shipyard.start_run(experiment="grid") as run:
        GridSearchCV(LogisticRegression(max_iter=2000), {"C": [0.1, 1.0]}, cv=2).fit(
            X[:200], y[:200]
        )
    got = shipyard.get_run(run.run_id)
    assert got.params["best_C"] in ("0.1", "1.0") and "best_score" in got.metrics
    assert len(shipyard.search_runs("grid")) == 1


def test_disable_restores_plain_fit() -> None:
    shipyard.autolog(disable=True)
    X, y = load_diabetes(return_X_y=True)
    LinearRegression().fit(X, y)
    assert shipyard.search_runs().empty
