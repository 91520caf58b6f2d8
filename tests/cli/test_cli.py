"""The command line, in-process through Typer's CliRunner, on a real SQLite store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app

runner = CliRunner()


def invoke(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0, result.output
    return result.output


def _two_runs() -> tuple[str, str]:
    ids = []
    for name, auc, loss in (("rf", 0.91, 0.3), ("lr", 0.85, 0.2)):
        with shipyard.start_run(experiment="churn", name=name) as run:
            shipyard.log_params({"model": name})
            shipyard.log_metrics({"auc": auc, "loss": loss})
        ids.append(run.run_id)
    shipyard.flush()
    return ids[0], ids[1]


def test_help_is_fast_and_lists_groups() -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "shipyard.cli.main", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for group in ("experiments", "runs", "models", "server", "config", "gc", "db"):
        assert group in out.stdout
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.stderr.splitlines()}
    heavy = sorted(imported & {"pandas", "sklearn", "scipy", "numpy", "sqlalchemy", "fastapi"})
    assert heavy == [], f"--help imported {heavy}"


def test_config_shows_values_and_sources() -> None:
    out = invoke("config")
    assert "tracking_uri" in out and "env SHIPYARD_HOME" in out and "default" in out


def test_db_upgrade_and_current() -> None:
    assert "→ 0008" in invoke("db", "upgrade")
    assert "current: 0008" in invoke("db", "current")


def test_experiments_commands() -> None:
    assert "created experiment 'exp-a'" in invoke("experiments", "create", "exp-a", "-t", "k=v")
    assert "exp-a" in invoke("experiments", "list")
    invoke("experiments", "rename", "exp-a", "exp-b")
    assert "exp-b" in invoke("experiments", "list")
    invoke("experiments", "delete", "exp-b")
    assert "exp-b" not in invoke("experiments", "list")
    assert "exp-b" in invoke("experiments", "list", "--deleted")
    invoke("experiments", "restore", "exp-b")
    assert "already exists" in invoke("experiments", "create", "exp-b", ok=False)
    assert "no experiment" in invoke("experiments", "delete", "nope", ok=False)


def test_runs_list_show_compare_history() -> None:
    rf, lr = _two_runs()
    out = invoke("runs", "list", "-e", "churn", "-o", "metrics.auc DESC")
    assert out.index(rf[:8]) < out.index(lr[:8])
    out = invoke("runs", "list", "-e", "churn", "-f", "metrics.auc > 0.9")
    assert rf[:8] in out and lr[:8] not in out
    out = invoke("runs", "show", rf[:6])  # a unique prefix is enough
    assert rf in out
    out = invoke("runs", "show", rf)
    assert "params" in out and "model" in out and "shipyard.python.version" in out
    out = invoke("runs", "compare", rf, lr)
    auc_line = next(line for line in out.splitlines() if "metrics.auc" in line)
    loss_line = next(line for line in out.splitlines() if "metrics.loss" in line)
    assert auc_line.index("★") < auc_line.index("0.85")  # higher AUC wins
    assert loss_line.index("★") > loss_line.index("0.3")  # lower loss wins
    assert "auc" in invoke("runs", "history", rf, "auc")
    invoke("runs", "delete", lr)
    assert lr[:8] not in invoke("runs", "list", "-e", "churn")
    invoke("runs", "restore", lr[:8])  # prefixes find deleted runs too
    assert lr[:8] in invoke("runs", "list", "-e", "churn")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runs", "show", "0" * 32), "no run"),
        (("runs", "show", "ffffffff"), "no run id starts with"),
        (("runs", "show", "xyz"), "not a run id"),
        (("runs", "list", "-f", "metrics.auc >> 1"), "position"),
        (("runs", "compare", "0" * 32), "at least two"),
        (("models", "show", "nope@champion"), "nope"),
        (("models", "show", "bad name!"), "invalid"),
        (("models", "history", "x", "--at", "yesterday", "--alias", "a"), "ISO 8601"),
    ],
)
def test_cli_errors_are_clear(args: tuple[str, ...], message: str) -> None:
    _two_runs()
    result = runner.invoke(app, list(args))
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output


def test_models_commands(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    with shipyard.start_run(experiment="m") as run:
        shipyard.log_model(model, "model", input_example=X.head())
    assert "registered iris/1" in invoke("models", "register", run.run_id, "iris")
    assert "registered iris/2 as @champion" in invoke(
        "models", "register", run.run_id, "iris", "--alias", "champion"
    )
    assert "iris" in invoke("models", "list")
    out = invoke("models", "show", "iris@champion")
    assert "iris/2" in out and "sepal length (cm)" in out
    assert "2" in invoke("models", "versions", "iris")
    assert "→ version 1" in invoke("models", "alias", "iris", "champion", "1")
    out = invoke("models", "history", "iris")
    assert out.count("champion") == 2
    assert "version 1" in invoke(
        "models", "history", "iris", "--alias", "champion", "--at", "2999-01-01"
    )
    assert "deleted iris/2" in invoke("models", "delete-version", "iris/2")
    assert "alias" in invoke("models", "delete-version", "iris/1", ok=False)
    invoke("models", "restore-version", "iris/2")
    dst = str(tmp_path) + "/pkg"
    invoke("models", "download", "iris/1", "--dst", dst)
    assert "updated iris/1" in invoke("models", "update", "iris/1", "-d", "baseline", "-t", "a=b")
    assert "baseline" in invoke("models", "show", "iris/1")
    assert "updated model iris" in invoke("models", "update", "iris", "--model", "-d", "flowers")
    assert "flowers" in invoke("models", "list")
    assert "--description" in invoke("models", "update", "iris/1", ok=False)
    invoke("models", "alias", "iris", "champion", "--delete")
    assert "champion" not in invoke("models", "list")


def test_gc_is_a_dry_run_unless_asked(tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(b"x" * 5000)
    with shipyard.start_run() as run:
        shipyard.log_artifact(f)
    shipyard.flush()
    from shipyard.artifacts.owners import run_owner
    from shipyard.tracking.fluent import services

    services().artifacts.delete_owner(run_owner(run.run_id))  # type: ignore[attr-defined]
    out = invoke("gc", "--grace", "0")
    assert "would delete" in out and "5,000" in out and "dry run" in out
    out = invoke("gc", "--grace", "0", "--delete")
    assert "freed 5,000 bytes" in out
    assert "0 unreferenced blob(s)" in invoke("gc", "--grace", "0")


def test_artifacts_commands(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    with shipyard.start_run() as run:
        shipyard.log_artifact(f, "docs")
    assert "docs/" in invoke("artifacts", "list", run.run_id)
    assert "docs/notes.txt" in invoke("artifacts", "list", run.run_id, "-r")
    invoke("artifacts", "download", run.run_id, "docs", "--dst", str(tmp_path / "out"))
    assert (tmp_path / "out" / "docs" / "notes.txt").read_text() == "hello"
    assert "no" in invoke("artifacts", "download", run.run_id, "nope", ok=False).lower()


def test_gc_purges_deleted_runs_and_frees_their_blobs(tmp_path: Path) -> None:
    f = tmp_path / "data.bin"
    f.write_bytes(b"y" * 3000)
    with shipyard.start_run(experiment="purge") as run:
        shipyard.log_artifact(f)
        shipyard.log_metric("m", 1.0)
    with shipyard.start_run(experiment="purge") as kept:
        shipyard.log_metric("m", 2.0)
    shipyard.delete_run(run.run_id)
    out = invoke("gc", "--grace", "0", "--purge-runs-older-than", "0")
    assert f"would purge 1 deleted run(s): {run.run_id}" in out
    assert shipyard.get_run(run.run_id).deleted  # dry run changed nothing
    out = invoke("gc", "--grace", "0", "--purge-runs-older-than", "0", "--delete")
    assert "purged 1" in out and "freed 3,000 bytes" in out
    with pytest.raises(shipyard.NotFound):
        shipyard.get_run(run.run_id)
    assert shipyard.get_run(kept.run_id).metrics == {"m": 2.0}
