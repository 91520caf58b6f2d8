"""Deployment records through the SDK, the CLI and REST (a real server), on a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.client import connect_local
from shipyard.errors import InvalidArgument, NotFound
from shipyard.server.app import create_app
from shipyard.server.testing import serve_in_thread
from shipyard.serving.deployments import Policy
from tests.server.conftest import store_settings

runner = CliRunner()


def _register(n: int = 2) -> None:
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    for i in range(n):
        with shipyard.start_run(experiment="d"):
            shipyard.log_model(LinearRegression().fit(X, [i, 2.0, 3.0]), "model")
            run = shipyard.active_run()
            assert run is not None
            shipyard.register_model(
                "churn", run_id=run.run_id, alias="champion" if i == 0 else None
            )


def test_sdk_records_policies_and_lists_newest_first() -> None:
    _register()
    first = shipyard.deploy("churn@champion", endpoint="http://10.0.0.1:8000")
    assert (first.name, first.model, first.version, first.policy.kind) == (
        "churn",
        "churn",
        1,
        "single",
    )
    canary = shipyard.deploy(
        "churn/1",
        name="churn-api",
        policy={"kind": "canary", "challenger": "churn/2", "share": 0.1},
    )
    assert canary.policy == Policy("canary", "churn/2", 0.1)
    assert [d.id for d in shipyard.list_deployments()] == [canary.id, first.id]
    assert [d.id for d in shipyard.list_deployments(name="churn-api")] == [canary.id]
    with pytest.raises(NotFound):
        shipyard.deploy("churn/9")
    with pytest.raises(NotFound):
        shipyard.deploy("churn/1", policy=Policy("shadow", "churn/7"))
    with pytest.raises(InvalidArgument, match="share must be between 0 and 1"):
        shipyard.deploy("churn/1", policy={"kind": "canary", "challenger": "churn/2", "share": 1.5})
    with pytest.raises(InvalidArgument, match="needs the request key"):
        Policy("sticky", "churn/2", 0.5)
    with pytest.raises(InvalidArgument, match="target"):
        shipyard.deploy("churn/1", target="moon")


def test_cli_deploy_and_list() -> None:
    _register()
    out = runner.invoke(
        app, ["deploy", "churn@champion", "--canary", "churn/2=0.2", "--target", "kubernetes"]
    )
    assert out.exit_code == 0, out.output
    assert "canary 20% to churn/2" in out.output
    listed = runner.invoke(app, ["deployments", "list"], env={"COLUMNS": "200"})
    assert "churn/1" in listed.output and "kubernetes" in listed.output
    shown = runner.invoke(app, ["deployments", "show", "1"])
    assert shown.exit_code == 0 and "churn@champion" in shown.output
    bad = runner.invoke(app, ["deploy", "churn/1", "--canary", "churn/2"])
    assert bad.exit_code == 2 and "REF=SHARE" in bad.output
    missing = runner.invoke(app, ["deployments", "show", "99"])
    assert missing.exit_code == 1 and "no deployment 99" in missing.output


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    services = connect_local(store_settings(tmp_path / "server"))
    with serve_in_thread(create_app(services=services)) as url:
        shipyard.configure(tracking_uri=url)
        yield url
    services.close()


def test_over_http(server: str) -> None:
    _register()
    d = shipyard.deploy("churn@champion", policy=Policy("shadow", "churn/2"))
    assert shipyard.list_deployments(model="churn")[0] == d
    with httpx.Client(base_url=server) as http:
        assert http.get(f"/api/v1/deployments/{d.id}").json()["policy"]["kind"] == "shadow"
        bad = http.post(
            "/api/v1/deployments",
            json={
                "name": "x",
                "model": "churn",
                "version": 1,
                "ref": "churn/1",
                "policy": {"kind": "warp"},
            },
        )
        assert bad.status_code == 400 and "not one of" in bad.text
        gone = http.post(
            "/api/v1/deployments",
            json={"name": "x", "model": "nope", "version": 1, "ref": "nope/1"},
        )
        assert gone.status_code == 404
        assert http.get("/api/v1/deployments/999").status_code == 404
