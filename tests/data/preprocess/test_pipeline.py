"""Preprocessor: declarations (Python, dict, YAML), fitting, resampling and the no-skew proof."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from shipyard.data.preprocess import (
    DateParts,
    Derive,
    Impute,
    OneHot,
    Ordinal,
    Outliers,
    Preprocessor,
    Scale,
    step_types,
)
from shipyard.errors import InvalidArgument, NotFound

CHURN_CSV = Path(__file__).parents[3] / "examples" / "churn" / "data" / "wa_churn.csv"

YAML = """
steps:
  - impute: {columns: [total_charges], strategy: median}
  - derive: {name: charges_per_month, expression: "total_charges / tenure"}
  - impute: {columns: [charges_per_month], strategy: constant, fill_value: 0}
  - outliers: {columns: [monthly_charges], method: zscore, action: drop, threshold: 1.5}
  - one_hot: {columns: [contract, payment_method, internet_service]}
  - ordinal: {columns: [multiple_lines]}
  - scale: {columns: [tenure, monthly_charges, total_charges, charges_per_month]}
"""


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return pd.read_csv(CHURN_CSV)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 60
    return pd.DataFrame(
        {
            "tenure": rng.integers(0, 50, n),
            "total": np.where(rng.random(n) < 0.1, np.nan, rng.normal(500, 200, n)),
            "plan": rng.choice(np.array(["basic", "pro", "team", None], dtype=object), n),
            "signup": pd.date_range("2023-01-01", periods=n, freq="37h").astype(str),
        }
    )


def full(frame: pd.DataFrame) -> Preprocessor:
    return Preprocessor(
        [
            Impute(["total"], strategy="median"),
            Derive("per_month", "where(tenure > 0, total / tenure, 0)"),
            Outliers(["total"], action="drop"),
            OneHot(["plan"]),
            DateParts(["signup"], parts=["month", "day_of_week", "hour"]),
            Scale(["total", "per_month"]),
        ]
    )


def test_chain_fits_every_step(frame: pd.DataFrame) -> None:
    prep = full(frame)
    out = prep.fit_transform(frame)
    assert out.columns.tolist() == prep.get_feature_names_out().tolist()
    assert "plan_pro" in out.columns
    assert "signup_hour" in out.columns
    assert out.drop(columns="tenure").dtypes.eq("float64").all()  # tenure passes through
    assert out["total"].mean() == pytest.approx(0.0, abs=1e-9)
    assert out.index.equals(frame.index)
    pd.testing.assert_frame_equal(prep.transform(frame), out)


def test_transform_reads_the_fitted_columns_in_order(frame: pd.DataFrame) -> None:
    prep = full(frame).fit(frame)
    shuffled = frame[list(reversed(frame.columns))].assign(extra=1)
    pd.testing.assert_frame_equal(prep.transform(shuffled), prep.transform(frame))
    with pytest.raises(InvalidArgument, match=r"\['plan'\] not found"):
        prep.transform(frame.drop(columns="plan"))
    with pytest.raises(NotFittedError):
        full(frame).transform(frame)


def test_batch_equals_row_by_row(frame: pd.DataFrame) -> None:
    """The online path sends one row at a time; it must get exactly what the batch gets."""
    prep = full(frame).fit(frame)
    batch = prep.transform(frame)
    single = pd.concat([prep.transform(frame.iloc[[i]]) for i in range(len(frame))])
    pd.testing.assert_frame_equal(single, batch)
    records = frame.to_dict("records")
    from_records = pd.concat([prep.transform([r]) for r in records], ignore_index=True)
    pd.testing.assert_frame_equal(from_records, batch.reset_index(drop=True), check_dtype=False)


def test_fit_resample_drops_outlier_rows_only_when_training() -> None:
    data = pd.DataFrame({"x": [1.0, 2.0, 3.0, 2.0, 1000.0, np.nan], "s": [1, 2, 3, 4, 5, 6]})
    y = pd.Series([0, 1, 0, 1, 1, 0], name="y")
    prep = Preprocessor([Outliers(["x"], action="drop"), Scale(["s"], method="minmax")])
    Xt, yt = prep.fit_resample(data, y)
    assert Xt.index.tolist() == [0, 1, 2, 3, 5]  # the missing x is kept
    assert yt.tolist() == [0, 1, 0, 1, 0]
    assert Xt["s"].max() == 1.0  # later steps fitted on kept rows: s=6 maps to 1
    clipped = prep.transform(data)
    assert len(clipped) == len(data)
    assert clipped["x"].iloc[4] == pytest.approx(prep.steps[0].upper_["x"])
    _, ya = Preprocessor([Outliers(["x"], action="drop")]).fit_resample(data, y.to_numpy())
    assert ya.tolist() == [0, 1, 0, 1, 0]
    assert Preprocessor([Outliers(["x"], action="drop")]).fit_resample(data)[1] is None
    with pytest.raises(InvalidArgument, match="y has 2 rows but X has 6"):
        prep.fit_resample(data, [0, 1])


def test_dict_and_yaml_round_trip(tmp_path: Path) -> None:
    prep = Preprocessor.from_yaml(YAML)
    assert [type(s) for s in prep.steps] == [
        Impute,
        Derive,
        Impute,
        Outliers,
        OneHot,
        Ordinal,
        Scale,
    ]
    assert prep.steps[1].get_params() == {
        "name": "charges_per_month",
        "expression": "total_charges / tenure",
    }
    data = prep.to_dict()
    assert data["steps"][0] == {
        "impute": {"columns": ["total_charges"], "fill_value": None, "strategy": "median"}
    }
    assert Preprocessor.from_dict(data).to_dict() == data
    path = tmp_path / "prep.yaml"
    path.write_text(prep.to_yaml())
    assert Preprocessor.from_yaml(path).to_dict() == data
    assert Preprocessor.from_yaml(str(path)).to_dict() == data
    dates = Preprocessor([DateParts(["d"])]).to_dict()
    assert dates["steps"][0]["date_parts"]["parts"] == [
        "year",
        "month",
        "day",
        "day_of_week",
        "hour",
    ]
    assert set(step_types()) == {
        "impute",
        "outliers",
        "scale",
        "one_hot",
        "ordinal",
        "date_parts",
        "derive",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"steps": [{"standardize": {}}]},
            r"unknown step 'standardize'; valid steps: \['date_parts'",
        ),
        ({"steps": [{"impute": {"colums": ["a"]}}]}, r"unknown parameter\(s\) \['colums'\]; valid"),
        ({"steps": [{"impute": {"strategy": "avg"}}]}, r"step 0 \(impute\): Impute: strategy"),
        ({"steps": [{"derive": {"name": "x"}}]}, r"step 0 \(derive\).*expression"),
        ({"steps": [{"derive": {"name": "x", "expression": "x.y"}}]}, "attribute access"),
        ({"steps": [{"impute": {}, "scale": {}}]}, "one key, the step name"),
        ({"steps": [{"impute": ["a"]}]}, "parameters must be a mapping"),
        ({"steps": {"impute": {}}}, "'steps' must be a list"),
        ({"stages": []}, "one key, 'steps'"),
    ],
)
def test_bad_declarations(data: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        Preprocessor.from_dict(data)  # type: ignore[arg-type]


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="not valid YAML"):
        Preprocessor.from_yaml("steps: [impute: {")
    with pytest.raises(NotFound, match="does not exist"):
        Preprocessor.from_yaml(tmp_path / "none.yaml")
    with pytest.raises(InvalidArgument, match="step 0 is a str"):
        Preprocessor(["impute"])  # type: ignore[list-item]


def test_clone_and_get_params(frame: pd.DataFrame) -> None:
    prep = full(frame)
    copy = clone(prep)
    assert copy.steps is not prep.steps
    assert all(a is not b for a, b in zip(copy.steps, prep.steps, strict=True))
    assert copy.to_dict() == prep.to_dict()
    assert set(prep.get_params(deep=True)) == {"steps"}
    prep.fit(frame)
    assert not hasattr(clone(prep).steps[0], "statistics_")


def test_churn_csv_missing_total_charges_are_imputed(churn: pd.DataFrame) -> None:
    X = churn.drop(columns="churn")
    assert X["total_charges"].isna().sum() > 0  # the blank TotalCharges cells
    prep = Preprocessor.from_yaml(YAML)
    Xt, _ = prep.fit_resample(X, churn["churn"])
    out = prep.transform(X)
    assert len(out) == len(X)
    assert not out["total_charges"].isna().any()
    assert not out["charges_per_month"].isna().any()  # tenure 0 gave NaN, then filled with 0
    median = X["total_charges"].median()
    assert prep.steps[0].statistics_ == {"total_charges": median}
    assert len(Xt) < len(X)
    rows = pd.concat([prep.transform(X.iloc[[i]]) for i in range(0, len(X), 97)])
    pd.testing.assert_frame_equal(rows, out.iloc[::97])
