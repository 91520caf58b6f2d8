"""The model runner: scikit-learn models fit on a DataFrame are called on one 2-D array when
the columns are numeric and in the signature's order, with the very same results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import shipyard
from shipyard.serving.models import Job, ModelRunner, positional_model
from shipyard.serving.requests import InputValidator, parse_json


def _data() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[:, :8], y


def _runner(name: str, model: Any, X: pd.DataFrame) -> tuple[ModelRunner, InputValidator]:
    mv = shipyard.register_model(name, model=model, input_example=X.head())
    loaded = shipyard.load_model(f"{name}/{mv.version}")
    return ModelRunner(name, mv.version, loaded), InputValidator(loaded.signature)


@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(max_iter=5000),
        make_pipeline(StandardScaler(), LogisticRegression()),
        RandomForestClassifier(n_estimators=5, random_state=0),
    ],
    ids=["plain", "pipeline", "forest"],
)
def test_a_dataframe_model_answers_the_same_from_one_array_without_warnings(model: Any) -> None:
    X, y = _data()
    model.fit(X, y)
    runner, check = _runner("bc", model, X)
    assert runner._positional is not None  # the short way is taken
    rows = X.iloc[100:140]
    jobs = [Job(check.validate(parse_json([r]))) for r in rows.to_dict(orient="records")]
    outputs = runner(jobs)  # filterwarnings=error: a feature-name warning would fail here
    proba = np.vstack([o.proba for o in outputs if not isinstance(o, BaseException)])
    np.testing.assert_array_equal(proba, model.predict_proba(rows))
    predictions = [p for o in outputs if not isinstance(o, BaseException) for p in o.predictions]
    assert predictions == model.predict(rows).tolist()
    first = model[0] if isinstance(model, Pipeline) else model
    assert list(first.feature_names_in_) == list(X.columns)  # the served model is untouched


def test_a_regressor_from_one_array_matches_too() -> None:
    X, y = _data()
    model = LinearRegression().fit(X, y.astype(float))
    runner, check = _runner("reg", model, X)
    rows = X.iloc[:25]
    (out,) = runner([Job(check.validate(parse_json(rows.to_dict(orient="records"))))])
    assert not isinstance(out, BaseException)
    np.testing.assert_array_equal(np.asarray(out.predictions), model.predict(rows))


def test_models_that_read_columns_by_name_keep_the_dataframe() -> None:
    X, y = _data()
    names = list(X.columns)
    picked = ColumnTransformer([("scale", StandardScaler(), names[:4])], remainder="drop")
    by_name = make_pipeline(picked, LogisticRegression()).fit(X, y)
    user_code = make_pipeline(
        FunctionTransformer(lambda d: d), StandardScaler(), LogisticRegression()
    )
    user_code.fit(X, y)
    framed = make_pipeline(StandardScaler(), LogisticRegression()).set_output(transform="pandas")
    framed.fit(X, y)
    plain = LogisticRegression(max_iter=5000).fit(X, y)
    on_arrays = LogisticRegression(max_iter=5000).fit(X.to_numpy(), y)
    assert positional_model(by_name, names) is None
    assert positional_model(user_code, names) is None
    assert positional_model(framed, names) is None  # its steps name their DataFrames
    assert positional_model(on_arrays, names) is None  # no recorded names to check
    assert positional_model(plain, list(reversed(names))) is None  # another order
    copy = positional_model(plain, names)
    assert copy is not None and not hasattr(copy, "feature_names_in_")
    assert list(plain.feature_names_in_) == names  # the loaded model itself is untouched


def test_mixed_dtypes_go_through_the_dataframe() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6], "b": [0.5, 1.5, 0.1, 2.5, 3.0, 0.2]})
    target = [0, 1, 0, 1, 1, 0]
    model = LogisticRegression().fit(frame, target)
    runner, check = _runner("mixed", model, frame)
    (out,) = runner([Job(check.validate(parse_json([{"a": 2, "b": 1.0}])))])
    assert not isinstance(out, BaseException)
    assert out.predictions == model.predict(pd.DataFrame({"a": [2], "b": [1.0]})).tolist()
