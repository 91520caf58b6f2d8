"""Real models and evaluation data for the gate tests: breast-cancer classifiers (a good one, one
trained on shuffled labels) registered in a temporary store, and the evaluation rows as a
dataset version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import shipyard

SUITE = """
name: bc-eval
rules:
  - {type: not_null, name: radius_present, column: mean radius}
  - {type: range, name: radius_positive, column: mean radius, min: 0}
"""

FAILING_SUITE = """
name: bc-strict
rules:
  - {type: range, name: radius_small, column: mean radius, max: 10}
"""


@dataclass(frozen=True)
class GateWorld:
    """``bc/1`` champion (good), ``bc/2`` worse (shuffled labels), ``bc/3`` good again;
    ``bc-eval`` the evaluation rows (label ``target``); suite files."""

    eval_ref: str
    suite: Path
    failing_suite: Path


def make_world(tmp: Path) -> GateWorld:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    rng = np.random.default_rng(7)
    order = rng.permutation(len(X))
    train, test = order[:380], order[380:]
    X_train, y_train = X.iloc[train], y.iloc[train]

    def fit(labels: pd.Series) -> object:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(
            X_train, labels
        )

    shuffled = pd.Series(rng.permutation(y_train.to_numpy()), index=y_train.index)
    shipyard.register_model("bc", model=fit(y_train), input_example=X_train, alias="champion")
    shipyard.register_model("bc", model=fit(shuffled), input_example=X_train)
    shipyard.register_model("bc", model=fit(y_train), input_example=X_train)
    frame = X.iloc[test].assign(target=y.iloc[test].to_numpy())
    version = shipyard.ingest_dataset(
        pa.Table.from_pandas(frame, preserve_index=False), name="bc-eval"
    )
    suite = tmp / "suite.yaml"
    suite.write_text(SUITE)
    failing = tmp / "failing.yaml"
    failing.write_text(FAILING_SUITE)
    return GateWorld(version.version.ref, suite, failing)
