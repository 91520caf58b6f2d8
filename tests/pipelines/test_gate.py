"""``shipyard gate``: a candidate against the champion on real models, real data, a real model
server; results recorded, tagged on the version, and required for promotion when asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.errors import ConfigError, Conflict, InvalidArgument, NotFound
from shipyard.pipelines.gates.entities import GateConfig, MetricRule
from shipyard.pipelines.gates.fluent import list_gate_results, run_gate
from tests.pipelines.gate_fixtures import GateWorld, make_world

runner = CliRunner()


@pytest.fixture
def world(tmp_path: Path) -> GateWorld:
    return make_world(tmp_path)


def test_metric_rules_parse_and_compare() -> None:
    rule = MetricRule.parse("roc_auc >= champion + 0.01")
    assert (rule.metric, rule.op, rule.relative, rule.margin) == ("roc_auc", ">=", True, 0.01)
    assert rule.holds(0.95, rule.bound(0.93)) and not rule.holds(0.935, rule.bound(0.93))
    assert MetricRule.parse("log_loss <= champion - 0.02").bound(0.5) == pytest.approx(0.48)
    assert str(MetricRule.parse("accuracy > 0.9")) == "accuracy > 0.9"
    for bad in ("roc_auc >= champ", "roc_auc => 0.8", "", "auc >= 0.8"):
        with pytest.raises(InvalidArgument):
            MetricRule.parse(bad)


def test_good_candidate_passes_every_check_and_is_recorded(world: GateWorld) -> None:
    result = run_gate(
        "bc/3",
        champion="bc/2",
        dataset=world.eval_ref,
        label="target",
        metrics=["roc_auc >= champion + 0.1", "log_loss <= champion", "accuracy >= 0.9"],
        suite=str(world.suite),
        latency={"p99_ms": 5000, "requests": 60, "concurrency": 3},
    )
    assert result.passed, result.to_dict()
    names = [c.name for c in result.checks]
    assert names == [
        "roc_auc >= champion + 0.1", "log_loss <= champion", "accuracy >= 0.9",
        "suite", "latency", "signature",
    ]  # fmt: skip
    auc = result.checks[0].figures
    assert auc["candidate"] > 0.95 and auc["champion"] < 0.8 and auc["rows"] == 189
    assert auc["dataset"] == world.eval_ref
    latency = result.checks[4].figures
    assert latency["requests"] == 60 and latency["errors"] == 0 and latency["p99_ms"] > 0
    assert result.champion_version == 2 and result.dataset == world.eval_ref
    mv = shipyard.get_model_version("bc", 3)
    assert mv.tags["shipyard.gate"] == "passed" and mv.tags["shipyard.gate_id"] == str(result.id)
    [stored] = list_gate_results("bc", version=3)
    assert stored == result


def test_worse_candidate_fails_with_figures_and_cli_exits_1(world: GateWorld) -> None:
    out = runner.invoke(
        app,
        [
            "gate", "bc/2", "--dataset", world.eval_ref, "--label", "target",
            "-m", "roc_auc >= champion + 0.01", "-m", "accuracy >= 0.5",
            "--suite", str(world.failing_suite), "--no-latency", "--json",
        ],
    )  # fmt: skip
    assert out.exit_code == 1, out.output
    report = json.loads(out.output)
    assert report["passed"] is False and report["champion_version"] == 1
    assert report["failed"] == ["roc_auc >= champion + 0.01", "suite"]
    auc = report["checks"][0]["figures"]
    assert auc["candidate"] < auc["champion"] and auc["bound"] == pytest.approx(
        auc["champion"] + 0.01
    )
    suite = next(c for c in report["checks"] if c["name"] == "suite")
    assert suite["figures"]["failed"][0]["rule"] == "radius_small"
    assert shipyard.get_model_version("bc", 2).tags["shipyard.gate"] == "failed"


def test_table_report_names_failed_checks(world: GateWorld, tmp_path: Path) -> None:
    out = runner.invoke(
        app,
        ["gate", "bc@latest", "--champion", "bc/1", "--dataset", world.eval_ref,
         "--p99-ms", "0.001", "--requests", "20", "--out", str(tmp_path / "gate.json")],
    )  # fmt: skip
    assert out.exit_code == 1, out.output
    assert "FAIL" in out.output and "gate failed" in out.output and "latency" in out.output
    saved = json.loads((tmp_path / "gate.json").read_text())
    assert (
        saved["failed"] == ["latency"] and saved["checks"][0]["figures"]["budget_p99_ms"] == 0.001
    )


def test_incompatible_signature_fails(world: GateWorld) -> None:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"mean radius": [1.0, 2.0, 3.0, 4.0], "new_col": [1, 0, 1, 0]})
    shipyard.register_model(
        "bc", model=LogisticRegression().fit(frame, [0, 1, 0, 1]), input_example=frame
    )
    result = run_gate("bc/4")  # default config: the signature check against bc@champion
    assert not result.passed
    [check] = result.checks
    assert check.name == "signature" and "'new_col' (int64) is new and required" in check.message
    scored = run_gate("bc/4", dataset=world.eval_ref, label="target", metrics=["accuracy >= 0.5"])
    assert [c.name for c in scored.failed] == ["accuracy >= 0.5", "signature"]
    assert "could not score" in scored.checks[0].message and "new_col" in scored.checks[0].message


def test_bad_input_is_refused_and_nothing_recorded(world: GateWorld) -> None:
    with pytest.raises(NotFound, match="nope"):
        run_gate("nope/1")
    with pytest.raises(NotFound):
        run_gate("bc/9")
    with pytest.raises(NotFound, match="alias"):
        run_gate("bc@challenger")
    with pytest.raises(InvalidArgument, match="is the champion"):
        run_gate("bc/1")
    with pytest.raises(InvalidArgument, match="label"):
        run_gate("bc/3", dataset=world.eval_ref, metrics=["roc_auc >= champion"])
    with pytest.raises(InvalidArgument, match="no label column 'churned'"):
        run_gate("bc/3", dataset=world.eval_ref, label="churned", metrics=["accuracy >= 0.5"])
    with pytest.raises(NotFound):
        run_gate("bc/3", dataset="missing-data", label="target", metrics=["accuracy >= 0.5"])
    with pytest.raises(InvalidArgument, match="does not parse"):
        run_gate("bc/3", metrics=["roc_auc >>= 1"])
    with pytest.raises(NotFound):
        run_gate("bc/3", champion="bc@gold")
    assert list_gate_results("bc") == []
    out = runner.invoke(app, ["gate", "bc/1"])
    assert out.exit_code == 1 and "is the champion" in out.output


def test_first_model_has_no_champion(tmp_path: Path) -> None:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    shipyard.register_model("solo", model=LogisticRegression().fit(frame, [0, 0, 1, 1]),
                            input_example=frame)  # fmt: skip
    result = run_gate("solo/1")
    assert result.passed and result.champion_version is None
    with pytest.raises(InvalidArgument, match="no 'champion' version"):
        run_gate("solo/1", dataset="x", label="y", metrics=["accuracy >= champion"])


def test_gate_config_from_shipyard_yaml(world: GateWorld, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    config = tmp_path / "shipyard.yaml"
    config.write_text(
        f"gates:\n  bc:\n    dataset: {world.eval_ref}\n    label: target\n"
        "    metrics: ['roc_auc >= champion + 0.01']\n    signature: false\n"
        "registry:\n  require_gate_for: [champion]\n"
    )
    monkeypatch.setenv("SHIPYARD_CONFIG", str(config))
    shipyard.configure()
    with pytest.raises(Conflict, match="never been gated"):
        shipyard.set_alias("bc", "champion", 3)
    failed = run_gate("bc/2")
    assert [c.name for c in failed.checks] == ["roc_auc >= champion + 0.01"]
    with pytest.raises(Conflict, match=f"#{failed.id}"):
        shipyard.set_alias("bc", "champion", 2)
    assert runner.invoke(app, ["models", "alias", "bc", "champion", "3"]).exit_code == 1
    assert run_gate("bc/3", champion="bc/2").passed
    out = runner.invoke(app, ["models", "alias", "bc", "champion", "3"])
    assert out.exit_code == 0, out.output
    assert shipyard.get_model_version("bc@champion").version == 3
    shipyard.set_alias("bc", "staging", 2)  # not listed: no gate needed
    config.write_text("gates:\n  bc:\n    metrics: 'roc_auc >= 0.5'\n")
    shipyard.configure()
    with pytest.raises(ConfigError, match=r"gates\.bc"):
        run_gate("bc/2")


def test_require_gate_flag_on_the_cli(world: GateWorld) -> None:
    out = runner.invoke(app, ["models", "alias", "bc", "champion", "3", "--require-gate"])
    assert out.exit_code == 1 and "run `shipyard gate bc/3` first" in out.output
    assert shipyard.get_model_version("bc@champion").version == 1
    assert run_gate("bc/3", dataset=world.eval_ref, label="target",
                    metrics=["roc_auc >= champion"]).passed  # fmt: skip
    out = runner.invoke(app, ["models", "alias", "bc", "champion", "3", "--require-gate"])
    assert out.exit_code == 0, out.output
    listing = runner.invoke(app, ["gates", "list", "bc"])
    assert listing.exit_code == 0 and "bc/3" in listing.output and "passed" in listing.output


def test_config_parts_must_fit() -> None:
    with pytest.raises(InvalidArgument, match="evaluation data"):
        GateConfig(metrics=(MetricRule.parse("accuracy >= 0.5"),)).check()
    with pytest.raises(InvalidArgument, match="checks nothing"):
        GateConfig(signature=False).check()
    with pytest.raises(ConfigError, match="unknown field"):
        GateConfig.from_dict({"dataset": "x", "latncy": {}})
    with pytest.raises(ConfigError, match="p99_ms"):
        GateConfig.from_dict({"latency": {"requests": 10}})


def test_gates_over_a_team_server(tmp_path: Path) -> None:
    """Results are recorded and read over REST; the server refuses an ungated champion when its
    own shipyard.yaml requires a gate."""
    import httpx

    from shipyard.client import connect_local
    from shipyard.server.app import create_app
    from shipyard.server.testing import serve_in_thread
    from tests.client.conftest import store_settings

    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "shipyard.yaml").write_text("registry: {require_gate_for: [prod]}\n")
    backing = connect_local(store_settings(tmp_path / "server"))
    with serve_in_thread(create_app(services=backing)) as url:
        shipyard.configure(tracking_uri=url)
        world = make_world(tmp_path)
        with pytest.raises(Conflict, match="never been gated"):
            shipyard.set_alias("bc", "prod", 3)
        result = run_gate("bc/3", dataset=world.eval_ref, label="target",
                          metrics=["accuracy >= champion"])  # fmt: skip
        assert result.passed and backing.gates.get(result.id) == result
        assert list_gate_results("bc", version=3) == [result]
        shipyard.set_alias("bc", "prod", 3)
        assert backing.registry.resolve("bc", alias="prod").version == 3
        answer = httpx.get(f"{url}/api/v1/gates/results", params={"model": "bc"}).json()
        assert [r["id"] for r in answer["results"]] == [result.id]
        assert httpx.get(f"{url}/api/v1/gates/results/999").status_code == 404
    backing.close()
