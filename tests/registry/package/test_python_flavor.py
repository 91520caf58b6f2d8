"""PythonModel packages: saved as code + params + artifacts, loaded in a fresh interpreter."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidArgument
from shipyard.registry.package import PythonModel, load_model, save_model

MODEL_SOURCE = textwrap.dedent(
    '''
    """A custom scoring model: a weighted sum read from an artifact, then a cutoff."""
    import json

    import numpy as np

    from shipyard.registry.package import PythonModel


    class WeightedScore(PythonModel):
        def __init__(self, *, cutoff, columns, scale=1.0):
            self.cutoff = cutoff
            self.columns = columns
            self.scale = scale
            self.weights = None

        def load_context(self, artifacts):
            self.weights = json.loads((artifacts / "weights.json").read_text())

        def _score(self, data):
            w = np.array([self.weights[c] for c in self.columns])
            return data[self.columns].to_numpy(dtype=float) @ w * self.scale

        def predict(self, data):
            return (self._score(data) > self.cutoff).astype(int)

        def predict_proba(self, data):
            p = 1.0 / (1.0 + np.exp(-(self._score(data) - self.cutoff)))
            return np.column_stack([1.0 - p, p])
    '''
)

WEIGHTS = {"age": 0.05, "income": 0.02}
FRAME = pd.DataFrame({"age": [20, 40, 60, 80], "income": [10.0, 30.0, 50.0, 70.0]})


def import_source(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def user_model(tmp_path: Path) -> Any:
    """A live WeightedScore built from a module file that is not on sys.path."""
    src = tmp_path / "src" / "scoring_rules.py"
    src.parent.mkdir()
    src.write_text(MODEL_SOURCE)
    module = import_source(src, "scoring_rules")
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps(WEIGHTS))
    model = module.WeightedScore(cutoff=2.5, columns=["age", "income"])
    model.load_context(tmp_path)
    yield model, weights, src
    sys.modules.pop("scoring_rules", None)


def test_params_are_recorded_with_defaults() -> None:
    class Model(PythonModel):
        def __init__(self, alpha: float, *, beta: str = "b", **more: Any) -> None:
            self.alpha = alpha

    assert Model(0.5, gamma=[1, 2]).get_params() == {"alpha": 0.5, "beta": "b", "gamma": [1, 2]}
    with pytest.raises(TypeError):
        Model()  # type: ignore[call-arg]


def test_round_trip_in_a_fresh_interpreter(tmp_path: Path, user_model: Any) -> None:
    model, weights, src = user_model
    info = save_model(
        model,
        tmp_path / "pkg",
        input_example=FRAME,
        artifacts={"weights.json": weights},
        extra_requirements=["numpy"],
        metrics={"accuracy": 1.0},
    )
    assert info.flavor == "python"
    assert info.serialization == "code"
    assert info.files == ("code/scoring_rules.py", "params.json", "artifacts/weights.json")
    assert any(r.startswith("shipyard==") for r in info.requirements)
    params = json.loads((tmp_path / "pkg" / "params.json").read_text())
    assert params == {"cutoff": 2.5, "columns": ["age", "income"], "scale": 1.0}
    assert (tmp_path / "pkg" / "code" / "scoring_rules.py").read_text() == MODEL_SOURCE
    expected = model.predict(FRAME)
    src.unlink()  # the package must carry its own code

    script = textwrap.dedent(
        f"""
        import json, sys
        from shipyard.registry.package import load_model
        assert "scoring_rules" not in sys.modules
        m = load_model({str(tmp_path / "pkg")!r})
        out = m.predict([{{"age": 20, "income": 10}}, {{"age": "80", "income": 70.0}}])
        proba = m.predict_proba({{"age": [60], "income": [50.0]}})
        print(json.dumps({{
            "predict": out.tolist(),
            "proba": proba.round(6).tolist(),
            "params": m.native.get_params(),
            "weights": m.native.weights,
            "module": type(m.native).__module__,
            "capabilities": sorted(m.capabilities),
        }}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert got["predict"] == [int(expected[0]), int(expected[3])]
    assert got["predict"] == [0, 1]
    np.testing.assert_allclose(got["proba"], model.predict_proba(FRAME.iloc[[2]]).round(6))
    assert got["params"] == params
    assert got["weights"] == WEIGHTS
    assert got["module"].startswith("shipyard_model_")
    assert got["capabilities"] == ["predict", "predict_proba"]


def test_loaded_in_process_validates_against_signature(tmp_path: Path, user_model: Any) -> None:
    model, weights, _ = user_model
    save_model(model, tmp_path / "pkg", input_example=FRAME, artifacts={"weights.json": weights})
    loaded = load_model(tmp_path / "pkg")
    np.testing.assert_array_equal(loaded.predict(FRAME), model.predict(FRAME))
    assert type(loaded.native) is not type(model)  # imported afresh from the package
    with pytest.raises(InvalidArgument, match=r"missing column\(s\) \['income'\]"):
        loaded.predict([{"age": 30}])


def test_code_tampering_is_detected(tmp_path: Path, user_model: Any) -> None:
    from shipyard.errors import IntegrityError

    model, weights, _ = user_model
    save_model(model, tmp_path / "pkg", artifacts={"weights.json": weights})
    code = tmp_path / "pkg" / "code" / "scoring_rules.py"
    code.write_text(code.read_text() + "\nimport os\n")
    with pytest.raises(IntegrityError, match=r"'code/scoring_rules.py' does not match"):
        load_model(tmp_path / "pkg")


def test_refuses_what_cannot_be_saved_as_code(tmp_path: Path, user_model: Any) -> None:
    class Local(PythonModel):
        def predict(self, data: pd.DataFrame) -> Any:
            return data

    with pytest.raises(InvalidArgument, match="define it at the top level"):
        save_model(Local(), tmp_path / "a")
    model, weights, _ = user_model
    unjsonable = type(model)(cutoff=np.float32(1.0), columns=["age"])
    with pytest.raises(InvalidArgument, match=r"parameters \['cutoff'\] .* not JSON-serialisable"):
        save_model(unjsonable, tmp_path / "b")
    with pytest.raises(InvalidArgument, match="is not a file or folder"):
        save_model(model, tmp_path / "c", artifacts={"w": tmp_path / "missing.json"})
    with pytest.raises(InvalidArgument, match="artifact name"):
        save_model(model, tmp_path / "d", artifacts={"../escape": weights})
    with pytest.raises(InvalidArgument, match="saved as code"):
        save_model(model, tmp_path / "e", serialization="pickle")
    with pytest.raises(InvalidArgument, match=r"named"):
        type("Star", (PythonModel,), {"__init__": lambda self, *a: None})(1, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src", "weights.json"]
