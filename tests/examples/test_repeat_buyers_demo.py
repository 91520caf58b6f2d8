"""The repeat-buyer example (run by `make demo`) on its first customers, so it cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import shipyard

EXAMPLE = Path(__file__).parents[2] / "examples" / "repeat_buyers" / "repeat_buyers.py"


def test_repeat_buyers_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("repeat_buyers_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert module.main(["--customers", "3000"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "registered repeat_buyer/1" in out and "materialized customer_activity" in out
    assert "present" in out and "missing" in out

    training = shipyard.get_dataset("repeat_buyer_training")
    assert training.tags["lineage.customer_activity"] == "customer_activity@1"
    activity = shipyard.get_dataset("cdnow_activity")
    assert training.tags["lineage.customer_activity.source"] == activity.uri
    [run] = shipyard.search_runs("repeat_buyers")["run_id"]
    sources = {i.source for i in shipyard.get_run(run).inputs}
    assert activity.uri in sources and "features:customer_activity@1" in sources
