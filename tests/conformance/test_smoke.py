"""The ``services`` fixture gives working, empty services on every backend."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from shipyard.artifacts.owners import run_owner
from shipyard.client import Services
from shipyard.errors import NotFound
from shipyard.tracking.entities import Metric, RunStatus


def test_every_backend_starts_empty_and_round_trips(services: Services, tmp_path: Path) -> None:
    t = services.tracking
    assert t.list_experiments() == []
    assert services.registry.list_models() == []

    exp = t.create_experiment("smoke")
    run = t.create_run(exp.experiment_id, name="first")
    t.log_batch(
        run.run_id,
        metrics=[Metric("loss", math.nan, 0, 1), Metric("auc", 0.5, 1, 2)],
        params={"lr": "0.1"},
        tags={"stage": "dev"},
    )
    t.end_run(run.run_id, RunStatus.FINISHED)
    got = t.get_run(run.run_id)
    assert got.status is RunStatus.FINISHED
    assert got.params == {"lr": "0.1"} and got.tags["stage"] == "dev"
    assert got.metrics["auc"] == 0.5 and math.isnan(got.metrics["loss"])

    src = tmp_path / "notes.txt"
    src.write_bytes(b"hello")
    [info] = services.artifacts.upload(run_owner(run.run_id), src, "docs")
    assert (info.path, info.size) == ("docs/notes.txt", 5)
    out = services.artifacts.download(run_owner(run.run_id), "docs", tmp_path / "out")
    assert (out / "notes.txt").read_bytes() == b"hello"

    version = services.registry.create_version(
        "m", run_id=run.run_id, artifact_path="docs", flavor="text"
    )
    assert version.version == 1
    assert [a.path for a in services.artifacts.list(version.owner)] == ["notes.txt"]


def test_missing_run_is_not_found_on_every_backend(services: Services) -> None:
    with pytest.raises(NotFound, match="no run"):
        services.tracking.get_run("0" * 32)
