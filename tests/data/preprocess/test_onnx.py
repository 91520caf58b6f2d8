"""ONNX export: onnxruntime gives what scikit-learn gives, and unsupported steps say so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from shipyard.data.preprocess import (
    DateParts,
    Derive,
    Impute,
    OneHot,
    Ordinal,
    Outliers,
    Preprocessor,
    Scale,
)
from shipyard.data.preprocess.onnx import run_onnx, to_onnx
from shipyard.errors import InvalidArgument

CHURN_CSV = Path(__file__).parents[3] / "examples" / "churn" / "data" / "wa_churn.csv"


@pytest.fixture(scope="module")
def churn() -> tuple[pd.DataFrame, pd.Series]:
    data = pd.read_csv(CHURN_CSV).sample(n=500, random_state=11)
    return data, (data.pop("churn") == "Yes").astype(int)


def exportable() -> Preprocessor:
    return Preprocessor(
        [
            Impute(["total_charges"], strategy="median"),
            Outliers(["monthly_charges"], factor=0.5, action="drop"),
            OneHot(["contract", "payment_method"], max_categories=3),
            Ordinal(
                ["internet_service"], categories={"internet_service": ["No", "DSL", "Fiber optic"]}
            ),
            Ordinal(["senior_citizen"], unknown_value=7),
            OneHot(["partner"]),
            Scale(["tenure", "monthly_charges", "total_charges"], method="robust"),
            OneHot(None),
        ]
    )


def test_preprocessor_matches_sklearn(churn: tuple[pd.DataFrame, pd.Series]) -> None:
    X, _ = churn
    prep = exportable().fit(X)
    onx = to_onnx(prep, X)
    unseen = X.head(6).assign(
        contract=["Weekly", "One year", "Two year", "Month-to-month", "x", "One year"],
        senior_citizen=[0, 1, 5, 0, 1, 0],
        partner=[0, 1, 3, 1, 0, 1],
        monthly_charges=[1000.0, -50.0, np.nan, 20.0, 70.0, 118.0],
        total_charges=[np.nan, 1.0, 2.0, np.nan, 5.0, 6.0],
    )
    for frame in (X, unseen):
        (got,) = run_onnx(onx, frame)
        expected = prep.transform(frame).to_numpy(dtype="float64")
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_pipeline_with_model_matches(churn: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = churn
    model = Pipeline([("prep", exportable()), ("clf", LogisticRegression(max_iter=2000))])
    model.fit(X, y)
    labels, proba = run_onnx(to_onnx(model, X, options={LogisticRegression: {"zipmap": False}}), X)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)


def test_missing_numbers_and_text() -> None:
    frame = pd.DataFrame({"n": [1.0, np.nan, 3.0], "c": ["a", None, "b"]})
    prep = Preprocessor([Ordinal(["n"]), OneHot(["c"])]).fit(frame)
    (got,) = run_onnx(to_onnx(prep, frame), frame)
    np.testing.assert_array_equal(got, [[0, 1, 0], [np.nan, 0, 0], [1, 0, 1]])


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (Derive("r", "total_charges / tenure"), "Derive cannot be exported"),
        (DateParts(["contract"]), "DateParts cannot be exported"),
        (Impute(["contract"], strategy="mode"), "Impute of text column 'contract'"),
        (OneHot(["contract"], handle_unknown="error"), "handle_unknown='error'"),
        (Scale(["tenure"]), r"column\(s\) \['contract'.*still text"),
    ],
)
def test_unsupported_steps_are_named(
    step: object, message: str, churn: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, _ = churn
    X = X[["tenure", "total_charges", "contract"]]
    if isinstance(step, DateParts):
        X = X.assign(contract="2024-01-01")
    prep = Preprocessor([step]).fit(X)  # type: ignore[list-item]
    with pytest.raises(InvalidArgument, match=message):
        to_onnx(prep, X)
