"""``shipyard drift REFERENCE CURRENT`` in-process through Typer's CliRunner: real files (CSV,
Parquet), real dataset versions in a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app

runner = CliRunner()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A reference CSV, a drifted current Parquet file and an undrifted current CSV."""
    rng = np.random.default_rng(0)
    n = 3_000

    def frame(shift: float, p_month: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "monthly": rng.normal(65 + shift, 15, n),
                "tenure": rng.integers(1, 72, n),
                "contract": rng.choice(["month", "year"], n, p=[p_month, 1 - p_month]),
            }
        )

    ref, drifted, same = tmp_path / "ref.csv", tmp_path / "cur.parquet", tmp_path / "same.csv"
    frame(0, 0.4).to_csv(ref, index=False)
    frame(20, 0.8).to_parquet(drifted, index=False)
    frame(0, 0.4).to_csv(same, index=False)
    return ref, drifted, same


def test_json_and_html_for_two_files(files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ref, cur, _ = files
    html = tmp_path / "reports" / "drift.html"
    out = invoke("drift", str(ref), str(cur), "--json", "--html", str(html))
    data = json.loads(out[out.index("{") :])
    assert data["dataset_drift"] is True
    assert data["drifted_columns"] == ["monthly", "contract"]
    assert data["reference"] == str(ref) and data["current"] == str(cur)
    by_name = {c["column"]: c for c in data["columns"]}
    assert by_name["monthly"]["test"] == "ks" and by_name["contract"]["test"] == "chi2"
    assert by_name["tenure"]["drifted"] is False
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "://" not in page


def test_table_output_thresholds_and_columns(files: tuple[Path, Path, Path]) -> None:
    ref, cur, same = files
    out = invoke("drift", str(ref), str(cur))
    assert "DRIFT" in out and "dataset drift: 2 of 3 columns drifted" in out
    out = invoke("drift", str(ref), str(same), "--columns", "monthly,tenure")
    assert "no dataset drift: 0 of 2 columns drifted" in out and "contract" not in out
    # a threshold above the shift's effect size keeps the column quiet
    out = invoke("drift", str(ref), str(cur), "--json", "-t", "monthly=5", "-t", "contract=0.9")
    data = json.loads(out[out.index("{") :])
    assert data["drifted_columns"] == []
    assert {c["column"]: c["threshold"] for c in data["columns"]}["monthly"] == 5.0


def test_config_file_and_fail_on_drift(files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ref, cur, same = files
    config = tmp_path / "shipyard.yaml"
    config.write_text("drift:\n  drift_share: 0.9\n  columns:\n    contract: {test: psi}\n")
    out = invoke("drift", str(ref), str(cur), "--config", str(config), "--json")
    data = json.loads(out[out.index("{") :])
    assert data["dataset_drift"] is False  # 2 of 3 is under 0.9
    assert {c["column"]: c["test"] for c in data["columns"]}["contract"] == "psi"
    invoke("drift", str(ref), str(cur), "--fail-on-drift", code=2)
    invoke("drift", str(ref), str(same), "--fail-on-drift")


def test_dataset_versions(files: tuple[Path, Path, Path]) -> None:
    ref, cur, _ = files
    invoke("data", "ingest", str(ref), "--name", "customers")
    invoke("data", "ingest", str(cur), "--name", "customers")
    versions = json.loads(invoke("data", "versions", "customers", "--json"))
    old, new = (v["version"] for v in sorted(versions, key=lambda v: v["seq"]))
    out = invoke("drift", f"customers@{old}", f"customers@{new}", "--json")
    data = json.loads(out[out.index("{") :])
    assert data["drifted_columns"] == ["monthly", "contract"]
    # a dataset version against a file works too; NAME alone is the newest version
    out = invoke("drift", f"dataset:customers@{old}", "customers", "--json")
    assert json.loads(out[out.index("{") :])["n_cur_rows"] == 3_000


def test_errors_are_one_clear_line(files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ref, cur, _ = files
    out = invoke("drift", str(ref), str(tmp_path / "missing.csv"), code=1)
    assert "error:" in out and "missing.csv" in out
    out = invoke("drift", str(ref), "nosuchdataset@abc", code=1)
    assert "error:" in out and "nosuchdataset" in out
    other = tmp_path / "other.csv"
    pd.DataFrame({"monthly": [1.0, 2.0], "plan": ["a", "b"]}).to_csv(other, index=False)
    out = invoke("drift", str(ref), str(other), code=1)
    assert "different columns" in out and "--columns" in out
    empty = tmp_path / "empty.csv"
    empty.write_text("monthly,tenure,contract\n")
    out = invoke("drift", str(ref), str(empty), code=1)
    assert "current data is empty" in out
    out = invoke("drift", str(ref), str(cur), "-t", "monthly", code=2)
    assert "COLUMN=NUMBER" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("drift:\n  alpha: 2\n")
    out = invoke("drift", str(ref), str(cur), "--config", str(bad), code=1)
    assert "alpha must be a number in (0, 1]" in out
