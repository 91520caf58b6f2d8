"""``shipyard predict`` and ``shipyard predictions`` through Typer's CliRunner, real files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import shipyard
from shipyard.cli.predict import register
from shipyard.serving.ids import new_ids
from shipyard.serving.predictions import PredictionLog, default_root, partition_dir

runner = CliRunner()
TODAY = dt.datetime.now(dt.UTC).date()


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def invoke(*args: str, ok: bool = True) -> str:
    result = runner.invoke(make_app(), list(args), catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    return result.output


@pytest.fixture
def iris_file(tmp_path: Path) -> Path:
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=1_000).fit(X, y)
    shipyard.register_model("iris", model=model, input_example=X.head(), alias="champion")
    data = X.assign(id=[f"r{i}" for i in range(len(X))], extra=1.5)
    data.to_csv(tmp_path / "in.csv", index=False)
    return tmp_path / "in.csv"


def test_predict_writes_the_output_and_says_so(iris_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    text = invoke(
        "predict", "iris@champion", "--input", str(iris_file), "--output", str(out),
        "--key", "id,extra", "--chunk-rows", "40", "--workers", "2",
    )  # fmt: skip
    assert "wrote 150 predictions of iris/1" in text and "4 chunks" in text
    table = pq.read_table(out)
    assert table.column_names[:3] == ["id", "extra", "prediction"]
    assert table.num_rows == 150


def test_predict_errors_are_one_line_and_exit_1(iris_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    text = invoke("predict", "nope@champion", "-i", str(iris_file), "-o", str(out), ok=False)
    assert "error:" in text and "nope" in text and "Traceback" not in text
    text = invoke("predict", "iris", "-i", str(iris_file), "-o", str(out), "-k", "zz", ok=False)
    assert "['zz']" in text
    assert not out.exists()


def _log(root: Path, n: int, *, day: dt.date, version: int = 1) -> None:
    ts = dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC)
    with PredictionLog(root) as plog:
        inputs = [{"age": i} for i in range(n)]
        outputs = {"prediction": [i % 2 for i in range(n)]}
        plog.log("churn", version, inputs, outputs, new_ids(n), latency_ms=2.0, ts=ts)


def test_show_prints_counts_latency_and_rows() -> None:
    _log(default_root(), 3, day=TODAY)
    _log(default_root(), 2, day=TODAY, version=2)
    text = invoke("predictions", "show", "churn", "--limit", "2")
    assert "5 predictions of churn (versions [1, 2])" in text and "p50 2.00 ms" in text
    assert "age" in text and "ok" in text  # the table of the newest rows
    assert "3 predictions" in invoke("predictions", "show", "churn", "--version", "1")
    assert "no predictions logged for 'fraud'" in invoke("predictions", "show", "fraud")
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    assert "no predictions" in invoke("predictions", "show", "churn", "--since", tomorrow)
    assert "ISO 8601" in invoke("predictions", "show", "churn", "--since", "soon", ok=False)


def test_compact_and_prune(tmp_path: Path) -> None:
    root = tmp_path / "log"
    yesterday = TODAY - dt.timedelta(days=1)
    for _ in range(3):
        _log(root, 2, day=yesterday)
    _log(root, 2, day=TODAY - dt.timedelta(days=40))
    text = invoke("predictions", "compact", "--root", str(root))
    assert "compacted 1 day partition(s): 3 file(s) merged into 1 (6 rows)" in text
    assert len(list(partition_dir(root, "churn", 1, yesterday.isoformat()).iterdir())) == 1
    text = invoke("predictions", "prune", "--days", "30", "--root", str(root))
    assert "removed 1 day partition(s)" in text
    assert f"churn/1/{(TODAY - dt.timedelta(days=40)).isoformat()}" in text
    shown = invoke("predictions", "show", "churn", "--root", str(root))
    assert "6 predictions" in shown
    assert "--days" in invoke("predictions", "prune", "--days", "-1", ok=False)


def test_help_lists_the_commands() -> None:
    text = invoke("--help")
    assert "predict" in text and "predictions" in text
