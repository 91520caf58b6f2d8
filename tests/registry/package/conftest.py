"""Small real models and data for the model-package tests (each fits in milliseconds)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def churn() -> tuple[pd.DataFrame, pd.Series]:
    """A small table with integer, float and categorical columns, and a binary label."""
    rng = np.random.default_rng(7)
    n = 120
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50.0, 12.0, n).round(2),
            "plan": rng.choice(["basic", "pro", "team"], n),
        }
    )
    label = pd.Series(((frame["age"] > 45) ^ (frame["plan"] == "team")).astype(int), name="churn")
    return frame, label


@pytest.fixture(scope="module")
def pipeline(churn: tuple[pd.DataFrame, pd.Series]) -> Any:
    """ColumnTransformer(OneHotEncoder + StandardScaler) + LogisticRegression, fitted."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = ColumnTransformer(
        [
            ("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
            ("num", StandardScaler(), ["age", "income"]),
        ]
    )
    model = Pipeline([("features", features), ("clf", LogisticRegression())])
    frame, label = churn
    return model.fit(frame, label)
