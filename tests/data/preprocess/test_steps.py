"""Each preprocessing step: what it learns, what it outputs, and how it refuses bad input."""

from __future__ import annotations

from typing import Any

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
    Scale,
)
from shipyard.errors import InvalidArgument


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20, 30, None, 40, 30],
            "income": [1.0, 2.0, 3.0, np.nan, 100.0],
            "plan": ["a", "b", None, "b", "c"],
            "flag": [True, False, True, True, False],
        },
        index=[10, 11, 12, 13, 14],
    )


# ----------------------------------------------------------------------------- Impute


@pytest.mark.parametrize(("strategy", "fill"), [("mean", 30.0), ("median", 30.0), ("mode", 30.0)])
def test_impute_numeric(frame: pd.DataFrame, strategy: str, fill: float) -> None:
    out = Impute(["age"], strategy=strategy).fit_transform(frame)
    assert out["age"].dtype == "float64"
    assert out["age"].tolist() == [20.0, 30.0, fill, 40.0, 30.0]
    assert out.index.equals(frame.index)
    pd.testing.assert_frame_equal(out.drop(columns="age"), frame.drop(columns="age"))


def test_impute_text_mode_and_constant(frame: pd.DataFrame) -> None:
    assert Impute(["plan"], strategy="mode").fit(frame).statistics_ == {"plan": "b"}
    out = Impute(["plan"], strategy="constant", fill_value="none").fit_transform(frame)
    assert out["plan"].tolist() == ["a", "b", "none", "b", "c"]
    ties = pd.DataFrame({"p": ["y", "x", None]})
    assert Impute(["p"], strategy="mode").fit(ties).statistics_ == {"p": "x"}


def test_impute_auto_columns_and_learned_state_is_plain(frame: pd.DataFrame) -> None:
    step = Impute(strategy="median").fit(frame)
    assert step.columns_ == ["age", "income", "flag"]
    assert step.statistics_ == {"age": 30.0, "income": 2.5, "flag": 1.0}
    assert all(type(v) is float for v in step.statistics_.values())
    assert Impute(strategy="mode").fit(frame).columns_ == list(frame.columns)


def test_impute_blank_strings_are_missing_in_numeric_columns() -> None:
    raw = pd.DataFrame({"total": ["10.5", " ", "", None, "4"]})
    out = Impute(["total"], strategy="mean").fit_transform(raw)
    assert out["total"].tolist() == [10.5, 7.25, 7.25, 7.25, 4.0]


def test_impute_errors(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgument, match=r"strategy must be one of \['mean', 'median'"):
        Impute(["age"], strategy="avg")
    with pytest.raises(InvalidArgument, match="needs a fill_value"):
        Impute(["age"], strategy="constant")
    with pytest.raises(InvalidArgument, match="only used with strategy='constant'"):
        Impute(["age"], fill_value=1)
    with pytest.raises(InvalidArgument, match=r"column 'plan' must hold numbers.*'a'"):
        Impute(["plan"]).fit(frame)
    with pytest.raises(InvalidArgument, match=r"column\(s\) \['nope'\] not found"):
        Impute(["nope"]).fit(frame)
    with pytest.raises(InvalidArgument, match="no values to take the mean"):
        Impute(["x"]).fit(pd.DataFrame({"x": [np.nan, np.nan]}))
    with pytest.raises(InvalidArgument, match="listed twice"):
        Impute(["age", "age"])
    with pytest.raises(InvalidArgument, match="works on named columns"):
        Impute(["age"]).fit(np.zeros((2, 2)))


def test_transform_checks_columns_and_fit(frame: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError):
        Impute(["age"]).transform(frame)
    step = Impute(["age"]).fit(frame)
    with pytest.raises(InvalidArgument, match=r"column\(s\) \['age'\] not found"):
        step.transform(frame.drop(columns="age"))


# ----------------------------------------------------------------------------- Outliers


def test_outliers_iqr_clip(frame: pd.DataFrame) -> None:
    step = Outliers(["income"], factor=1.0).fit(frame)
    q1, q3 = np.quantile([1.0, 2.0, 3.0, 100.0], [0.25, 0.75])
    assert step.upper_ == {"income": q3 + (q3 - q1)}
    out = step.transform(frame)
    assert out["income"].tolist()[:3] == [1.0, 2.0, 3.0]
    assert np.isnan(out["income"].iloc[3])
    assert out["income"].iloc[4] == pytest.approx(q3 + (q3 - q1))


def test_outliers_zscore_and_inliers() -> None:
    data = pd.DataFrame({"x": [0.0] * 20 + [50.0]})
    step = Outliers(["x"], method="zscore", action="drop", threshold=2.0).fit(data)
    keep = step.inliers(data)
    assert keep.tolist() == [True] * 20 + [False]
    assert step.transform(data)["x"].iloc[-1] == pytest.approx(step.upper_["x"])


def test_outliers_errors() -> None:
    with pytest.raises(InvalidArgument, match=r"method must be one of \['iqr', 'zscore'\]"):
        Outliers(method="mad")
    with pytest.raises(InvalidArgument, match=r"action must be one of \['clip', 'drop'\]"):
        Outliers(action="remove")
    with pytest.raises(InvalidArgument, match="factor must be a positive number"):
        Outliers(factor=0)
    with pytest.raises(InvalidArgument, match="no suitable column"):
        Outliers().fit(pd.DataFrame({"t": ["a"]}))
    with pytest.raises(NotFittedError):
        Outliers(["x"]).inliers(pd.DataFrame({"x": [1.0]}))


# ----------------------------------------------------------------------------- Scale


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("standard", [-1.224744871391589, 0.0, 1.224744871391589]),
        ("minmax", [0.0, 0.5, 1.0]),
        ("robust", [-1.0, 0.0, 1.0]),
    ],
)
def test_scale(method: str, expected: list[float]) -> None:
    data = pd.DataFrame({"x": [1, 2, 3], "k": [5, 5, 5]})
    out = Scale(method=method).fit_transform(data)
    np.testing.assert_allclose(out["x"], expected)
    assert out["k"].tolist() == [0.0, 0.0, 0.0]  # a constant column is only shifted


def test_scale_keeps_nan_and_refuses_text(frame: pd.DataFrame) -> None:
    out = Scale(["income"], method="minmax").fit_transform(frame)
    assert np.isnan(out["income"].iloc[3])
    with pytest.raises(InvalidArgument, match=r"method must be one of \['standard'"):
        Scale(method="log")
    with pytest.raises(InvalidArgument, match="column 'plan' must hold numbers"):
        Scale(["plan"]).fit(frame)


# ----------------------------------------------------------------------------- OneHot


def test_one_hot_in_place_with_unknown_and_missing(frame: pd.DataFrame) -> None:
    step = OneHot().fit(frame)
    assert step.columns_ == ["plan"]
    assert step.categories_ == {"plan": ["a", "b", "c"]}
    names = ["age", "income", "plan_a", "plan_b", "plan_c", "flag"]
    assert step.get_feature_names_out().tolist() == names
    new = pd.DataFrame({"age": [1], "income": [1.0], "plan": ["zzz"], "flag": [True]})
    out = step.transform(pd.concat([frame, new]))
    assert out.columns.tolist() == names
    assert out[["plan_a", "plan_b", "plan_c"]].to_numpy().tolist() == [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [0, 0, 0],
    ]
    assert (out.dtypes[["plan_a", "plan_b", "plan_c"]] == "float64").all()


def test_one_hot_unknown_error() -> None:
    step = OneHot(["p"], handle_unknown="error").fit(pd.DataFrame({"p": ["x", "y"]}))
    with pytest.raises(InvalidArgument, match=r"not seen at fit: \['q'\].*handle_unknown='ignore'"):
        step.transform(pd.DataFrame({"p": ["x", "q", None]}))
    assert step.transform(pd.DataFrame({"p": [None]})).to_numpy().tolist() == [[0.0, 0.0]]


def test_one_hot_numbers_and_max_categories() -> None:
    data = pd.DataFrame({"n": [0, 1, 1, 2, 2, 2, 3]})
    step = OneHot(["n"], max_categories=3, handle_unknown="error").fit(data)
    assert step.categories_ == {"n": [1, 2]}
    assert step.infrequent_ == {"n": [0, 3]}
    out = step.transform(pd.DataFrame({"n": [0.0, 1.0, 2.0, 3.0]}))
    assert out.columns.tolist() == ["n_1", "n_2", "n_infrequent"]
    assert out.to_numpy().tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_one_hot_errors() -> None:
    with pytest.raises(InvalidArgument, match="max_categories must be a whole number >= 2"):
        OneHot(max_categories=1)
    with pytest.raises(InvalidArgument, match=r"handle_unknown must be one of"):
        OneHot(handle_unknown="infrequent")
    clash = pd.DataFrame({"p": ["x"], "p_x": [1.0]})
    with pytest.raises(InvalidArgument, match=r"\['p_x'\] would appear twice"):
        OneHot(["p"]).fit(clash)


# ----------------------------------------------------------------------------- Ordinal


def test_ordinal_learned_and_given_order(frame: pd.DataFrame) -> None:
    out = (
        Ordinal()
        .fit(frame)
        .transform(frame.assign(plan=pd.Series(["c", "zz", None, "a", "b"], index=frame.index)))
    )
    assert out["plan"].tolist()[:2] == [2.0, -1.0]
    assert np.isnan(out["plan"].iloc[2])
    assert out["plan"].tolist()[3:] == [0.0, 1.0]
    given = Ordinal(["plan"], categories={"plan": ["c", "b", "a"]}, unknown_value=9)
    assert given.fit_transform(frame)["plan"].tolist()[:2] == [2.0, 1.0]


def test_ordinal_errors(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgument, match=r"values \['c'\] that are not in the categories"):
        Ordinal(["plan"], categories={"plan": ["a", "b"]}).fit(frame)
    with pytest.raises(InvalidArgument, match="categories given for columns not encoded"):
        Ordinal(["plan"], categories={"other": ["a"]}).fit(frame)
    with pytest.raises(InvalidArgument, match="lists of distinct values"):
        Ordinal(categories={"plan": ["a", "a"]})
    with pytest.raises(InvalidArgument, match="unknown_value must be a number"):
        Ordinal(unknown_value="x")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- DateParts


def test_date_parts_from_text_dates_and_time_zones() -> None:
    data = pd.DataFrame(
        {
            "at": ["2024-03-01T10:30:00", "bad", None, "2024-12-31T23:00:00+02:00"],
            "keep": [1, 2, 3, 4],
        }
    )
    step = DateParts(["at"], parts=["year", "month", "hour", "day_of_week"]).fit(data)
    out = step.transform(data)
    assert out.columns.tolist() == ["at_year", "at_month", "at_hour", "at_day_of_week", "keep"]
    assert out.iloc[0, :4].tolist() == [2024.0, 3.0, 10.0, 4.0]
    assert out.iloc[1:3, :4].isna().all().all()
    assert out.iloc[3, :4].tolist() == [2024.0, 12.0, 21.0, 1.0]  # converted to UTC
    typed = pd.DataFrame({"at": pd.to_datetime(["2020-02-29 05:00"])})
    assert DateParts(["at"], parts=["day"]).fit_transform(typed)["at_day"].tolist() == [29.0]
    fmt = DateParts(["at"], parts=["day"], format="%d/%m/%Y")
    assert fmt.fit_transform(pd.DataFrame({"at": ["03/04/2021"]}))["at_day"].tolist() == [3.0]


def test_date_parts_errors() -> None:
    with pytest.raises(InvalidArgument, match="name the date columns"):
        DateParts()
    with pytest.raises(InvalidArgument, match=r"parts must be a non-empty list from \['year'"):
        DateParts(["at"], parts=["week"])
    with pytest.raises(InvalidArgument, match="holds numbers, not dates"):
        DateParts(["n"]).fit(pd.DataFrame({"n": [1, 2]}))


# ----------------------------------------------------------------------------- Derive


def test_derive_adds_or_replaces_a_column(frame: pd.DataFrame) -> None:
    out = Derive("ratio", "income / age").fit_transform(frame)
    assert out.columns.tolist() == [*frame.columns, "ratio"]
    assert out["ratio"].iloc[0] == pytest.approx(0.05)
    replaced = Derive("age", "fillna(age, 0) + 1").fit(frame)
    assert replaced.get_feature_names_out().tolist() == list(frame.columns)
    assert replaced.transform(frame)["age"].tolist() == [21.0, 31.0, 1.0, 41.0, 31.0]


def test_derive_errors(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgument, match="unknown function 'eval'"):
        Derive("x", "eval('1')")
    with pytest.raises(InvalidArgument, match="name must be a non-empty column name"):
        Derive("", "age")
    with pytest.raises(InvalidArgument, match=r"uses column\(s\) \['tenure'\].*available"):
        Derive("x", "tenure * 2").fit(frame)
    step = Derive("x", "age * 2")
    step.set_params(expression="__import__('os')")
    with pytest.raises(InvalidArgument, match="unknown function '__import__'"):
        step.fit(frame)  # set_params skips __init__; fit checks again


# ----------------------------------------------------------------------------- the sklearn contract


STEPS: list[Any] = [
    Impute(["age"], strategy="median"),
    Outliers(["income"]),
    Scale(["income"], method="robust"),
    OneHot(["plan"], max_categories=2),
    Ordinal(["plan"], categories={"plan": ["a", "b", "c"]}),
    DateParts(["at"], parts=["month"]),
    Derive("double", "income * 2"),
]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: type(s).__name__)
def test_clone_params_and_not_fitted(step: Any, frame: pd.DataFrame) -> None:
    copy = clone(step)
    assert copy is not step
    assert copy.get_params() == step.get_params()
    with pytest.raises(NotFittedError):
        copy.transform(frame)
    with pytest.raises(NotFittedError):
        copy.get_feature_names_out()


@pytest.mark.parametrize("step", STEPS, ids=lambda s: type(s).__name__)
def test_set_output_and_feature_names(step: Any, frame: pd.DataFrame) -> None:
    data = frame.assign(at=["2024-01-05"] * len(frame))
    fitted = clone(step).set_output(transform="pandas").fit(data)
    out = fitted.transform(data)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == fitted.get_feature_names_out().tolist()
    assert out.index.equals(data.index)
    assert fitted.n_features_in_ == len(data.columns)
