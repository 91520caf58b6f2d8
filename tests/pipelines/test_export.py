"""``shipyard pipeline export``: Kubernetes Jobs (validated against the Kubernetes schemas) and
an Airflow DAG file; the dependency edges read back from the files equal the pipeline's DAG."""

from __future__ import annotations

import ast
import json
import os
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.config import load_settings
from shipyard.errors import AlreadyExists, InvalidArgument, NotFound
from shipyard.pipelines.definitions import Pipeline, get_pipeline
from shipyard.pipelines.export import export_pipeline

K8S_VERSION = "1.30.0"
ROOT = Path(__file__).parents[2]
AIRFLOW_PYTHON = ROOT / ".venv-airflow" / "bin" / "python"
runner = CliRunner()

DIAMOND = """
pipelines:
  diamond:
    schedule: "0 2 * * *"
    steps:
      - {name: load, call: "tests.pipelines.steplib:add", with: {a: 1}, retries: 2}
      - {name: clean_rows, call: "tests.pipelines.steplib:add", inputs: {a: load.result}}
      - {name: features, call: "tests.pipelines.steplib:add", inputs: {a: load.result},
         timeout: 30}
      - {name: train, call: "tests.pipelines.steplib:add",
         inputs: {a: clean_rows.result, b: features.result}}
      - {name: report, call: "tests.pipelines.steplib:add", after: [train]}
  solo:
    steps:
      - {name: only, call: "tests.pipelines.steplib:add", with: {a: 1}}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "shipyard.yaml").write_text(DIAMOND)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def churn() -> Pipeline:
    folder = ROOT / "examples" / "churn"
    settings = load_settings({"SHIPYARD_HOME": "/nonexistent"}, cwd=folder)
    return get_pipeline("churn", settings)


def k8s_edges(folder: Path) -> tuple[set[tuple[str, str]], dict[str, list[str]]]:
    """Edges from the Jobs' upstream annotations, and each Job's command, by step."""
    edges, commands = set(), {}
    for path in sorted(folder.glob("job-*.yaml")):
        doc = yaml.safe_load(path.read_text())
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        meta = doc["metadata"]["annotations"]
        step = meta["shipyard.dev/step"]
        edges |= {(up, step) for up in json.loads(meta["shipyard.dev/upstream"])}
        commands[step] = doc["spec"]["template"]["spec"]["containers"][0]["command"]
    return edges, commands


def airflow_edges(path: Path) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """Edges (``tasks[a] >> tasks[b]``) and each task's bash command, read with ``ast``."""
    tree = ast.parse(path.read_text())
    edges, commands = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            left, right = node.left, node.right
            assert isinstance(left, ast.Subscript) and isinstance(right, ast.Subscript)
            edges.add((ast.literal_eval(left.slice), ast.literal_eval(right.slice)))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "BashOperator":
            kw = {k.arg: k.value for k in node.keywords}
            commands[ast.literal_eval(kw["task_id"])] = ast.literal_eval(kw["bash_command"])
    return edges, commands


@pytest.mark.parametrize("which", ["diamond", "churn"])
def test_k8s_jobs_validate_and_carry_the_dag(project: Path, which: str) -> None:
    pipe = get_pipeline("diamond") if which == "diamond" else churn()
    out = project / "k8s"
    written = export_pipeline(pipe, to="k8s", out=out, env={"SHIPYARD_TRACKING_URI": "http://ml"})
    edges, commands = k8s_edges(out)
    assert edges == set(pipe.edges()) and len(edges) >= 4
    assert commands == {s: ["shipyard", "run", pipe.name, "--step", s] for s in pipe.step_names}
    assert (out / "run.sh") in written and os.access(out / "run.sh", os.X_OK)


def test_k8s_job_settings_and_the_cronjob(project: Path) -> None:
    pipe = get_pipeline("diamond")
    out = project / "k8s"
    export_pipeline("diamond", to="k8s", out=out, image="registry.local/churn:7")
    load = yaml.safe_load((out / "job-shipyard-diamond-load.yaml").read_text())
    assert load["spec"]["backoffLimit"] == 2
    assert load["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/churn:7"
    feats = yaml.safe_load((out / "job-shipyard-diamond-features.yaml").read_text())
    assert feats["spec"]["activeDeadlineSeconds"] == 30
    name = yaml.safe_load((out / "job-shipyard-diamond-clean-rows.yaml").read_text())
    assert name["metadata"]["name"] == "shipyard-diamond-clean-rows"
    cron = yaml.safe_load((out / "cronjob.yaml").read_text())
    kubernetes_validate.validate(cron, K8S_VERSION, strict=True)
    assert cron["spec"]["schedule"] == "0 2 * * *"
    assert {
        tuple(e) for e in json.loads(cron["metadata"]["annotations"]["shipyard.dev/edges"])
    } == set(pipe.edges())
    command = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command == ["shipyard", "run", "diamond"]
    script = (out / "run.sh").read_text().splitlines()
    applied = [line.split()[-1] for line in script if " apply " in line]
    order = [f.removeprefix("job-shipyard-diamond-").removesuffix(".yaml") for f in applied]
    assert (
        order.index("load")
        < order.index("clean-rows")
        < order.index("train")
        < order.index("report")
    )
    wait_train = script.index(
        'kubectl -n "$NS" wait --for=condition=complete --timeout="$TIMEOUT" '
        "job/shipyard-diamond-train"
    )
    assert wait_train < script.index(next(s for s in script if s.endswith("report.yaml")))
    assert not (project / "solo").exists()
    export_pipeline("solo", to="k8s", out=project / "solo")
    assert not (project / "solo" / "cronjob.yaml").exists()


@pytest.mark.parametrize("which", ["diamond", "churn"])
def test_airflow_dag_file_carries_the_dag(project: Path, which: str) -> None:
    pipe = get_pipeline("diamond") if which == "diamond" else churn()
    [path] = export_pipeline(pipe, to="airflow", out=project / "dags")
    edges, commands = airflow_edges(path)
    assert edges == set(pipe.edges())
    assert set(commands) == set(pipe.step_names)
    for step, command in commands.items():
        assert command.endswith(f"shipyard run {pipe.name} --step {step}")
    compile(path.read_text(), str(path), "exec")


def test_cli_and_bad_input(project: Path) -> None:
    args = ["pipeline", "export", "diamond", "--to", "airflow", "--out", "dags"]
    out = runner.invoke(app, [*args, "--env", "SHIPYARD_TRACKING_URI=http://ml"])
    assert out.exit_code == 0, out.output
    assert (
        "'SHIPYARD_TRACKING_URI': 'http://ml'" in (project / "dags" / "diamond_dag.py").read_text()
    )
    again = runner.invoke(
        app, ["pipeline", "export", "diamond", "--to", "airflow", "--out", "dags"]
    )
    assert again.exit_code == 1 and "not empty" in again.output
    assert runner.invoke(app, ["pipeline", "export", "diamond", "--to", "airflow", "--out", "dags",
                               "--force"]).exit_code == 0  # fmt: skip
    with pytest.raises(NotFound, match="nope"):
        export_pipeline("nope", to="k8s", out=project / "x")
    with pytest.raises(InvalidArgument, match="k8s"):
        export_pipeline("diamond", to="nomad", out=project / "x")
    with pytest.raises(AlreadyExists):
        export_pipeline("diamond", to="airflow", out=project / "dags")
    (project / "shipyard.yaml").write_text(DIAMOND.replace('"0 2 * * *"', '"*/5 * * * * *"'))
    with pytest.raises(InvalidArgument, match="5-field"):
        export_pipeline("diamond", to="k8s", out=project / "k8s-seconds")
    bad = runner.invoke(app, ["pipeline", "export", "diamond", "--to", "k8s", "--out", "k",
                              "--env", "NOEQUALS"])  # fmt: skip
    assert bad.exit_code != 0


@pytest.mark.slow
def test_airflow_itself_loads_the_dag(project: Path) -> None:
    """Airflow (in its own venv, .venv-airflow, made by `make airflow-venv`) parses the file and
    builds the same task graph."""
    if not AIRFLOW_PYTHON.exists():
        pytest.fail(
            f"{AIRFLOW_PYTHON} is missing: run `make airflow-venv` (installs apache-airflow into "
            ".venv-airflow) before the slow tests"
        )
    pipe = get_pipeline("diamond")
    [path] = export_pipeline(pipe, to="airflow", out=project / "dags")
    code = (
        "import json, sys\n"
        "try:\n"
        "    from airflow.dag_processing.dagbag import DagBag\n"
        "except ImportError:\n"
        "    from airflow.models.dagbag import DagBag\n"
        "bag = DagBag(dag_folder=sys.argv[1])\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "dag = bag.dags['diamond']\n"
        "edges = [[u, t.task_id] for t in dag.tasks for u in t.upstream_task_ids]\n"
        "print(json.dumps(sorted(edges)))\n"
    )
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(project / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    done = subprocess.run(
        [str(AIRFLOW_PYTHON), "-c", code, str(path.parent)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = {tuple(e) for e in json.loads(done.stdout.strip().splitlines()[-1])}
    assert loaded == set(pipe.edges())
