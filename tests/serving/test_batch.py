"""Batch prediction end to end: registered models, real CSV and Parquet files, errors."""

from __future__ import annotations

import gzip
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import shipyard
from shipyard.errors import InvalidArgument, NotFound
from shipyard.registry.package import load_model as load_package
from shipyard.serving.batch import _argmax_labels, _classes, _exact_types, predict_batch
from shipyard.tracking import fluent

ROWS = 1_003  # no chunk size used below divides it
FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
CLASSES = ["setosa", "versicolor", "virginica"]
OUTPUTS = ["prediction", *(f"proba_{c}" for c in CLASSES), "model_version", "prediction_id"]


def _clean_env(mp: pytest.MonkeyPatch, home: Path) -> None:
    for key in list(os.environ):
        if key.startswith("SHIPYARD_") and not key.startswith("SHIPYARD_TEST_"):
            mp.delenv(key)
    mp.setenv("SHIPYARD_HOME", str(home))
    fluent._state.reset()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for the module: an iris classifier (LR and a tree) and a regressor."""
    home = tmp_path_factory.mktemp("batch-store")
    X, y = load_iris(return_X_y=True, as_frame=True)
    labels = np.asarray(CLASSES)[y]
    with pytest.MonkeyPatch.context() as mp:
        _clean_env(mp, home)
        lr = LogisticRegression(max_iter=1_000).fit(X, labels)
        shipyard.register_model("iris", model=lr, input_example=X.head(), alias="champion")
        tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, labels)
        shipyard.register_model("iris-tree", model=tree, input_example=X.head())
        reg = LinearRegression().fit(X[FEATURES[:3]], X[FEATURES[3]])
        shipyard.register_model("petal", model=reg, input_example=X[FEATURES[:3]].head())
        fluent._state.reset()
    return home


@pytest.fixture
def models(store: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    _clean_env(monkeypatch, store)
    yield store
    fluent._state.reset()


@pytest.fixture
def frame() -> pd.DataFrame:
    X, _ = load_iris(return_X_y=True, as_frame=True)
    rng = np.random.default_rng(0)
    data = X.iloc[rng.integers(0, len(X), ROWS)].reset_index(drop=True)
    data = data * (1 + rng.normal(0, 0.02, data.shape))
    data.insert(0, "id", [f"r{i:05d}" for i in range(ROWS)])
    data["note"] = "x"
    return pd.DataFrame(data)


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=300)
    return path


def native(ref: str) -> Any:
    return shipyard.load_model(ref).native


# --------------------------------------------------------------------------- results


def test_parquet_to_parquet_keeps_keys_in_order_and_matches_the_model(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    src = write_parquet(frame, tmp_path / "in.parquet")
    result = predict_batch("iris@champion", src, tmp_path / "out.parquet", key="id", chunk_rows=97)
    assert (result.model, result.version, result.rows) == ("iris", 1, ROWS)
    assert result.chunks == math.ceil(ROWS / 97)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column_names == ["id", *OUTPUTS] == list(result.columns)
    assert out.column("id").to_pylist() == frame["id"].tolist()
    model = native("iris/1")
    assert out.column("prediction").to_pylist() == model.predict(frame[FEATURES]).tolist()
    proba = np.column_stack([out.column(f"proba_{c}").to_numpy() for c in CLASSES])
    np.testing.assert_allclose(proba, model.predict_proba(frame[FEATURES]))
    assert set(out.column("model_version").to_pylist()) == {1}
    ids = out.column("prediction_id").to_pylist()
    assert len(set(ids)) == ROWS and {len(i) for i in ids} == {28}


def test_csv_without_key_keeps_every_input_column(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    frame.to_csv(tmp_path / "in.csv", index=False)
    predict_batch("iris", tmp_path / "in.csv", tmp_path / "out.csv", chunk_rows=250)
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == [*frame.columns, *OUTPUTS]
    assert out["id"].tolist() == frame["id"].tolist() and set(out["note"]) == {"x"}
    model = native("iris/1")
    assert out["prediction"].tolist() == model.predict(frame[FEATURES]).tolist()


def test_csv_keys_come_back_exactly_as_written(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    """Keys are identifiers, not numbers: "0007" and "1e3" are not turned into 7 and 1000."""
    keyed = frame.assign(id=[f"{i:04d}" for i in range(ROWS)])
    keyed.loc[ROWS - 1, "id"] = "1e3"
    keyed.to_csv(tmp_path / "in.csv", index=False)
    predict_batch("iris", tmp_path / "in.csv", tmp_path / "out.parquet", key="id", chunk_rows=50)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.field("id").type == pa.string()
    assert out.column("id").to_pylist() == keyed["id"].tolist()


def test_compressed_csv_to_parquet_and_parquet_to_csv(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    with gzip.open(tmp_path / "in.csv.gz", "wt") as fh:
        frame.to_csv(fh, index=False)
    predict_batch("iris@champion", tmp_path / "in.csv.gz", tmp_path / "a.parquet", key="id")
    write_parquet(frame, tmp_path / "in.parquet")
    predict_batch("iris@champion", tmp_path / "in.parquet", tmp_path / "b.csv", key=["id"])
    a = pq.read_table(tmp_path / "a.parquet").to_pandas()
    b = pd.read_csv(tmp_path / "b.csv")
    assert a["id"].tolist() == b["id"].tolist() == frame["id"].tolist()
    assert a["prediction"].tolist() == b["prediction"].tolist()
    np.testing.assert_allclose(a["proba_setosa"], b["proba_setosa"])


def test_parallel_output_equals_serial_output(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    src = write_parquet(frame, tmp_path / "in.parquet")
    predict_batch("iris", src, tmp_path / "one.parquet", key="id", chunk_rows=40, workers=1)
    predict_batch("iris", src, tmp_path / "four.parquet", key="id", chunk_rows=40, workers=4)
    one, four = (pq.read_table(tmp_path / f"{n}.parquet") for n in ("one", "four"))
    assert one.drop_columns(["prediction_id"]).equals(four.drop_columns(["prediction_id"]))
    ids = one.column("prediction_id").to_pylist() + four.column("prediction_id").to_pylist()
    assert len(set(ids)) == 2 * ROWS


def test_a_classifier_outside_the_argmax_list_calls_predict(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    src = write_parquet(frame, tmp_path / "in.parquet")
    predict_batch("iris-tree", src, tmp_path / "out.parquet", key="id", chunk_rows=100)
    out = pq.read_table(tmp_path / "out.parquet")
    tree = native("iris-tree/1")
    assert out.column("prediction").to_pylist() == tree.predict(frame[FEATURES]).tolist()
    for path, shortcut in (("iris/1", True), ("iris-tree/1", False)):
        loaded = load_package(shipyard.download_model(path))
        assert (_argmax_labels(loaded, _classes(loaded)) is not None) is shortcut


def test_a_regressor_has_no_probabilities(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    src = write_parquet(frame, tmp_path / "in.parquet")
    result = predict_batch("petal", src, tmp_path / "out.parquet", key="id")
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column_names == ["id", "prediction", "model_version", "prediction_id"]
    want = native("petal/1").predict(frame[FEATURES[:3]])
    np.testing.assert_allclose(out.column("prediction").to_numpy(), want)
    assert result.rows == ROWS


def test_progress_is_reported_after_each_chunk(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    seen: list[tuple[int, int | None]] = []
    src = write_parquet(frame, tmp_path / "in.parquet")
    predict_batch("iris", src, tmp_path / "o.parquet", chunk_rows=300, progress=_append(seen))
    assert seen == [(300, ROWS), (600, ROWS), (900, ROWS), (ROWS, ROWS)]
    seen.clear()
    frame.to_csv(tmp_path / "in.csv", index=False)
    predict_batch("iris", tmp_path / "in.csv", tmp_path / "o.csv", progress=_append(seen))
    assert seen == [(ROWS, None)]


@pytest.mark.timeout(60)
def test_a_progress_callback_that_raises_stops_the_run_instead_of_hanging(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    def broken(done: int, total: int | None) -> None:
        raise RuntimeError("the progress bar broke")

    src = write_parquet(frame, tmp_path / "in.parquet")
    out = tmp_path / "out" / "o.parquet"
    with pytest.raises(RuntimeError, match="progress bar broke"):
        predict_batch("iris", src, out, chunk_rows=50, workers=2, progress=broken)
    assert list((tmp_path / "out").iterdir()) == []  # no partial output


def _append(seen: list[tuple[int, int | None]]) -> Callable[[int, int | None], None]:
    return lambda done, total: seen.append((done, total))


def test_fsspec_urls_in_and_out(models: Path, frame: pd.DataFrame) -> None:
    fs = fsspec.filesystem("memory")
    with fs.open("/batch/in.parquet", "wb") as fh:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), fh)
    with fs.open("/batch/in.csv.gz", "wb") as raw, gzip.open(raw, "wt") as fh:
        frame.to_csv(fh, index=False)
    try:
        predict_batch("iris", "memory://batch/in.parquet", "memory://batch/out.parquet", key="id")
        predict_batch("iris", "memory://batch/in.csv.gz", "memory://batch/out.csv", key="id")
        with fs.open("/batch/out.parquet", "rb") as fh:
            out = pq.read_table(fh)
        with fs.open("/batch/out.csv", "rb") as fh:
            csv_out = pd.read_csv(fh)
        assert out.column("id").to_pylist() == csv_out["id"].tolist() == frame["id"].tolist()
        assert sorted(fs.ls("/batch", detail=False)) == [
            f"/batch/{n}" for n in ("in.csv.gz", "in.parquet", "out.csv", "out.parquet")
        ]
    finally:
        fs.rm("/batch", recursive=True)


def test_an_empty_input_gives_an_empty_output(models: Path, tmp_path: Path) -> None:
    empty = pd.DataFrame({"id": pd.Series([], dtype=str), **{f: [] for f in FEATURES}})
    src = write_parquet(empty, tmp_path / "in.parquet")
    result = predict_batch("iris", src, tmp_path / "out.parquet", key="id")
    out = pq.read_table(tmp_path / "out.parquet")
    assert result.rows == 0 and out.num_rows == 0
    assert out.column_names == ["id", *OUTPUTS]


# --------------------------------------------------------------------------- errors


def test_missing_input_and_unknown_formats(models: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no input file"):
        predict_batch("iris", tmp_path / "nope.parquet", tmp_path / "out.parquet")
    (tmp_path / "in.json").write_text("{}")
    with pytest.raises(InvalidArgument, match="format of input"):
        predict_batch("iris", tmp_path / "in.json", tmp_path / "out.parquet")
    with pytest.raises(InvalidArgument, match="format of output"):
        predict_batch("iris", tmp_path / "in.json", tmp_path / "out.xlsx", input_format="csv")
    with pytest.raises(InvalidArgument, match="unknown input format 'json'"):
        predict_batch("iris", tmp_path / "in.json", tmp_path / "out.csv", input_format="json")
    with pytest.raises(InvalidArgument, match="compressed inside"):
        predict_batch("iris", tmp_path / "in.json", tmp_path / "out.parquet.gz", input_format="csv")


def test_a_column_the_model_needs_is_named(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    src = write_parquet(frame.drop(columns=["petal width (cm)"]), tmp_path / "in.parquet")
    with pytest.raises(InvalidArgument, match=r"model iris/1 needs \['petal width \(cm\)'\]"):
        predict_batch("iris", src, tmp_path / "out.parquet")
    with pytest.raises(InvalidArgument, match=r"no key column\(s\) \['customer'\]"):
        predict_batch("petal", src, tmp_path / "out.parquet", key=["id", "customer"])
    assert not (tmp_path / "out.parquet").exists()


def test_unknown_models_are_not_found(models: Path, frame: pd.DataFrame, tmp_path: Path) -> None:
    src = write_parquet(frame, tmp_path / "in.parquet")
    with pytest.raises(NotFound, match="churn"):
        predict_batch("churn@champion", src, tmp_path / "out.parquet")
    with pytest.raises(NotFound):
        predict_batch("iris@nope", src, tmp_path / "out.parquet")
    with pytest.raises(NotFound):
        predict_batch("iris/7", src, tmp_path / "out.parquet")


def test_bad_options_are_refused(models: Path, frame: pd.DataFrame, tmp_path: Path) -> None:
    src = write_parquet(frame, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    with pytest.raises(InvalidArgument, match="chunk_rows"):
        predict_batch("iris", src, out, chunk_rows=0)
    with pytest.raises(InvalidArgument, match="workers"):
        predict_batch("iris", src, out, workers=0)
    with pytest.raises(InvalidArgument, match="distinct columns"):
        predict_batch("iris", src, out, key=["id", "id"])
    with pytest.raises(InvalidArgument, match="is the input file"):
        predict_batch("iris", src, src)
    clash = write_parquet(frame.assign(prediction=1), tmp_path / "clash.parquet")
    with pytest.raises(InvalidArgument, match=r"\['prediction'\] would clash"):
        predict_batch("iris", clash, out)
    predict_batch("iris", clash, out, key="id")  # choosing the columns to keep resolves it
    assert pq.read_table(out).num_rows == ROWS


def test_a_failed_run_leaves_no_partial_output(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    bad = frame.astype({"sepal length (cm)": str})
    bad.loc[900, "sepal length (cm)"] = "abc"
    src = write_parquet(bad, tmp_path / "in.parquet")
    out = tmp_path / "out" / "scores.parquet"
    with pytest.raises(InvalidArgument, match=r"'sepal length \(cm\)'.*'abc' at row 900"):
        predict_batch("iris", src, out, key="id", chunk_rows=50, workers=2)
    assert list((tmp_path / "out").iterdir()) == []  # no output, no temporary file
    good = write_parquet(frame, tmp_path / "good.parquet")
    predict_batch("iris", good, out, key="id")
    before = out.read_bytes()
    with pytest.raises(InvalidArgument):
        predict_batch("iris", src, out, key="id", chunk_rows=50)
    assert out.read_bytes() == before  # the previous output is intact
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["scores.parquet"]


def test_numbers_as_text_are_converted_like_the_signature_says(
    models: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    src = write_parquet(frame.astype({"sepal length (cm)": str}), tmp_path / "in.parquet")
    predict_batch("iris", src, tmp_path / "out.parquet", key="id", chunk_rows=500)
    out = pq.read_table(tmp_path / "out.parquet")
    assert (
        out.column("prediction").to_pylist() == native("iris/1").predict(frame[FEATURES]).tolist()
    )


def test_validation_is_skipped_only_where_it_would_change_nothing(
    models: Path, frame: pd.DataFrame
) -> None:
    loaded = load_package(shipyard.download_model("iris/1"))
    assert _exact_types(loaded) == dict.fromkeys(FEATURES, pa.float64())
    with_nan = frame[FEATURES].copy()
    with_nan.iloc[3, 1] = np.nan
    as_read = pa.Table.from_pandas(with_nan, preserve_index=False).to_pandas()
    pd.testing.assert_frame_equal(loaded.prepare(as_read), as_read)  # the premise of the skip
    regressor = load_package(shipyard.download_model("petal/1"))
    assert _exact_types(regressor) == dict.fromkeys(FEATURES[:3], pa.float64())
