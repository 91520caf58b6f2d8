"""``shipyard run`` and ``shipyard pipeline …`` in-process with Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app

YAML = """
pipelines:
  demo:
    description: adds numbers
    executor: local:2
    steps:
      - {name: a, call: "cli_steps:add", with: {a: 1, b: 2}}
      - {name: b, call: "cli_steps:add", inputs: {a: a.result}, with: {b: 10}}
      - {name: c, call: "cli_steps:add", inputs: {a: a.result, b: b.result}}
  broken:
    steps:
      - {name: a, call: "cli_steps:add", with: {a: 1}}
      - {name: bad, call: "cli_steps:fail", inputs: {x: a.result}}
      - {name: after, call: "cli_steps:add", inputs: {a: bad.result}}
"""

STEPS = """
def add(a, b=0):
    return a + b


def fail(x):
    raise RuntimeError(f"cannot handle {x}")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "shipyard.yaml").write_text(YAML)
    (tmp_path / "cli_steps.py").write_text(STEPS)
    monkeypatch.chdir(tmp_path)
    shipyard.configure()
    return tmp_path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_run_then_cached(project: Path) -> None:
    code, out = _run("run", "demo")
    assert code == 0, out
    flat = " ".join(out.split())
    assert "succeeded run" in flat and "3 succeeded" in flat and "first run" in flat
    code, out = _run("run", "demo")
    assert code == 0 and "3 cached" in " ".join(out.split())
    code, out = _run("run", "demo", "--step", "c", "--no-cache")
    flat = " ".join(out.split())
    assert code == 0 and "1 succeeded" in flat and "2 reused" in flat


def test_failure_exit_code_and_report(project: Path) -> None:
    code, out = _run("run", "broken")
    flat = " ".join(out.split())
    assert code == 1
    assert "cannot handle 1" in flat and "skipped" in flat and "--resume" in flat
    code, out = _run("run", "broken", "--resume")
    assert code == 1 and "reused" in out
    code, out = _run("run")
    assert code == 1 and "name the pipeline" in out and "'broken'" in out
    code, out = _run("run", "nope")
    assert code == 1 and "no pipeline 'nope'" in out
    code, out = _run("run", "demo", "--executor", "ftp://x")
    assert code == 1 and "dask://host:port" in out


def test_list_show_runs_run_show(project: Path) -> None:
    assert _run("run", "demo")[0] == 0
    code, out = _run("pipeline", "list")
    assert code == 0 and "a → b → c" in out and "adds numbers" in out
    code, out = _run("pipeline", "show", "demo", "--json")
    data = json.loads(out)
    assert code == 0 and data["edges"] == [["a", "b"], ["a", "c"], ["b", "c"]]
    code, out = _run("pipeline", "show", "demo")
    assert code == 0 and "a←a.result" in out
    code, out = _run("pipeline", "runs")
    assert code == 0 and "demo" in out and "succeed" in out
    [run] = shipyard.pipelines.list_pipeline_runs("demo")
    code, out = _run("pipeline", "run-show", run.id[:10])
    assert code == 0 and "result=16" in out
    code, out = _run("pipeline", "run-show", run.id, "--json")
    assert json.loads(out)["steps"][2]["outputs"] == {"result": 16}
    code, out = _run("pipeline", "run-show", "ffffffff")
    assert code == 1 and "matches no run" in out


def test_predict_on_an_executor(project: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
    y = (X["a"] > 0).astype(int)
    shipyard.register_model("m", model=LogisticRegression().fit(X, y), input_example=X)
    X.to_parquet(project / "in.parquet")
    code, out = _run(
        "predict", "m/1", "-i", "in.parquet", "-o", "out.parquet", "--executor", "local:2",
        "--chunk-rows", "100",
    )  # fmt: skip
    assert code == 0, out
    assert "500 predictions" in out and pq.read_table(project / "out.parquet").num_rows == 500
