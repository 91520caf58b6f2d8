"""The churn pipeline of examples/churn/shipyard.yaml (what `make demo` runs with
`shipyard run churn`), on a small sample: every stage runs, then a second run is fully cached."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.pipelines import StepStatus, list_pipeline_runs

EXAMPLE = Path(__file__).parents[2] / "examples" / "churn"


@pytest.fixture
def churn_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("shipyard.yaml", "suite.yaml", "preprocessing.yaml"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    (tmp_path / "data").mkdir()
    sample = pd.read_csv(EXAMPLE / "data" / "wa_churn.csv").sample(n=800, random_state=3)
    sample.to_csv(tmp_path / "data" / "wa_churn.csv", index=False)
    monkeypatch.chdir(tmp_path)
    shipyard.configure()
    return tmp_path


def test_churn_pipeline_runs_then_is_fully_cached(churn_project: Path) -> None:
    first = CliRunner().invoke(app, ["run", "churn"])
    assert first.exit_code == 0, first.output
    [run] = list_pipeline_runs("churn")
    assert [s.step for s in run.steps] == [
        "ingest", "check", "transform", "baseline", "tune", "evaluate", "register"
    ]  # fmt: skip
    assert {s.status for s in run.steps} == {StepStatus.SUCCEEDED}
    mv = shipyard.get_model_version("churn@champion")
    assert run.step("register").outputs == {"model": f"churn/{mv.version}"}
    assert (
        mv.run_id == shipyard.get_run(run.step("tune").run_id or "").tags["shipyard.tune.best_run"]
    )
    trials = shipyard.search_runs("churn-pipeline", "tags.shipyard.tune.trial != ''")
    assert len(trials) == 4 and set(trials["parent_run_id"]) == {run.step("tune").run_id}
    assert run.step("evaluate").outputs["metrics"]["roc_auc"] > 0.75  # type: ignore[index]

    second = CliRunner().invoke(app, ["run", "churn"])
    assert second.exit_code == 0, second.output
    assert "7 cached" in " ".join(second.output.split())
    newest = list_pipeline_runs("churn")[0]
    assert newest.cached == [s.step for s in run.steps]
    assert shipyard.get_model_version("churn@champion").version == mv.version  # nothing new

    data = churn_project / "data" / "wa_churn.csv"
    data.write_text(data.read_text().replace("Electronic check", "Mailed check", 5))
    third = CliRunner().invoke(app, ["run", "churn", "--step", "ingest", "--step", "check"])
    assert third.exit_code == 0, third.output
    changed = list_pipeline_runs("churn")[0]
    assert [(s.step, s.status, s.reason) for s in changed.steps] == [
        ("ingest", StepStatus.SUCCEEDED, "params or source files changed"),
        ("check", StepStatus.SUCCEEDED, "inputs changed"),  # a new dataset version
    ]
