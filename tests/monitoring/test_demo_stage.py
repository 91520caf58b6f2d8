"""The churn demo's monitoring stage (what `make demo` runs after serving), on the example's
champion trained on a sample: decay detected, alert delivered, retrained, gated, promoted."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

import shipyard

EXAMPLE = Path(__file__).parents[2] / "examples" / "churn"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"churn_{name}", EXAMPLE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_monitoring_stage_story(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load("churn").main(["--sample", "1500"]) == 0
    from rich.console import Console

    home = Path(shipyard.load_settings().home)
    story = _load("monitoring_stage").monitoring_stage(Console(width=200), home)
    before, after, recovered = story["before"], story["after"], story["recovered"]
    assert before["roc_auc"] > 0.8 > after["roc_auc"]
    assert before["drift_share"] == 0.0 and after["drift_share"] > 0.1
    assert {"contract", "monthly_charges"} <= set(story["drifted"])
    assert story["alerts"] == ["drift_share > 0.1", "roc_auc < 0.8"] and story["received"] == 2
    assert story["retraining"] == "promoted" and story["champion"] == (1, 2)
    assert recovered["roc_auc"] > 0.8 and recovered["drift_share"] == 0.0
    out = " ".join(capsys.readouterr().out.split())
    assert "churn@champion moved from 1 to 2 (gate passed)" in out
    assert shipyard.get_model_version("churn@champion").version == 2
