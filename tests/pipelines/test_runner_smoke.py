from __future__ import annotations

from shipyard.pipelines import Pipeline, run_pipeline
from tests.pipelines import steplib


def test_smoke() -> None:
    pipe = Pipeline("p", [steplib.make_numbers, steplib.total.using(scale=2.0), steplib.report])
    result = run_pipeline(pipe)
    assert result.ok, result.run.failure
    assert result.output("report.report") == "total=20.0"
    again = run_pipeline(pipe)
    assert again.run.cached == ["make_numbers", "total", "report"], [(s.step, s.status, s.reason) for s in again.run.steps]
