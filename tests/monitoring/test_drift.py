"""compute_drift: decisions, settings, inputs and the errors of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from shipyard.errors import ConfigError, InvalidArgument, NotFound
from shipyard.monitoring.drift import (
    DEFAULT_THRESHOLDS,
    ColumnConfig,
    DriftConfig,
    DriftReport,
    compute_drift,
)


def _frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current with the issue's five shifts and two quiet columns."""
    rng = np.random.default_rng(seed)

    def draw(shifted: bool) -> pd.DataFrame:
        plan_p = [0.35, 0.3, 0.35] if shifted else [0.5, 0.3, 0.2]
        cities = [f"city{i}" for i in range(10)] + (["new_city"] if shifted else [])
        city_p = np.r_[np.full(10, 0.09), 0.1] if shifted else np.full(10, 0.1)
        return pd.DataFrame(
            {
                "mean": rng.normal(50, 10, rows) + (5.0 if shifted else 0.0),
                "spread": rng.normal(0, 1, rows) * (1.5 if shifted else 1.0),
                "tiny": rng.normal(100, 15, rows) + (0.75 if shifted else 0.0),
                "quiet": rng.exponential(3, rows),
                "count": rng.poisson(4, rows),
                "plan": rng.choice(["a", "b", "c"], rows, p=plan_p),
                "city": rng.choice(cities, rows, p=city_p),
                "flag": rng.random(rows) < 0.3,
            }
        )

    return draw(False), draw(True)


def test_defaults_flag_shifts_of_practical_size_only() -> None:
    ref, cur = _frames(50_000)
    report = compute_drift(ref, cur)
    assert set(report.drifted_columns) == {"mean", "spread", "plan", "city"}
    tiny = report.column("tiny")
    # significant at this size, but its effect size (0.05 sd) is under the threshold
    assert tiny.p_value is not None and tiny.p_value < 1e-6
    assert tiny.effect_size is not None and 0.03 < tiny.effect_size < DEFAULT_THRESHOLDS["ks"]
    assert not tiny.drifted
    assert report.column("city").new_categories == ("new_city",)
    assert report.column("flag").kind == "categorical"
    assert report.column("count").kind == "numeric"
    assert report.share_drifted == pytest.approx(4 / 8)
    assert report.dataset_drift  # 0.5 reaches the default drift_share of 0.5


def test_arrow_and_pandas_inputs_give_the_same_report() -> None:
    ref, cur = _frames(3_000, seed=1)
    from_pandas = compute_drift(ref, cur).to_dict()
    from_arrow = compute_drift(pa.Table.from_pandas(ref), pa.Table.from_pandas(cur)).to_dict()
    from_pandas.pop("duration_s"), from_arrow.pop("duration_s")
    assert from_pandas == from_arrow


def test_report_round_trips_through_json() -> None:
    ref, cur = _frames(2_000, seed=2)
    report = compute_drift(ref, cur)
    again = DriftReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.to_dict() == report.to_dict()
    data = report.to_dict()
    assert data["drifted_columns"] == list(report.drifted_columns)
    col = data["columns"][0]
    for key in ("column", "kind", "test", "statistic", "p_value", "effect_size", "threshold"):
        assert key in col
    assert len(col["distribution"]["edges"]) == len(col["distribution"]["reference"]) + 1
    assert sum(col["distribution"]["reference"]) == pytest.approx(1.0)


def test_per_column_thresholds_and_tests() -> None:
    ref, cur = _frames(20_000, seed=3)
    config = DriftConfig(
        columns={
            "tiny": ColumnConfig(threshold=0.01),
            "mean": ColumnConfig(test="psi"),
            "plan": ColumnConfig(test="jensenshannon", threshold=0.9),
            "count": ColumnConfig(kind="categorical"),
        }
    )
    report = compute_drift(ref, cur, config=config)
    assert report.column("tiny").drifted and report.column("tiny").threshold == 0.01
    mean = report.column("mean")
    assert (mean.test, mean.p_value, mean.threshold) == ("psi", None, DEFAULT_THRESHOLDS["psi"])
    assert mean.statistic == mean.effect_size == mean.statistics["psi"]
    assert not report.column("plan").drifted  # a JS distance of ~0.15 is under 0.9
    assert report.column("count").kind == "categorical"
    assert report.column("count").test == "chi2"


def test_wasserstein_test_has_no_p_value() -> None:
    ref, cur = _frames(2_000, seed=4)
    config = DriftConfig(numeric_test="wasserstein", alpha=0.01, drift_share=0.9)
    report = compute_drift(ref, cur, config=config)
    mean = report.column("mean")
    assert mean.p_value is None and mean.alpha is None and mean.drifted
    assert mean.statistic == mean.statistics["wasserstein"]
    assert not report.dataset_drift


def test_columns_subset_and_prediction_column() -> None:
    ref, cur = _frames(2_000, seed=5)
    ref["prediction"], cur["prediction"] = (ref["mean"] > 50), (cur["mean"] > 50)
    report = compute_drift(ref, cur.drop(columns=["quiet"]), columns=["prediction", "mean"])
    assert [c.column for c in report.columns] == ["prediction", "mean"]
    assert report.column("prediction").kind == "categorical"
    assert report.column("prediction").drifted


def test_all_null_column_is_reported_as_skipped() -> None:
    ref = pa.table({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "a"]})
    cur = pa.table(
        {"x": pa.array([None, None], pa.float64()), "s": pa.array([None, None], pa.string())}
    )
    report = compute_drift(ref, cur)
    for name in ("x", "s"):
        col = report.column(name)
        assert col.skipped is not None and "null in the current data" in col.skipped
        assert not col.drifted and col.statistic is None and col.distribution is None
        assert (col.n_cur, col.null_cur) == (0, 2)
    assert report.share_drifted == 0.0 and not report.dataset_drift


def test_times_are_numeric() -> None:
    start = np.datetime64("2026-01-01T00:00:00")
    ref = pd.DataFrame({"t": start + np.arange(100) * np.timedelta64(1, "h")})
    cur = pd.DataFrame({"t": start + (np.arange(100) + 500) * np.timedelta64(1, "h")})
    col = compute_drift(ref, cur).column("t")
    assert col.kind == "numeric" and col.statistic == 1.0 and col.drifted


def test_empty_windows_are_refused() -> None:
    ref = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(InvalidArgument, match="current data is empty"):
        compute_drift(ref, ref.iloc[:0])
    with pytest.raises(InvalidArgument, match="reference data is empty"):
        compute_drift(ref.iloc[:0], ref)


def test_different_columns_are_refused_with_the_fix() -> None:
    ref = pd.DataFrame({"x": [1.0], "y": [2.0]})
    cur = pd.DataFrame({"x": [1.0], "z": [2.0]})
    with pytest.raises(InvalidArgument, match=r"only the reference has 'y'.*columns="):
        compute_drift(ref, cur)
    with pytest.raises(InvalidArgument, match="current data has no column 'y'"):
        compute_drift(ref, cur, columns=["y"])
    with pytest.raises(InvalidArgument, match="columns= is empty"):
        compute_drift(ref, cur, columns=[])


def test_different_types_are_refused() -> None:
    ref = pd.DataFrame({"x": [1.0, 2.0]})
    cur = pd.DataFrame({"x": ["a", "b"]})
    with pytest.raises(InvalidArgument, match=r"'x' is double .* but (large_)?string"):
        compute_drift(ref, cur)
    # told to, both sides are compared as categories
    config = DriftConfig(columns={"x": ColumnConfig(kind="categorical")})
    assert compute_drift(ref, cur, config=config).column("x").kind == "categorical"


def test_untestable_types_and_inputs_are_refused() -> None:
    ref = pa.table({"l": [[1], [2]]})
    with pytest.raises(InvalidArgument, match="'l' has type list"):
        compute_drift(ref, ref)
    with pytest.raises(InvalidArgument, match="not list"):
        compute_drift([1, 2], ref)
    with pytest.raises(InvalidArgument, match="config must be a DriftConfig"):
        compute_drift(ref, ref, config={"alpha": 0.1})  # type: ignore[arg-type]


def test_forcing_numeric_on_strings_is_refused() -> None:
    ref = pd.DataFrame({"s": ["a", "b"]})
    config = DriftConfig(columns={"s": ColumnConfig(kind="numeric")})
    with pytest.raises(InvalidArgument, match="cannot be tested as numeric"):
        compute_drift(ref, ref, config=config)


def test_a_test_that_does_not_fit_the_kind_is_a_config_error() -> None:
    ref = pd.DataFrame({"s": ["a", "b"]})
    config = DriftConfig(columns={"s": ColumnConfig(test="ks")})
    with pytest.raises(ConfigError, match=r"columns.s.test: test 'ks' does not apply to categ"):
        compute_drift(ref, ref, config=config)


def test_report_column_lookup_names_the_choices() -> None:
    report = compute_drift(pd.DataFrame({"x": [1.0, 2.0]}), pd.DataFrame({"x": [1.0, 3.0]}))
    with pytest.raises(NotFound, match="no column 'y'; it has: x"):
        report.column("y")
    with pytest.raises(InvalidArgument, match="not a drift report"):
        DriftReport.from_dict({"columns": []})


# -- settings -------------------------------------------------------------------------------------


def test_config_from_yaml_and_back(tmp_path: Path) -> None:
    path = tmp_path / "shipyard.yaml"
    path.write_text(
        "drift:\n"
        "  alpha: 0.01\n"
        "  drift_share: 0.3\n"
        "  thresholds: {psi: 0.25}\n"
        "  columns:\n"
        "    monthly: {threshold: 0.2}\n"
        "    plan: {test: psi}\n"
    )
    config = DriftConfig.from_yaml(path)
    assert config.alpha == 0.01 and config.drift_share == 0.3
    assert config.threshold_for("monthly", "ks") == 0.2
    assert config.threshold_for("plan", "psi") == 0.25
    assert config.test_for("plan", "categorical") == "psi"
    assert config.test_for("other", "numeric") == "ks"
    assert DriftConfig.from_dict(config.to_dict()) == config
    assert DriftConfig.from_yaml(str(path)) == config


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"alpha": 0}, "alpha must be a number in"),
        ({"alpha": "x"}, "alpha must be a number"),
        ({"drift_share": 1.5}, "drift_share must be"),
        ({"numeric_test": "chi2"}, "does not apply to numeric"),
        ({"categorical_test": "nope"}, "unknown test 'nope'"),
        ({"thresholds": {"ks": -1}}, "thresholds.ks must be a number >= 0"),
        ({"thresholds": {"zz": 1}}, "unknown test 'zz'"),
        ({"psi_bins": 1}, "psi_bins must be an integer from 2"),
        ({"colums": {}}, r"unknown field\(s\) \['colums'\]"),
        ({"columns": {"x": {"treshold": 1}}}, r"columns.x: unknown field\(s\) \['treshold'\]"),
        ({"columns": {"x": {"kind": "text"}}}, "kind must be 'numeric' or 'categorical'"),
        ({"columns": {"x": {"kind": "numeric", "test": "chi2"}}}, "does not apply to numeric"),
        ({"columns": ["x"]}, "columns must map column names"),
    ],
)
def test_bad_settings_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DriftConfig.from_dict(data)


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        DriftConfig.from_yaml("alpha: [unclosed\n")
    with pytest.raises(NotFound, match="does not exist"):
        DriftConfig.from_yaml(tmp_path / "missing.yaml")


def test_a_zero_threshold_survives_the_round_trip() -> None:
    config = DriftConfig(columns={"x": ColumnConfig(threshold=0.0)})
    again = DriftConfig.from_dict(config.to_dict())
    assert again.column("x").threshold == 0.0 and again == config


def test_with_thresholds_keeps_the_rest() -> None:
    base = DriftConfig(columns={"x": ColumnConfig(test="psi")})
    changed = base.with_thresholds({"x": 0.5, "y": 0.2})
    assert changed.column("x") == ColumnConfig(test="psi", threshold=0.5)
    assert changed.threshold_for("y", "ks") == 0.2
    assert base.column("x").threshold is None


def test_parquet_files_are_read_column_by_column(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from shipyard.monitoring.drift import ParquetColumns

    ref, cur = _frames(3_000, seed=6)
    pq.write_table(pa.Table.from_pandas(ref), tmp_path / "ref.parquet")
    pq.write_table(pa.Table.from_pandas(cur), tmp_path / "cur.parquet")
    side = ParquetColumns.open(tmp_path / "ref.parquet")
    assert side.num_rows == 3_000 and "plan" in side.column_names
    streamed = compute_drift(side, ParquetColumns.open(tmp_path / "cur.parquet")).to_dict()
    in_memory = compute_drift(ref, cur).to_dict()
    streamed.pop("duration_s"), in_memory.pop("duration_s")
    assert streamed == in_memory
    with pytest.raises(NotFound, match="no file"):
        ParquetColumns.open(tmp_path / "missing.parquet")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(InvalidArgument, match="not a readable Parquet file"):
        ParquetColumns.open(tmp_path / "bad.parquet")


def test_threaded_and_sequential_runs_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large inputs run their columns on a thread pool; the report is the same."""
    from shipyard.monitoring.drift import engine

    ref, cur = _frames(4_000, seed=7)
    sequential = compute_drift(ref, cur).to_dict()
    monkeypatch.setattr(engine, "PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(engine.os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert engine._threads(8, 4_000) == 3
    threaded = compute_drift(ref, cur).to_dict()
    sequential.pop("duration_s"), threaded.pop("duration_s")
    assert threaded == sequential
