"""Safe loading of scikit-learn packages: skops trust checks and pickle opt-in."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from shipyard.errors import UnsafeModelError
from shipyard.registry.package import load_model, save_model
from shipyard.registry.package.sklearn_flavor import refused_types

Churn = tuple[pd.DataFrame, pd.Series]


class Doubler(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """A custom transformer: not trusted by default, since loading it would run our code."""

    def fit(self, X: Any, y: Any = None) -> Doubler:
        self.fitted_ = True
        return self

    def transform(self, X: Any) -> Any:
        return np.asarray(X) * 2.0


DOUBLER = f"{__name__}.Doubler"


@pytest.fixture(scope="module")
def xy() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    return X, (X[:, 0] > 0).astype(int)


def test_pickle_is_refused_without_opt_in(tmp_path: Path, pipeline: Any, churn: Churn) -> None:
    frame, _ = churn
    info = save_model(pipeline, tmp_path / "m", input_example=frame, serialization="pickle")
    assert info.serialization == "pickle"
    assert info.files == ("model.pkl",)
    assert not any(r.startswith("skops==") for r in info.requirements)
    with pytest.raises(UnsafeModelError, match=r"pickle .*allow_pickle=True"):
        load_model(tmp_path / "m")
    loaded = load_model(tmp_path / "m", allow_pickle=True)
    np.testing.assert_array_equal(loaded.predict(frame), pipeline.predict(frame))


def test_trusting_types_does_not_allow_pickle(tmp_path: Path, xy: Any) -> None:
    """``trusted`` is for skops types; only ``allow_pickle=True`` opens a pickle."""
    X, y = xy
    save_model(LogisticRegression().fit(X, y), tmp_path / "m", serialization="pickle")
    meta = json.loads((tmp_path / "m" / "shipyard-model.json").read_text())
    assert meta["serialization"] == "pickle"
    with pytest.raises(UnsafeModelError):
        load_model(tmp_path / "m", trusted=["anything"])


def test_custom_type_is_refused_until_trusted(tmp_path: Path, xy: Any) -> None:
    X, y = xy
    model = make_pipeline(Doubler(), LogisticRegression()).fit(X, y)
    save_model(model, tmp_path / "m", input_example=X[:5])
    with pytest.raises(UnsafeModelError) as err:
        load_model(tmp_path / "m")
    message = str(err.value)
    assert DOUBLER in message
    assert f"trusted=[{DOUBLER!r}]" in message
    assert "LogisticRegression" not in message  # scikit-learn classes are trusted by default
    loaded = load_model(tmp_path / "m", trusted=[DOUBLER])
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert type(loaded.native.steps[0][1]) is Doubler


def test_functions_are_never_trusted_by_library(tmp_path: Path, xy: Any) -> None:
    X, y = xy
    clip = functools.partial(np.clip, a_min=-1.0, a_max=1.0)
    model = make_pipeline(FunctionTransformer(clip), LogisticRegression()).fit(X, y)
    save_model(model, tmp_path / "m")
    with pytest.raises(UnsafeModelError, match=r"numpy\.clip") as err:
        load_model(tmp_path / "m")
    assert "functools.partial" not in str(err.value)
    loaded = load_model(tmp_path / "m", trusted=["numpy.clip"])
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_refused_types_policy() -> None:
    untrusted = [
        "numpy.dtype",  # a numpy class: trusted
        "sklearn.utils._bunch.Bunch",  # a scikit-learn class: trusted
        "collections.OrderedDict",  # plain standard library: trusted
        "numpy.save",  # a numpy function: refused
        "os.system",
        "builtins.eval",
        "sklearn.no_such_module.Thing",  # does not resolve: refused
        "mypkg.Model",
    ]
    assert refused_types(untrusted, ["mypkg.Model"]) == [
        "numpy.save",
        "os.system",
        "builtins.eval",
        "sklearn.no_such_module.Thing",
    ]
