"""``shipyard export --format onnx``: onnxruntime reproduces scikit-learn, or the export fails."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
import typer
from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier
from typer.testing import CliRunner

import shipyard
from shipyard.cli.deploy_files import register
from shipyard.data.preprocess import Derive, Impute, OneHot, Preprocessor, Scale
from shipyard.errors import InvalidArgument, NotFound, ShipyardError, error_class
from shipyard.registry.package import ColumnSpec, Signature
from shipyard.serving.export import ParityError, ParityReport, export_onnx

CHURN_CSV = Path(__file__).parents[2] / "examples" / "churn" / "data" / "wa_churn.csv"


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return X, y


@pytest.fixture(scope="module")
def churn_data() -> tuple[pd.DataFrame, pd.Series]:
    data = pd.read_csv(CHURN_CSV).sample(n=400, random_state=5)
    return data, (data.pop("churn") == "Yes").astype(int)


def cli(*args: str) -> Any:
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def test_plain_classifier_round_trips(iris: tuple[pd.DataFrame, pd.Series], tmp_path: Path) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=1000).fit(X, y)
    shipyard.register_model("iris", model=model, input_example=X.head(20), alias="champion")
    result = export_onnx("iris@champion", tmp_path / "iris.onnx")
    assert result.parity is not None and result.parity.passed and result.parity.rows == 5
    assert result.parity.label_agreement == 1.0 and result.parity.max_abs_diff < 1e-9
    assert (result.model, result.version, result.precision) == ("iris", 1, "double")
    assert result.inputs == ({"name": "input", "type": "double", "shape": [None, 4]},)
    # the file on disk is the model: run it on rows the check never saw
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    labels, proba = session.run(None, {"input": X.to_numpy("float64")})
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-9)
    props = {p.key: p.value for p in onnx.load(str(result.path)).metadata_props}
    assert props["shipyard.model"] == "iris" and props["shipyard.version"] == "1"
    report = json.loads((tmp_path / "iris.parity.json").read_text())
    assert result.report_path == tmp_path / "iris.parity.json"
    assert report["parity"]["passed"] is True and report["sha256"] == result.sha256
    assert report["check_data"] == "input_example" and report["outputs"] == [
        "label",
        "probabilities",
    ]


def test_preprocessor_pipeline_with_check_data(
    churn_data: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    X, y = churn_data
    prep = Preprocessor(
        [
            Impute(["total_charges"], strategy="median"),
            OneHot(None),
            Scale(["tenure", "monthly_charges", "total_charges"]),
        ]
    )
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=2000))]).fit(X, y)
    shipyard.register_model("churn", model=model, input_example=X)
    check = tmp_path / "holdout.csv"
    X.assign(churn="ignored").to_csv(check, index=False)  # extra columns are dropped
    result = export_onnx("churn", tmp_path / "out" / "churn.onnx", check_data=check)
    assert result.parity is not None and result.parity.rows == len(X) and result.parity.passed
    inputs = {i["name"]: i["type"] for i in result.inputs}
    assert inputs["contract"] == "string" and inputs["tenure"] == "int64"
    assert inputs["monthly_charges"] == "double"
    report = json.loads((tmp_path / "out" / "churn.parity.json").read_text())
    assert report["check_data"] == str(check) and report["parity"]["rows"] == len(X)


def test_trees_use_float_inputs(iris: tuple[pd.DataFrame, pd.Series], tmp_path: Path) -> None:
    X, y = iris
    forest = RandomForestClassifier(n_estimators=15, random_state=0).fit(X, y)
    shipyard.register_model("forest", model=forest, input_example=X.sample(30, random_state=1))
    X.to_parquet(tmp_path / "all.parquet")
    result = export_onnx("forest", tmp_path / "f.onnx", check_data=tmp_path / "all.parquet")
    assert result.precision == "float" and result.inputs[0]["type"] == "float"
    assert result.parity is not None and result.parity.passed and result.parity.rows == 150


def test_regressor_tolerance_is_relative_for_large_values(
    iris: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    X, y = iris
    model = GradientBoostingRegressor(n_estimators=30, random_state=0).fit(X, y * 10_000.0)
    shipyard.register_model("price", model=model, input_example=X.sample(50, random_state=2))
    result = export_onnx("price", tmp_path / "price.onnx")
    parity = result.parity
    assert parity is not None and parity.label_agreement is None
    assert parity.max_rel_diff is not None and parity.max_rel_diff <= 1e-4 and parity.passed
    assert parity.max_abs_diff >= parity.max_rel_diff  # float32 outputs of values ~10⁴


def test_parity_failure_writes_the_report_but_not_the_model(
    iris: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    X, y = iris
    model = GradientBoostingRegressor(n_estimators=30, random_state=0).fit(X, y * 10_000.0)
    shipyard.register_model("price", model=model, input_example=X.sample(50, random_state=2))
    with pytest.raises(ParityError, match=r"parity check failed for price/1 .* tolerance 1e-12"):
        export_onnx("price", tmp_path / "price.onnx", tolerance=1e-12)
    assert not (tmp_path / "price.onnx").exists()
    report = json.loads((tmp_path / "price.parity.json").read_text())
    assert report["parity"]["passed"] is False and report["sha256"] is None
    assert error_class("PARITY_FAILED") is ParityError
    result = cli("export", "price", "--out", str(tmp_path / "p2.onnx"), "--tolerance", "1e-12")
    assert result.exit_code == 1 and "failed" in result.output and "--no-check" in result.output
    assert not (tmp_path / "p2.onnx").exists()
    unchecked = export_onnx("price", tmp_path / "p3.onnx", tolerance=1e-12, check=False)
    assert unchecked.parity is None and unchecked.path.is_file()
    assert not (tmp_path / "p3.parity.json").exists()


def test_parity_report_rules() -> None:
    assert ParityReport(10, 1e-4, 5e-5, label_agreement=1.0).passed
    assert not ParityReport(10, 1e-4, 5e-5, label_agreement=0.9).passed
    assert not ParityReport(10, 1e-4, 2e-4, label_agreement=1.0).passed
    assert ParityReport(10, 1e-4, 0.5, max_rel_diff=5e-5).passed
    assert ParityReport(10, 1e-4, 0.5, max_rel_diff=5e-5).to_dict()["passed"] is True


# --------------------------------------------------------------------------- refusals


PY_MODEL = textwrap.dedent(
    """
    from shipyard.registry.package import PythonModel

    class Doubler(PythonModel):
        def predict(self, data):
            return data["x"].to_numpy() * 2
    """
)


def test_non_sklearn_model_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "doubler_mod.py"
    src.write_text(PY_MODEL)
    spec = importlib.util.spec_from_file_location("doubler_mod", src)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["doubler_mod"] = module
    try:
        spec.loader.exec_module(module)
        frame = pd.DataFrame({"x": [1.0, 2.0]})
        shipyard.register_model("custom", model=module.Doubler(), input_example=frame)
    finally:
        del sys.modules["doubler_mod"]
    with pytest.raises(InvalidArgument, match="python-flavor model; ONNX export supports scikit"):
        export_onnx("custom", tmp_path / "c.onnx")
    assert not (tmp_path / "c.onnx").exists()


def test_unsupported_step_and_estimator_are_named(
    churn_data: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    X, y = churn_data
    prep = Preprocessor([Derive("yearly", "monthly_charges * 12"), OneHot(None)])
    pipe = Pipeline([("prep", prep), ("clf", DecisionTreeClassifier(max_depth=2))])
    numeric = X[["tenure", "monthly_charges"]].astype("float64")
    shipyard.register_model("derived", model=pipe.fit(X.fillna(0), y), input_example=X.fillna(0))
    with pytest.raises(InvalidArgument, match="Derive cannot be exported"):
        export_onnx("derived", tmp_path / "d.onnx")
    ridge = KernelRidge().fit(numeric, y)
    shipyard.register_model("ridge", model=ridge, input_example=numeric)
    with pytest.raises(InvalidArgument, match="skl2onnx cannot convert KernelRidge"):
        export_onnx("ridge", tmp_path / "r.onnx")
    assert not list(tmp_path.glob("*.onnx")) and not list(tmp_path.glob("*.json"))


def test_unknown_model_and_bad_check_data(
    iris: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        export_onnx("ghost@champion", tmp_path / "g.onnx")
    X, y = iris
    shipyard.register_model(
        "iris", model=LogisticRegression(max_iter=1000).fit(X, y), input_example=X
    )
    X.drop(columns="petal_width").to_csv(tmp_path / "partial.csv", index=False)
    with pytest.raises(InvalidArgument, match=r"missing column\(s\) \['petal_width'\]"):
        export_onnx("iris", tmp_path / "i.onnx", check_data=tmp_path / "partial.csv")
    (tmp_path / "rows.xlsx").write_text("")
    with pytest.raises(InvalidArgument, match=r"unknown file type '\.xlsx'"):
        export_onnx("iris", tmp_path / "i.onnx", check_data=tmp_path / "rows.xlsx")
    with pytest.raises(InvalidArgument, match="does not exist"):
        export_onnx("iris", tmp_path / "i.onnx", check_data=tmp_path / "nope.csv")
    with pytest.raises(InvalidArgument, match="tolerance"):
        export_onnx("iris", tmp_path / "i.onnx", tolerance=float("nan"))
    assert not (tmp_path / "i.onnx").exists()


def test_without_an_example(iris: tuple[pd.DataFrame, pd.Series], tmp_path: Path) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=1000).fit(X, y)
    shipyard.register_model("bare", model=model)  # no example, so no signature either
    with pytest.raises(InvalidArgument, match="--check-data FILE"):
        export_onnx("bare", tmp_path / "b.onnx")
    with pytest.raises(InvalidArgument, match="--check-data FILE"):
        export_onnx("bare", tmp_path / "b.onnx", check=False)
    X.to_json(tmp_path / "rows.jsonl", orient="records", lines=True)
    checked = export_onnx("bare", tmp_path / "b.onnx", check_data=tmp_path / "rows.jsonl")
    assert checked.parity is not None and checked.parity.rows == 150
    signature = Signature(inputs=tuple(ColumnSpec(c, "float64") for c in X.columns))
    with shipyard.start_run():
        mv = shipyard.log_model(model, signature=signature, registered_model_name="signed")
    assert mv is not None
    unchecked = export_onnx("signed", tmp_path / "s.onnx", check=False)  # types from signature
    assert unchecked.parity is None and unchecked.inputs[0]["shape"] == [None, 4]


def test_export_command(iris: tuple[pd.DataFrame, pd.Series], tmp_path: Path) -> None:
    X, y = iris
    shipyard.register_model(
        "iris", model=LogisticRegression(max_iter=1000).fit(X, y), input_example=X
    )
    out = tmp_path / "m.onnx"
    result = cli("export", "iris", "--format", "onnx", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "passed" in result.output and "label agreement" in result.output and out.is_file()
    wrong = cli("export", "iris", "--format", "tflite", "--out", str(out))
    assert wrong.exit_code == 2 and "tflite" in wrong.output
    ghost = cli("export", "ghost", "--out", str(out))
    assert ghost.exit_code == 1 and "ghost" in ghost.output
    assert issubclass(ParityError, ShipyardError)


def test_text_columns_need_an_encoding_step(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": ["x", "y", "x", "y"]})
    model = LogisticRegression().fit(frame[["a"]].to_numpy(), [0, 0, 1, 1])
    signature = Signature(inputs=(ColumnSpec("a", "float64"), ColumnSpec("b", "string")))
    with shipyard.start_run():
        shipyard.log_model(model, signature=signature, registered_model_name="texty")
    frame.to_csv(tmp_path / "rows.csv", index=False)
    with pytest.raises(InvalidArgument, match=r"column\(s\) \['b'\] are not numeric"):
        export_onnx("texty", tmp_path / "t.onnx", check_data=tmp_path / "rows.csv")
