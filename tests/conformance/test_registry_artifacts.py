"""The registry and artifact contracts on every implementation (SQLite, PostgreSQL, HTTP)."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest

from shipyard.artifacts.owners import model_owner, run_owner
from shipyard.client import Services
from shipyard.errors import Conflict, InvalidArgument, NotFound


def _package(tmp_path: Path) -> Path:
    folder = tmp_path / "pkg"
    (folder / "code").mkdir(parents=True)
    (folder / "shipyard-model.json").write_text(json.dumps({"flavor": "sklearn"}))
    (folder / "model.skops").write_bytes(b"\x00model-bytes" * 100)
    (folder / "code" / "helper.py").write_text("X = 1\n")
    return folder


def _run_with_package(services: Services, tmp_path: Path) -> str:
    t = services.tracking
    exp = t.create_experiment(f"reg-{uuid.uuid4().hex[:8]}")
    run = t.create_run(exp.experiment_id)
    services.artifacts.upload(run_owner(run.run_id), _package(tmp_path), "model")
    return run.run_id


def test_artifact_folder_round_trip(services: Services, tmp_path: Path) -> None:
    run_id = _run_with_package(services, tmp_path)
    owner = run_owner(run_id)
    top = services.artifacts.list(owner, "")
    assert [(i.path, i.is_dir) for i in top] == [("model", True)]
    files = sorted(i.path for i in services.artifacts.list(owner, "", recursive=True))
    assert files == ["model/code/helper.py", "model/model.skops", "model/shipyard-model.json"]
    listed = {i.path: i for i in services.artifacts.list(owner, "model")}
    assert listed["model/code"].is_dir
    blob = (tmp_path / "pkg" / "model.skops").read_bytes()
    assert listed["model/model.skops"].sha256 == hashlib.sha256(blob).hexdigest()
    assert listed["model/model.skops"].size == len(blob)

    out = services.artifacts.download(owner, "model", tmp_path / "out")
    assert (out / "code" / "helper.py").read_text() == "X = 1\n"
    assert b"".join(services.artifacts.open(owner, "model/model.skops")) == blob
    assert services.artifacts.read(owner, "model/model.skops", bytes) == blob

    single = tmp_path / "notes.txt"
    single.write_text("hello")
    services.artifacts.upload(owner, single, "docs")
    got = services.artifacts.download(owner, "docs/notes.txt", tmp_path / "out2")
    assert got.read_text() == "hello"


def test_artifact_errors(services: Services, tmp_path: Path) -> None:
    run_id = _run_with_package(services, tmp_path)
    owner = run_owner(run_id)
    with pytest.raises(NotFound):
        services.artifacts.download(owner, "nope.txt", tmp_path / "o")
    with pytest.raises(NotFound):
        list(services.artifacts.open(owner, "nope.txt"))
    with pytest.raises(NotFound):
        services.artifacts.read(owner, "nope.txt", len)
    with pytest.raises(InvalidArgument):  # a folder
        services.artifacts.read(owner, "model", len)
    with pytest.raises(InvalidArgument):
        services.artifacts.upload(owner, tmp_path / "missing.txt", "")
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(InvalidArgument):
        services.artifacts.upload(owner, f, "../escape")


def test_register_alias_resolve_and_history(services: Services, tmp_path: Path) -> None:
    r = services.registry
    name = f"churn-{uuid.uuid4().hex[:6]}"
    run_id = _run_with_package(services, tmp_path)
    v1 = r.create_version(
        name,
        run_id=run_id,
        artifact_path="model",
        flavor="sklearn",
        metrics={"auc": 0.8},
        signature={"inputs": []},
    )
    v2 = r.create_version(
        name, run_id=run_id, artifact_path="model", flavor="sklearn", description="second"
    )
    assert (v1.version, v2.version) == (1, 2)
    assert v1.run_id == run_id and v1.metrics == {"auc": 0.8}
    files = {i.path for i in services.artifacts.list(model_owner(name, 1), "", recursive=True)}
    assert files == {"code/helper.py", "model.skops", "shipyard-model.json"}

    r.set_alias(name, "champion", 1)
    assert r.resolve(name, alias="champion").version == 1
    r.set_alias(name, "champion", 2)
    assert r.resolve(name, alias="champion").version == 2
    assert r.resolve(name, version=1).version == 1
    assert r.get_model(name).aliases == {"champion": 2}
    history = r.alias_history(name, alias="champion")
    assert [(e.from_version, e.to_version) for e in history] == [(None, 1), (1, 2)]
    assert r.resolve(name, alias="champion", at=history[0].at).version == 1

    with pytest.raises(Conflict):
        r.delete_version(name, 2)  # champion points at it
    r.delete_version(name, 1)
    with pytest.raises(NotFound):
        r.resolve(name, version=1)
    assert [v.version for v in r.list_versions(name)] == [2]
    r.restore_version(name, 1)
    assert [v.version for v in r.list_versions(name)] == [2, 1]
    r.delete_alias(name, "champion")
    with pytest.raises(NotFound):
        r.resolve(name, alias="champion")


def test_registry_errors(services: Services, tmp_path: Path) -> None:
    r = services.registry
    run_id = _run_with_package(services, tmp_path)
    with pytest.raises(NotFound):
        r.get_model(f"nope-{uuid.uuid4().hex[:6]}")
    with pytest.raises(NotFound):
        r.create_version(
            "m-" + uuid.uuid4().hex[:6], run_id=run_id, artifact_path="nothing", flavor="sklearn"
        )
    with pytest.raises(NotFound):
        r.create_version(
            "m-" + uuid.uuid4().hex[:6], run_id="0" * 32, artifact_path="model", flavor="sklearn"
        )
    with pytest.raises(InvalidArgument):
        r.create_version("bad name!", run_id=run_id, artifact_path="model", flavor="sklearn")
    name = f"m-{uuid.uuid4().hex[:6]}"
    r.create_version(name, run_id=run_id, artifact_path="model", flavor="sklearn")
    with pytest.raises(NotFound):
        r.set_alias(name, "champion", 9)
    with pytest.raises(InvalidArgument):
        r.set_alias(name, "123", 1)
    with pytest.raises(NotFound):
        r.resolve(name, alias="nope")
