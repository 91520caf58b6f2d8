"""Drift on dates, times of any unit, all-null columns, and thresholds naming untested columns."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.errors import InvalidArgument
from shipyard.monitoring.drift import compute_drift
from shipyard.monitoring.drift.fluent import compute_drift as compute_drift_any

runner = CliRunner()
BASE = dt.datetime(2026, 1, 1)


def _instants(n: int = 500, seed: int = 0) -> list[dt.datetime]:
    rng = np.random.default_rng(seed)
    return [BASE + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 86_400 * 30, n)]


def test_date_columns_are_numeric() -> None:
    days = [t.date() for t in _instants()]
    later = [d + dt.timedelta(days=60) for d in days]
    same = compute_drift(
        pa.table({"d": pa.array(days, pa.date32())}), pa.table({"d": pa.array(days, pa.date64())})
    ).column("d")
    assert same.kind == "numeric" and same.statistic == 0.0 and not same.drifted
    moved = compute_drift(
        pa.table({"d": pa.array(days, pa.date32())}), pa.table({"d": pa.array(later, pa.date32())})
    ).column("d")
    assert moved.statistic == 1.0 and moved.drifted


def test_drift_cli_on_csv_files_with_a_date_column(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("d,x\n2026-01-01,1\n2026-01-02,2\n2026-01-05,3\n")
    result = runner.invoke(app, ["drift", str(path), str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{") :])
    by_name = {c["column"]: c for c in data["columns"]}
    assert by_name["d"]["kind"] == "numeric" and by_name["d"]["statistic"] == 0.0
    assert data["drifted_columns"] == []


@pytest.mark.parametrize(("ref_unit", "cur_unit"), [("s", "us"), ("ns", "us"), ("ms", "ns")])
def test_timestamp_units_do_not_drift(ref_unit: str, cur_unit: str) -> None:
    ts = _instants()
    ref = pa.table({"t": pa.array(ts, pa.timestamp(ref_unit))})
    cur = pa.table({"t": pa.array(ts, pa.timestamp(cur_unit))})
    col = compute_drift(ref, cur).column("t")
    assert col.statistic == 0.0 and col.effect_size == pytest.approx(0.0, abs=1e-12)
    assert not col.drifted


def test_time_zone_and_naive_timestamps_compare_as_utc() -> None:
    ts = _instants()
    ref = pa.table({"t": pa.array(ts, pa.timestamp("s", tz="UTC"))})
    cur = pa.table({"t": pa.array(ts, pa.timestamp("us"))})
    assert compute_drift(ref, cur).column("t").statistic == 0.0


def test_durations_and_times_of_day_in_different_units_do_not_drift() -> None:
    spans = [dt.timedelta(seconds=s) for s in range(200)]
    col = compute_drift(
        pa.table({"t": pa.array(spans, pa.duration("s"))}),
        pa.table({"t": pa.array(spans, pa.duration("ms"))}),
    ).column("t")
    assert col.statistic == 0.0 and not col.drifted
    clock = [dt.time(h % 24, m % 60) for h, m in zip(range(200), range(0, 600, 3), strict=True)]
    col = compute_drift(
        pa.table({"t": pa.array(clock, pa.time32("s"))}),
        pa.table({"t": pa.array(clock, pa.time64("ns"))}),
    ).column("t")
    assert col.statistic == 0.0 and not col.drifted


def test_a_column_of_null_type_is_skipped_not_refused() -> None:
    ref = pa.table({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "a"], "n": pa.nulls(3)})
    cur = pa.table({"x": pa.nulls(2), "s": pa.nulls(2), "n": pa.nulls(2)})
    report = compute_drift(ref, cur)
    assert [c.kind for c in report.columns] == ["numeric", "categorical", "numeric"]
    for name, sides in (("x", "current"), ("s", "current"), ("n", "reference and the current")):
        col = report.column(name)
        assert col.skipped == f"every value of {name!r} is null in the {sides} data"
        assert not col.drifted and col.statistic is None and (col.n_cur, col.null_cur) == (0, 2)
    assert report.share_drifted == 0.0
    # pandas: a column of None only
    col = compute_drift(pd.DataFrame({"x": [1.0, 2.0]}), pd.DataFrame({"x": [None, None]})).column(
        "x"
    )
    assert col.skipped is not None and not col.drifted


def test_a_threshold_for_an_untested_column_is_refused() -> None:
    ref = pd.DataFrame({"monthly": [1.0, 2.0, 3.0], "tenure": [1, 2, 3]})
    with pytest.raises(InvalidArgument, match=r"'monthy'.*tested columns are 'monthly', 'tenure'"):
        compute_drift_any(ref, ref, thresholds={"monthy": 0.2})
    with pytest.raises(InvalidArgument, match=r"'tenure'.*tested columns are 'monthly'"):
        compute_drift_any(ref, ref, columns=["monthly"], thresholds={"tenure": 0.2})
    report = compute_drift_any(ref, ref, thresholds={"tenure": 0.3})
    assert report.column("tenure").threshold == 0.3


def test_cli_threshold_for_an_unknown_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("x,y\n1,2\n3,4\n")
    result = runner.invoke(app, ["drift", str(path), str(path), "-t", "z=0.2"])
    assert result.exit_code != 0
    assert "'z'" in result.output and "tested columns" in result.output
