"""The registry SDK end to end: log, register, alias, load — and refusing what is not safe."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import shipyard
from shipyard.errors import IntegrityError, InvalidArgument, NotFound, UnsafeModelError


@pytest.fixture
def iris_model() -> tuple[LogisticRegression, object]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return LogisticRegression(max_iter=500).fit(X, y), X


def test_register_from_memory_keeps_lineage(iris_model: tuple) -> None:
    model, X = iris_model
    mv = shipyard.register_model(
        "iris",
        model=model,
        input_example=X.head(),
        description="first",
        tags={"team": "a"},
        alias="champion",
    )
    assert (mv.version, mv.aliases, mv.description) == (1, ("champion",), "first")
    run = shipyard.get_run(mv.run_id or "")
    assert run.name == "register-iris" and run.tags["shipyard.python.version"]
    loaded = shipyard.load_model("models:/iris@champion")
    assert (loaded.predict(X.head(10)) == model.predict(X.head(10))).all()
    assert shipyard.load_model("iris/1").signature is not None
    assert shipyard.load_model("iris").predict_proba(X.head(3)).shape == (3, 3)


def test_update_descriptions_and_tags(iris_model: tuple) -> None:
    model, X = iris_model
    shipyard.register_model("iris", model=model, input_example=X.head())
    shipyard.update_registered_model("iris", description="flowers", tags={"owner": "ml"})
    got = shipyard.get_registered_model("iris")
    assert got.description == "flowers" and got.tags == {"owner": "ml"}
    shipyard.update_model_version("iris", 1, description="baseline", tags={"stage": "prod"})
    mv = shipyard.get_model_version("iris/1")
    assert mv.description == "baseline" and mv.tags == {"stage": "prod"}


def test_unknown_models_are_clear_errors(iris_model: tuple) -> None:
    model, X = iris_model
    shipyard.register_model("iris", model=model, input_example=X.head())
    with pytest.raises(NotFound, match="iris"):
        shipyard.load_model("models:/iris@nope")
    with pytest.raises(NotFound, match="version"):
        shipyard.load_model("models:/iris/9")
    with pytest.raises(NotFound):
        shipyard.load_model("models:/irsi@champion")
    with pytest.raises(InvalidArgument):
        shipyard.load_model("models:/bad name")
    with shipyard.start_run() as run:
        pass
    with pytest.raises(InvalidArgument, match="log_model"):
        shipyard.register_model("iris", run_id=run.run_id)


def test_corrupted_blob_is_refused(iris_model: tuple) -> None:
    model, X = iris_model
    mv = shipyard.register_model("iris", model=model, input_example=X.head())
    from shipyard.artifacts.owners import model_owner
    from shipyard.tracking.fluent import services

    (info,) = [
        i
        for i in services().artifacts.list(model_owner("iris", mv.version))
        if i.path == "model.skops"
    ]
    settings = services().settings
    root = Path(settings.artifact_uri.removeprefix("file://"))
    blob = root / "sha256" / (info.sha256 or "")[:2] / (info.sha256 or "")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        shipyard.load_model("models:/iris/1")


def test_tampered_cached_package_is_refused(iris_model: tuple) -> None:
    model, X = iris_model
    shipyard.register_model("iris", model=model, input_example=X.head())
    folder = shipyard.download_model("iris/1")
    shipyard.load_model("iris/1")  # from the cache, verified
    (folder / "model.skops").write_bytes(b"not a model")
    with pytest.raises(IntegrityError, match=r"model\.skops"):
        shipyard.load_model("iris/1")


def test_pickle_needs_opt_in(iris_model: tuple) -> None:
    model, X = iris_model
    with shipyard.start_run() as run:
        shipyard.log_model(model, "model", input_example=X.head(), serialization="pickle")
    shipyard.register_model("pickled", run_id=run.run_id)
    with pytest.raises(UnsafeModelError, match="allow_pickle"):
        shipyard.load_model("pickled/1")
    assert shipyard.load_model("pickled/1", allow_pickle=True).predict(X.head(2)).shape == (2,)
