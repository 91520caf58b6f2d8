"""A Pipeline(Preprocessor, model) saves into a model package and loads with no trust prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from shipyard.data.preprocess import Preprocessor
from shipyard.errors import UnsafeModelError
from shipyard.registry.package import load_model, save_model
from shipyard.registry.package.sklearn_flavor import refused_types

CHURN_CSV = Path(__file__).parents[3] / "examples" / "churn" / "data" / "wa_churn.csv"

DECLARATION = {
    "steps": [
        {"impute": {"columns": ["total_charges"], "strategy": "median"}},
        {"derive": {"name": "charges_per_month", "expression": "total_charges / tenure"}},
        {"impute": {"columns": ["charges_per_month"], "strategy": "constant", "fill_value": 0}},
        {"outliers": {"columns": ["monthly_charges"], "method": "iqr"}},
        {"one_hot": {"columns": None, "handle_unknown": "ignore"}},
        {"scale": {"columns": ["tenure", "monthly_charges", "total_charges"]}},
    ]
}


@pytest.fixture(scope="module")
def churn() -> tuple[pd.DataFrame, pd.Series]:
    data = pd.read_csv(CHURN_CSV).sample(n=600, random_state=3)
    label = (data.pop("churn") == "Yes").astype(int)
    return data, label


@pytest.fixture(scope="module")
def model(churn: tuple[pd.DataFrame, pd.Series]) -> Any:
    X, y = churn
    prep = Preprocessor.from_dict(DECLARATION)
    return Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=2000))]).fit(X, y)


def test_saved_and_loaded_without_trusted(
    tmp_path: Path, model: Any, churn: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, _ = churn
    info = save_model(model, tmp_path / "m", input_example=X)
    assert info.serialization == "skops"
    loaded = load_model(tmp_path / "m")  # no trusted=: the step types are trusted by default
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    prep = loaded.native.named_steps["prep"]
    assert prep.to_dict() == Preprocessor.from_dict(DECLARATION).to_dict()


def test_online_rows_match_the_batch(
    tmp_path: Path, model: Any, churn: tuple[pd.DataFrame, pd.Series]
) -> None:
    """What a model server does: one record per request, through the loaded package.

    The preprocessed features are identical bit for bit; the model's own matrix product may
    round differently for one row than for many (BLAS), hence the 1e-12 on probabilities.
    """
    X, _ = churn
    save_model(model, tmp_path / "m", input_example=X)
    loaded = load_model(tmp_path / "m")
    prep = loaded.native.named_steps["prep"]
    batch_features = prep.transform(loaded.prepare(X))
    records = X.head(40).to_dict("records")
    single_features = pd.concat(
        [prep.transform(loaded.prepare([record])) for record in records], ignore_index=True
    )
    pd.testing.assert_frame_equal(
        single_features, batch_features.head(40).reset_index(drop=True), check_exact=True
    )
    single = np.vstack([loaded.predict_proba([record]) for record in records])
    np.testing.assert_allclose(single, loaded.predict_proba(X)[:40], rtol=1e-12, atol=0)
    labels = np.concatenate([loaded.predict([record]) for record in records])
    np.testing.assert_array_equal(labels, loaded.predict(X)[:40])


def test_only_classes_defined_in_the_package_are_trusted() -> None:
    trusted = [
        "shipyard.data.preprocess.pipeline.Preprocessor",
        "shipyard.data.preprocess.numeric.Impute",
        "shipyard.data.preprocess.derive.Derive",
    ]
    not_trusted = [
        "shipyard.data.preprocess.pipeline.Path",  # imported there, defined elsewhere
        "shipyard.data.preprocess._expr.parse_expression",  # a function
        "shipyard.data.preprocess.numeric.np",  # a module
        "shipyard.data.preprocess.nothing.Here",
        "shipyard.registry.package.model.LoadedModel",
    ]
    assert refused_types(trusted + not_trusted, []) == not_trusted


def test_a_foreign_type_in_the_pipeline_is_still_refused(
    tmp_path: Path, churn: tuple[pd.DataFrame, pd.Series]
) -> None:
    from sklearn.preprocessing import FunctionTransformer

    X, y = churn
    prep = Preprocessor.from_dict({"steps": DECLARATION["steps"][:2]})
    pipe = Pipeline(
        [
            ("prep", prep),
            ("fn", FunctionTransformer(np.nan_to_num)),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    ).fit(X[["tenure", "total_charges", "monthly_charges"]], y)
    save_model(pipe, tmp_path / "m")
    with pytest.raises(UnsafeModelError, match=r"numpy\.nan_to_num") as err:
        load_model(tmp_path / "m")
    assert "shipyard.data.preprocess" not in str(err.value)
