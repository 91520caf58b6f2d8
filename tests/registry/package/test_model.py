"""save_model / load_model with real scikit-learn models."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import SVC

import shipyard
from shipyard.errors import AlreadyExists, IntegrityError, InvalidArgument, NotFound
from shipyard.registry.package import (
    ColumnSpec,
    LoadedModel,
    Signature,
    TensorSpec,
    load_model,
    save_model,
)

Churn = tuple[pd.DataFrame, pd.Series]


@pytest.fixture
def saved(tmp_path: Path, pipeline: Any, churn: Churn) -> Path:
    frame, _ = churn
    save_model(pipeline, tmp_path / "model", input_example=frame, metrics={"auc": 0.91})
    return tmp_path / "model"


def test_round_trip_predicts_the_same(saved: Path, pipeline: Any, churn: Churn) -> None:
    frame, _ = churn
    loaded = load_model(saved)
    assert isinstance(loaded, LoadedModel)
    np.testing.assert_array_equal(loaded.predict(frame), pipeline.predict(frame))
    np.testing.assert_allclose(loaded.predict_proba(frame), pipeline.predict_proba(frame))
    assert loaded.capabilities == {"predict", "predict_proba"}
    assert type(loaded.native).__name__ == "Pipeline"
    records = frame.head(3).to_dict("records")
    np.testing.assert_array_equal(loaded.predict(records), pipeline.predict(frame.head(3)))


def test_package_layout_and_metadata(saved: Path, churn: Churn) -> None:
    names = sorted(p.relative_to(saved).as_posix() for p in saved.rglob("*"))
    assert names == [
        "MANIFEST.json",
        "input_example.json",
        "model.skops",
        "requirements.txt",
        "shipyard-model.json",
    ]
    meta = json.loads((saved / "shipyard-model.json").read_text())
    assert meta["format_version"] == 1
    assert meta["flavor"] == "sklearn"
    assert meta["serialization"] == "skops"
    assert meta["files"] == ["model.skops"]
    assert meta["metrics"] == {"auc": 0.91}
    assert meta["shipyard_version"] == shipyard.__version__
    assert meta["python_version"] == platform.python_version()
    assert [c["name"] for c in meta["signature"]["inputs"]["columns"]] == ["age", "income", "plan"]
    assert meta["signature"]["outputs"] == {"type": "tensor", "dtype": "int64", "shape": [-1]}
    reqs = (saved / "requirements.txt").read_text().split()
    assert f"scikit-learn=={metadata.version('scikit-learn')}" in reqs
    assert f"skops=={metadata.version('skops')}" in reqs
    assert f"pandas=={metadata.version('pandas')}" in reqs
    assert {r.split("==")[0] for r in reqs} == {"numpy", "pandas", "scikit-learn", "scipy", "skops"}
    example = json.loads((saved / "input_example.json").read_text())
    assert example == churn[0].head(5).to_dict("records")
    manifest = json.loads((saved / "MANIFEST.json").read_text())
    assert sorted(manifest["files"]) == names[1:]


def test_loaded_metadata_and_signature(saved: Path) -> None:
    loaded = load_model(saved)
    info = loaded.metadata
    assert info.flavor == "sklearn"
    assert info.path == saved
    assert info.metrics == {"auc": 0.91}
    assert any(r.startswith("scikit-learn==") for r in info.requirements)
    assert loaded.signature is not None
    assert loaded.signature.columns == ["age", "income", "plan"]
    plan = loaded.signature.inputs[2]  # type: ignore[index]
    assert plan == ColumnSpec("plan", "string", levels=("basic", "pro", "team"))
    assert loaded.input_example()[0].keys() == {"age", "income", "plan"}


def test_predict_validates_input_first(saved: Path, pipeline: Any) -> None:
    loaded = load_model(saved)
    with pytest.raises(InvalidArgument, match=r"missing column\(s\) \['plan'\]"):
        loaded.predict([{"age": 30, "income": 40.0}])
    with pytest.raises(InvalidArgument, match="'income' expects float64, but value 'abc'"):
        loaded.predict([{"age": 30, "income": "abc", "plan": "pro"}])
    loose = [{"age": 30.0, "income": "40.5", "plan": "enterprise", "note": "ignored"}]
    strict = pd.DataFrame({"age": [30], "income": [40.5], "plan": ["enterprise"]})
    np.testing.assert_array_equal(loaded.predict(loose), pipeline.predict(strict))


def test_tensor_model_round_trip(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    info = save_model(model, tmp_path / "iris", input_example=X[:20])
    assert info.signature == Signature(TensorSpec("float64", (-1, 4)), TensorSpec("int64", (-1,)))
    assert not any(r.startswith("pandas==") for r in info.requirements)
    loaded = load_model(tmp_path / "iris")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict(X[:3].tolist()), model.predict(X[:3]))
    with pytest.raises(InvalidArgument, match=r"shape \(n, 4\), got shape \(150, 3\)"):
        loaded.predict(X[:, :3])
    assert json.loads((tmp_path / "iris" / "input_example.json").read_text()) == X[:5].tolist()


def test_model_without_signature_or_proba(tmp_path: Path) -> None:
    X = np.arange(20, dtype=float).reshape(10, 2)
    model = SVC().fit(X, np.arange(10) % 2)
    info = save_model(model, tmp_path / "svc")
    assert info.signature is None
    loaded = load_model(tmp_path / "svc")
    assert loaded.capabilities == {"predict"}
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict(X.tolist()), model.predict(X))
    with pytest.raises(InvalidArgument, match="SVC has no predict_proba"):
        loaded.predict_proba(X)
    assert loaded.input_example() is None


def test_explicit_signature_wins(tmp_path: Path) -> None:
    model = LinearRegression().fit(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), [1.0, 2.0, 3.0])
    sig = Signature(inputs=(ColumnSpec("x", "float64"),))
    info = save_model(model, tmp_path / "m", signature=sig.to_dict(), input_example={"x": [1.0]})
    assert info.signature == sig
    assert load_model(tmp_path / "m").predict({"x": ["2"]}).round(6).tolist() == [2.0]


def test_tampering_is_detected_before_loading(saved: Path) -> None:
    skops_file = saved / "model.skops"
    original = skops_file.read_bytes()
    skops_file.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(IntegrityError, match=r"'model.skops' does not match"):
        load_model(saved)
    skops_file.write_bytes(original)
    load_model(saved)
    (saved / "payload.py").write_text("print('hi')\n")
    with pytest.raises(IntegrityError, match=r"'payload.py' is not listed"):
        load_model(saved)
    (saved / "payload.py").unlink()
    (saved / "input_example.json").unlink()
    with pytest.raises(IntegrityError, match=r"'input_example.json' is listed .* but missing"):
        load_model(saved)


def test_unfitted_estimator_is_refused(tmp_path: Path, pipeline: Any) -> None:
    with pytest.raises(InvalidArgument, match="Pipeline is not fitted; call fit"):
        save_model(clone(pipeline), tmp_path / "m")
    with pytest.raises(InvalidArgument, match="LogisticRegression is not fitted"):
        save_model(LogisticRegression(), tmp_path / "m", input_example=np.zeros((2, 2)))
    assert not (tmp_path / "m").exists()


def test_refuses_bad_targets_and_options(tmp_path: Path, pipeline: Any, churn: Churn) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(AlreadyExists, match="already exists"):
        save_model(pipeline, tmp_path / "taken")
    with pytest.raises(InvalidArgument, match="serialization must be one of"):
        save_model(pipeline, tmp_path / "m", serialization="joblib")
    with pytest.raises(InvalidArgument, match=r"cannot save a builtins.dict"):
        save_model({"not": "a model"}, tmp_path / "m")
    with pytest.raises(InvalidArgument, match="metric 'auc' must be a finite number"):
        save_model(pipeline, tmp_path / "m", metrics={"auc": float("nan")})
    with pytest.raises(InvalidArgument, match="predict\\(\\) on the input example failed"):
        save_model(pipeline, tmp_path / "m", input_example=pd.DataFrame({"other": [1]}))
    with pytest.raises(InvalidArgument, match="artifacts= is for PythonModel"):
        save_model(pipeline, tmp_path / "m", artifacts={"a": tmp_path})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no half-written folder


def test_empty_target_folder_is_used(tmp_path: Path, pipeline: Any) -> None:
    (tmp_path / "m").mkdir()
    save_model(pipeline, tmp_path / "m", extra_requirements=["pyarrow"])
    assert load_model(tmp_path / "m").metadata.requirements[0].startswith("numpy==")
    assert any(r.startswith("pyarrow==") for r in load_model(tmp_path / "m").metadata.requirements)


def test_load_errors(tmp_path: Path, saved: Path) -> None:
    with pytest.raises(NotFound, match="no model package"):
        load_model(tmp_path / "nothing")
    with pytest.raises(IntegrityError, match=r"has no MANIFEST.json"):
        load_model(tmp_path)
    with pytest.raises(InvalidArgument, match="list of type names"):
        load_model(saved, trusted="mymodule.MyClass")
