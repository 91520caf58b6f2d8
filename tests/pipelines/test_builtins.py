"""Built-in steps chained on real services: a table from Python, transform, train, evaluate,
register, deploy and batch prediction on the executor; bad built-in params."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

import shipyard
from shipyard.pipelines import Pipeline, StepDef, run_pipeline

LIB = "tests.pipelines.steplib"
LABEL = {"label": "label", "positive": "yes"}


def _pipeline(tmp_path: Path, floor: float = 0.8) -> Pipeline:
    return Pipeline(
        "lifecycle",
        [
            StepDef("data", call=f"{LIB}:make_table", outputs={"table": "dataset"}),
            StepDef(
                "split",
                uses="transform",
                inputs={"dataset": "data.table"},
                params={"sql": "select * from data where a > -3", "split": {"test_size": 0.3}},
            ),
            StepDef(
                "train",
                uses="train",
                inputs={"train": "split.train", "test": "split.test"},
                params={**LABEL, "model": "logreg", "params": {"C": 2.0}},
            ),
            StepDef(
                "evaluate",
                uses="evaluate",
                inputs={"model": "train.model", "dataset": "split.test"},
                params={**LABEL, "min": {"roc_auc": floor}},
            ),
            StepDef(
                "register",
                uses="register",
                inputs={"model": "train.model"},
                params={"name": "clf", "alias": "champion"},
                after=("evaluate",),
            ),
            StepDef("deploy", uses="deploy", inputs={"model": "register.model"}),
            StepDef(
                "score",
                uses="predict",
                inputs={"model": "register.model", "dataset": "split.test"},
                params={"output": str(tmp_path / "scored.parquet"), "chunk_rows": 40},
            ),
        ],
    )


def test_lifecycle_of_builtins(tmp_path: Path) -> None:
    result = run_pipeline(_pipeline(tmp_path), executor="local:2")
    assert result.ok, result.run.failure
    table_ref = result.output("data.table")
    assert table_ref.startswith("lifecycle.table@")  # the DataFrame became a dataset version
    assert shipyard.get_dataset(table_ref).num_rows == 400
    assert result.output("train.model").startswith("runs:/")
    assert result.output("train.metrics")["test_roc_auc"] > 0.9
    assert result.output("evaluate.metrics")["roc_auc"] > 0.9
    assert result.output("register.model") == "clf/1"
    assert shipyard.get_model_version("clf@champion").version == 1
    [deployment] = shipyard.list_deployments()
    assert result.output("deploy.deployment") == deployment.id and deployment.version == 1
    scored = pq.read_table(result.output("score.predictions"))
    test_rows = shipyard.get_dataset(result.output("split.test")).num_rows
    assert scored.num_rows == test_rows and "prediction_id" in scored.column_names
    train_run = shipyard.get_run(result.run.step("train").run_id or "")
    assert [i.name for i in train_run.inputs] == ["lifecycle.table-train", "lifecycle.table-test"]


def test_a_metric_floor_stops_the_release(tmp_path: Path) -> None:
    result = run_pipeline(_pipeline(tmp_path, floor=1.01), executor="local:2")
    assert not result.ok
    failure = result.run.failure
    assert failure is not None and failure.step == "evaluate"
    assert "below their minimum: roc_auc" in failure.message
    skipped = {s.step for s in result.run.steps if s.status.value == "SKIPPED"}
    assert skipped == {"register", "deploy", "score"}
    assert shipyard.list_registered_models() == []


def test_bad_builtin_params_fail_the_step_clearly() -> None:
    pipe = Pipeline(
        "bad",
        [
            StepDef("data", call=f"{LIB}:make_table", outputs={"table": "dataset"}),
            StepDef(
                "train",
                uses="train",
                inputs={"train": "data.table"},
                params={"label": "nope", "model": "logreg"},
            ),
        ],
    )
    failure = run_pipeline(pipe, executor="local:1").run.failure
    assert failure is not None and "label column 'nope' is not in the data" in failure.message
