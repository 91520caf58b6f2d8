"""Pipeline definitions: YAML and decorators, the DAG, and the errors a bad one gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import load_settings
from shipyard.errors import ConfigError, InvalidArgument, NotFound
from shipyard.pipelines import Input, Pipeline, StepDef, get_pipeline, load_pipelines, step
from tests.pipelines import steplib

YAML = """
pipelines:
  demo:
    executor: local:2
    steps:
      - name: a
        call: steplib_mod:add
        with: {a: 1, b: 2}
      - name: b
        call: steplib_mod:add
        inputs: {a: a.result}
        with: {b: 10}
      - name: c
        call: steplib_mod:add
        inputs: {a: a.result, b: b.result}
"""


def _project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "shipyard.yaml").write_text(text)
    (tmp_path / "steplib_mod.py").write_text("def add(a, b=0):\n    return a + b\n")
    return tmp_path


def test_yaml_pipeline_forms_its_dag(tmp_path: Path) -> None:
    settings = load_settings(cwd=_project(tmp_path, YAML))
    pipe = load_pipelines(settings)["demo"]
    assert pipe.order == ("a", "b", "c")
    assert sorted(pipe.edges()) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert pipe.wiring["c"] == {"a": ("a", "result"), "b": ("b", "result")}
    assert pipe.downstream("a") == ["b", "c"] and pipe.executor == "local:2"
    assert pipe.base_dir == tmp_path.resolve()


def test_decorated_steps_wire_by_parameter_name() -> None:
    pipe = Pipeline("p", [steplib.report, steplib.total, steplib.make_numbers])
    assert pipe.order == ("make_numbers", "total", "report")
    assert pipe.step("total").params == {} and pipe.step("total").inputs == {"numbers": "numbers"}
    bound = steplib.total.using(name="t2", numbers=Input("make_numbers.numbers"), scale=3)
    assert Pipeline("q", [steplib.make_numbers, bound]).step("t2").params == {"scale": 3}


def test_a_cycle_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"cycle: (\w → ){3}\w") as err:
        Pipeline(
            "loop",
            [
                StepDef("x", call="tests.pipelines.steplib:add", inputs={"a": "z.result"}),
                StepDef("y", call="tests.pipelines.steplib:add", inputs={"a": "x.result"}),
                StepDef("z", call="tests.pipelines.steplib:add", inputs={"a": "y.result"}),
            ],
        )
    assert all(n in str(err.value) for n in "xyz")


def test_an_unknown_input_names_step_input_and_known_outputs() -> None:
    with pytest.raises(InvalidArgument) as err:
        Pipeline(
            "p",
            [
                StepDef("a", call="tests.pipelines.steplib:add"),
                StepDef("b", call="tests.pipelines.steplib:add", inputs={"a": "a.model"}),
            ],
        )
    msg = str(err.value)
    assert "step 'b' input 'a'" in msg and "'a.model'" in msg and "a.result" in msg


def test_an_unimportable_callable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="cannot import module 'no_such_mod'"):
        Pipeline("p", [StepDef("a", call="no_such_mod:fn")])
    with pytest.raises(InvalidArgument, match="has no 'nope'"):
        Pipeline("p", [StepDef("a", call="tests.pipelines.steplib:nope")])
    with pytest.raises(InvalidArgument, match="module:function"):
        Pipeline("p", [StepDef("a", call="justaname")])


def test_bad_yaml_fields_and_builtins(tmp_path: Path) -> None:
    bad = YAML.replace("with: {b: 10}", "with: {b: 10}\n        retrys: 2")
    with pytest.raises(ConfigError, match=r"unknown field\(s\) \['retrys'\]"):
        load_pipelines(load_settings(cwd=_project(tmp_path, bad)))
    with pytest.raises(InvalidArgument, match="no built-in step 'trian'"):
        Pipeline("p", [StepDef("t", uses="trian")])
    with pytest.raises(InvalidArgument, match=r"needs input\(s\) \['dataset'\]"):
        Pipeline("p", [StepDef("c", uses="check", params={"suite": "s.yaml"})])
    with pytest.raises(InvalidArgument, match="more than once"):
        Pipeline("p", [steplib.make_numbers, steplib.make_numbers])
    with pytest.raises(NotFound, match="known: \\['demo'\\]"):
        get_pipeline("nope", load_settings(cwd=_project(tmp_path, YAML)))


def test_step_decorator_options() -> None:
    @step(outputs={"m": "metrics"}, retries=2, timeout=5, cache=False)
    def f() -> dict[str, float]:
        return {"m": 1.0}

    d = f.as_step()
    assert (d.retries, d.timeout_s, d.cache, dict(d.outputs)) == (2, 5, False, {"m": "metrics"})
    with pytest.raises(InvalidArgument, match="kind 'blob'"):
        StepDef("s", call="a:b", outputs={"x": "blob"})
