"""The churn example (what `make demo` runs) on a small sample, so it cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import shipyard

EXAMPLE = Path(__file__).parents[2] / "examples" / "churn" / "churn.py"


def test_churn_demo_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("churn_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert module.main(["--sample", "600"]) == 0
    out = capsys.readouterr().out
    assert "registered churn/1" in out and "batch prediction" in out
    flat = " ".join(out.split())  # Rich wraps long lines
    assert "same as in the batch: True" in flat
    # serving stage: a deployment, concurrent requests all answered, a bad one refused
    assert "64/64 concurrent requests answered" in flat and "gets 422" in flat
    [deployment] = shipyard.list_deployments()
    assert (deployment.model, deployment.version, deployment.ref) == ("churn", 1, "churn@champion")
    assert "batch prediction:" in flat
    # data stage: a dataset version, validated, the 11 missing total_charges quarantined
    version = shipyard.get_dataset("churn")
    assert version.num_rows == 7043 and version.source["type"] == "files"
    quarantine = shipyard.get_dataset("churn-quarantine")
    assert quarantine.num_rows == 11 and quarantine.tags["failed_rules"] == "total_charges_not_null"
    reports = list((Path(shipyard.load_settings().home) / "reports").glob("churn-*.html"))
    assert len(reports) == 1 and "://" not in reports[0].read_text()

    mv = shipyard.get_model_version("churn@champion")
    assert mv.version == 1 and mv.flavor == "sklearn" and mv.run_id
    runs = shipyard.search_runs("churn")
    assert len(runs) == 3  # the parent and two nested candidates
    parent = runs[runs["parent_run_id"].isna()].iloc[0]
    assert parent["status"] == "FINISHED" and parent["metrics.best_test_roc_auc"] > 0.6
    [lineage] = shipyard.get_run(parent["run_id"]).inputs
    assert (lineage.name, lineage.digest, lineage.source) == ("churn", version.version, version.uri)
