"""``shipyard data …`` in-process through Typer's CliRunner, on a real SQLite store."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.data.validation import Suite

runner = CliRunner()
CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn" / "data" / "wa_churn.csv"


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def _ingest_two(tmp_path: Path) -> None:
    part = tmp_path / "part.csv"
    part.write_text("".join(CHURN.read_text().splitlines(keepends=True)[:3001]))
    invoke("data", "ingest", str(CHURN), "--name", "churn", "--tag", "team=ml")
    invoke("data", "ingest", str(part), "--name", "churn")


def test_ingest_versions_list_show(tmp_path: Path) -> None:
    out = invoke("data", "ingest", str(CHURN), "--name", "churn", "-d", "telco customers")
    assert "new version churn@" in out and "7,043 rows" in out
    assert "unchanged" in invoke("data", "ingest", str(CHURN), "--name", "churn")
    versions = json.loads(invoke("data", "versions", "churn", "--json"))
    assert [v["seq"] for v in versions] == [1] and versions[0]["num_rows"] == 7043
    assert "churn" in invoke("data", "list")
    shown = invoke("data", "show", "churn")
    assert "telco customers" in shown and "tenure" in shown and "(0.2%)" in shown
    full = json.loads(invoke("data", "show", f"churn@{versions[0]['version'][:8]}", "--json"))
    assert full["profile"]["num_rows"] == 7043 and full["schema"]["tenure"] == "int64"


def test_diff_between_two_versions(tmp_path: Path) -> None:
    _ingest_two(tmp_path)
    out = invoke("data", "diff", "churn@#1", "churn@#2")
    assert "7,043 → 3,000 (-4,043)" in out and "monthly_charges" in out
    data = json.loads(invoke("data", "diff", "churn@#1", "--json"))
    assert data["new_num_rows"] == 3000


def test_check_writes_reports_quarantines_and_exits_nonzero(tmp_path: Path) -> None:
    invoke("data", "ingest", str(CHURN), "--name", "churn")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: strict\nrules:\n"
        "  - {type: not_null, column: total_charges}\n"
        "  - {type: range, column: tenure, min: 0, max: 100}\n"
    )
    reports = tmp_path / "reports"
    result = runner.invoke(
        app, ["data", "check", "churn", "--suite", str(suite), "--report-dir", str(reports)]
    )
    assert result.exit_code == 1, result.output
    assert "total_charges_not_null" in result.output and "FAIL" in result.output
    assert "11 failing rows quarantined as churn-quarantine@" in result.output
    assert "failed: total_charges_not_null (not_null): 11 of 7,043" in result.output
    assert 'e.g. {"churn": ' in result.output and '"total_charges": null' in result.output
    [json_file] = reports.glob("churn-*-strict.json")
    data = json.loads(json_file.read_text())
    assert data["passed"] is False and data["dataset"].startswith("churn@")
    html = json_file.with_suffix(".html").read_text()
    HTMLParser().feed(html)
    assert "://" not in html and "total_charges_not_null" in html
    quarantined = json.loads(invoke("data", "show", "churn-quarantine", "--json"))
    assert quarantined["tags"]["failed_rules"] == "total_charges_not_null"
    assert quarantined["num_rows"] == 11

    suite.write_text(
        "name: lenient\nrules:\n  - {type: not_null, column: total_charges, severity: warn}\n"
    )
    out = invoke(
        "data", "check", "churn", "-s", str(suite), "--report-dir", str(reports), "--no-quarantine"
    )
    assert "warn" in out and "quarantined" not in out


def test_suggest_drafts_a_suite_that_passes(tmp_path: Path) -> None:
    invoke("data", "ingest", str(CHURN), "--name", "churn")
    drafted = tmp_path / "drafted.yaml"
    invoke("data", "suggest", "churn", "--out", str(drafted))
    suite = Suite.from_yaml(drafted)
    assert suite.name == "churn" and len(suite.rules) > 10
    assert "rules:" in invoke("data", "suggest", "churn")
    invoke("data", "check", "churn", "-s", str(drafted), "--report-dir", str(tmp_path / "r"))


def test_export_and_delete(tmp_path: Path) -> None:
    _ingest_two(tmp_path)
    for name in ("out.parquet", "out.csv", "out.jsonl"):
        invoke("data", "export", "churn@#2", str(tmp_path / name))
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 3000
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 3000
    assert "cannot tell the format" in invoke(
        "data", "export", "churn", str(tmp_path / "out.txt"), code=1
    )
    invoke("data", "delete", "churn@#2")
    assert [v["seq"] for v in json.loads(invoke("data", "versions", "churn", "--json"))] == [1]


def test_errors_name_the_problem(tmp_path: Path) -> None:
    assert "no dataset 'nope'" in invoke("data", "show", "nope", code=1)
    out = invoke("data", "ingest", str(tmp_path / "missing.csv"), "--name", "m", code=1)
    assert "missing.csv" in out
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n")
    assert "ragged.csv" in invoke("data", "ingest", str(tmp_path / "ragged.csv"), code=1)
    invoke("data", "ingest", str(CHURN), "--name", "churn")
    (tmp_path / "bad.yaml").write_text("name: s\nrules:\n  - {type: nope, column: a}\n")
    out = invoke("data", "check", "churn", "-s", str(tmp_path / "bad.yaml"), code=1)
    assert "unknown rule type 'nope'" in out
    assert "does not exist" in invoke("data", "check", "churn", "-s", "x.yaml", code=1)
    assert "name the version" in invoke("data", "delete", "churn", code=2)
    assert "churn" in invoke("data", "list")
