"""``shipyard build``: the Docker context and the Kubernetes manifests, checked against the
Kubernetes schemas and against the model server's real routes and port."""

from __future__ import annotations

import json
import re
import time
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pandas as pd
import pytest
import typer
import yaml
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import shipyard
from shipyard.cli.deploy_files import register
from shipyard.errors import AlreadyExists, InvalidArgument, NotFound
from shipyard.registry.package import load_model, verify_manifest
from shipyard.registry.package.requirements import canonical_name
from shipyard.serving import build as b

K8S_VERSION = "1.30.0"
MANIFESTS = ("k8s/deployment.yaml", "k8s/service.yaml", "k8s/hpa.yaml")
FRAME = pd.DataFrame(
    {
        "tenure": [1, 5, 20, 40, 3, 60, 12, 30],
        "monthly_charges": [70.0, 50.5, 30.0, 20.0, 90.0, 25.0, 65.0, 40.0],
        "contract": ["m", "m", "y", "y", "m", "y", "m", "y"],
    }
)
LABELS = [1, 1, 0, 0, 1, 0, 1, 0]


@pytest.fixture
def churn() -> LogisticRegression:
    """``churn`` version 1, alias ``champion``, in the test's own store."""
    numeric = FRAME[["tenure", "monthly_charges"]]
    model = LogisticRegression().fit(numeric, LABELS)
    shipyard.register_model("churn", model=model, input_example=numeric, alias="champion")
    return model


def fake_wheel(folder: Path, requires: list[str] | None = None) -> Path:
    """A minimal wheel of 'shipyard' whose metadata lists this install's dependencies.

    Building the real wheel needs the package index (the build backend is fetched), so the
    fast tests bundle this one; tests/serving/test_build_context_runs.py builds the real one.
    """
    lines = metadata.requires("shipyard") if requires is None else requires
    path = folder / "shipyard-0.1.0-py3-none-any.whl"
    folder.mkdir(parents=True, exist_ok=True)
    body = "Metadata-Version: 2.1\nName: shipyard\nVersion: 0.1.0\n"
    body += "".join(f"Requires-Dist: {line}\n" for line in lines or [])
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("shipyard-0.1.0.dist-info/METADATA", body)
    return path


@pytest.fixture
def context(churn: LogisticRegression, tmp_path: Path) -> b.BuildContext:
    return b.build_context("churn@champion", tmp_path / "ctx", wheel=fake_wheel(tmp_path / "dist"))


def read_manifest(ctx: b.BuildContext, rel: str) -> dict[str, Any]:
    doc = yaml.safe_load((ctx.path / rel).read_text())
    assert isinstance(doc, dict)
    return doc


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def instruction(ctx: b.BuildContext, name: str) -> list[str]:
    return [rest for word, rest in dockerfile_instructions(ctx.path / "Dockerfile") if word == name]


# --------------------------------------------------------------------------- the context


def test_context_holds_the_model_package_and_nothing_from_the_registry(
    context: b.BuildContext, churn: LogisticRegression
) -> None:
    assert (context.model, context.version, context.image) == ("churn", 1, "shipyard-churn:1")
    assert set(context.files) >= {
        "Dockerfile",
        "requirements.txt",
        ".dockerignore",
        "build.json",
        "wheels/shipyard-0.1.0-py3-none-any.whl",
        "model/shipyard-model.json",
        *MANIFESTS,
    }
    verify_manifest(context.path / "model")  # copied byte for byte
    loaded = load_model(context.path / "model")
    rows = FRAME[["tenure", "monthly_charges"]]
    assert (loaded.predict(rows) == churn.predict(rows)).all()
    record = json.loads((context.path / "build.json").read_text())
    assert record["ref"] == "churn@champion" and record["version"] == 1
    assert not list(context.path.parent.glob(".ctx.tmp-*"))


def test_dockerfile_is_slim_non_root_and_serves_the_local_package(
    context: b.BuildContext,
) -> None:
    (base,) = instruction(context, "FROM")
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim", base), base
    (user,) = instruction(context, "USER")
    assert user == f"{b.USER_ID}:{b.USER_ID}" and not user.startswith("0")
    steps = dockerfile_instructions(context.path / "Dockerfile")
    order = [f"{w} {r}" for w, r in steps]
    reqs = order.index("COPY requirements.txt ./")
    install = order.index("RUN pip install --no-cache-dir -r requirements.txt")
    wheel = order.index("RUN pip install --no-cache-dir wheels/shipyard-0.1.0-py3-none-any.whl")
    model = order.index(f"COPY model/ {b.MODEL_DIR}/")
    assert reqs < install < wheel < model  # the model layer changes most, so it comes last
    assert order.index(f"USER {user}") > model
    assert instruction(context, "EXPOSE") == ["8000"]
    (cmd,) = instruction(context, "CMD")
    assert json.loads(cmd) == [
        "shipyard",
        "serve",
        "/app/model",
        "--name",
        "churn",
        "--model-version",
        "1",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    (health,) = instruction(context, "HEALTHCHECK")
    probe = json.loads(health.split(" CMD ", 1)[1])
    assert probe[0] == "python" and "http://127.0.0.1:8000/health/live" in probe[2]
    ignore = (context.path / ".dockerignore").read_text().splitlines()
    assert ignore[1:5] == ["*", "!requirements.txt", "!wheels", "!model"]


def test_requirements_pin_shipyard_runtime_and_the_model_pins(context: b.BuildContext) -> None:
    lines = [
        ln
        for ln in (context.path / "requirements.txt").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    assert lines == list(context.requirements)
    pins = dict(line.split("==", 1) for line in lines)
    assert all("==" in line for line in lines), lines
    by_name = {canonical_name(k): v for k, v in pins.items()}
    for line in (context.path / "model" / "requirements.txt").read_text().split():
        name, version = line.split("==")
        assert by_name[canonical_name(name)] == version  # the model's own pins are kept
    for dep in ("fastapi", "uvicorn", "pandas", "scikit-learn", "skops", "starlette"):
        assert by_name[dep] == metadata.version(dep)  # direct and transitive, as installed
    assert "shipyard" not in by_name  # it comes from the bundled wheel
    assert "pytest" not in by_name and "psycopg" not in by_name  # extras are not runtime


def test_without_a_source_tree_shipyard_is_pinned_from_pypi(
    churn: LogisticRegression, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(b, "project_root", lambda: None)  # as in a plain `pip install shipyard`
    ctx = b.build_context("churn/1", tmp_path / "ctx")
    assert ctx.shipyard_source == f"shipyard=={shipyard.__version__}"
    assert ctx.shipyard_source in ctx.requirements
    assert not (ctx.path / "wheels").exists()
    assert "wheels" not in (ctx.path / "Dockerfile").read_text().split("COPY model/")[0]


# --------------------------------------------------------------------------- the manifests


def test_manifests_validate_against_the_kubernetes_schemas(context: b.BuildContext) -> None:
    kinds = []
    for rel in MANIFESTS:
        doc = read_manifest(context, rel)
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        kinds.append((doc["apiVersion"], doc["kind"]))
    assert kinds == [
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ]


def test_the_validator_rejects_a_broken_manifest(context: b.BuildContext) -> None:
    doc = read_manifest(context, "k8s/deployment.yaml")
    doc["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eighty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    doc = read_manifest(context, "k8s/hpa.yaml")
    doc["spec"]["scaleTargetRef"]["replicas"] = 3  # unknown field: strict mode refuses it
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def probe_statuses(path: str) -> list[int]:
    """Status codes of ``path`` on the real model server, from its start until it is ready."""
    from shipyard.server.testing import serve_in_thread
    from shipyard.serving.app import create_app

    statuses: list[int] = []
    with serve_in_thread(create_app(["churn@champion"])) as url:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and statuses[-1:] != [200]:
            statuses.append(httpx.get(url + path).status_code)
            time.sleep(0.02)
    return statuses


def test_probes_and_ports_match_the_real_server(context: b.BuildContext) -> None:
    deploy = read_manifest(context, "k8s/deployment.yaml")
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        statuses = probe_statuses(container[probe]["httpGet"]["path"])
        assert statuses[-1] == 200 and set(statuses) <= {200, 503}, (probe, statuses)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    cmd = json.loads(instruction(context, "CMD")[0])
    assert ports == {"http": 8000} and cmd[cmd.index("--port") + 1] == "8000"
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert container["image"] == context.image
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    home = {m["mountPath"] for m in container["volumeMounts"]}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["SHIPYARD_HOME"] in home  # the server's only writable folder is a volume
    pod_labels = deploy["spec"]["template"]["metadata"]["labels"]
    selector = deploy["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items() and "shipyard.dev/model-version" not in selector
    svc = read_manifest(context, "k8s/service.yaml")
    assert svc["spec"]["selector"] == selector
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(80, "http")]
    hpa = read_manifest(context, "k8s/hpa.yaml")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deploy["metadata"]["name"] == "shipyard-churn"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    names = {read_manifest(context, rel)["metadata"]["name"] for rel in MANIFESTS}
    assert names == {"shipyard-churn"}


def test_options_flow_into_every_file(churn: LogisticRegression, tmp_path: Path) -> None:
    ctx = b.build_context(
        "churn",
        tmp_path / "ctx",
        image="registry.example.com:5000/team/churn:v1",
        port=9000,
        replicas=3,
        max_replicas=7,
        cpu_target=55,
        resources=b.Resources("500m", "1Gi", "2", "2Gi"),
        base_image="python:3.11.9-slim-bookworm",
        wheel=fake_wheel(tmp_path / "dist"),
    )
    for rel in MANIFESTS:
        kubernetes_validate.validate(read_manifest(ctx, rel), K8S_VERSION, strict=True)
    deploy = read_manifest(ctx, "k8s/deployment.yaml")
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example.com:5000/team/churn:v1"
    assert container["ports"][0]["containerPort"] == 9000 and deploy["spec"]["replicas"] == 3
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    hpa = read_manifest(ctx, "k8s/hpa.yaml")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 7)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 55
    assert instruction(ctx, "EXPOSE") == ["9000"]
    assert instruction(ctx, "FROM") == ["python:3.11.9-slim-bookworm"]
    cmd = json.loads(instruction(ctx, "CMD")[0])
    assert cmd[-2:] == ["--port", "9000"]
    assert ":9000/health/live" in instruction(ctx, "HEALTHCHECK")[0]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"image": "Churn:1"}, "'Churn' is not a valid repository name part"),
        ({"image": "churn:bad tag"}, "tag 'bad tag' is not a valid Docker tag"),
        ({"image": "churn@sha256:abc"}, "digest"),
        ({"port": 80}, "non-root user"),
        ({"port": 70000}, "1024-65535"),
        ({"replicas": 0}, "at least 1"),
        ({"replicas": 4, "max_replicas": 2}, "minReplicas <= maxReplicas"),
        ({"cpu_target": 0}, "between 1 and 100"),
        ({"resources": b.Resources(memory_request="lots")}, "memory request 'lots'"),
    ],
)
def test_bad_options_are_named(
    churn: LogisticRegression, tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        b.build_context("churn@champion", tmp_path / "ctx", **options)
    assert not (tmp_path / "ctx").exists()


def test_unknown_model_and_bad_wheel(churn: LogisticRegression, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="nope"):
        b.build_context("nope@champion", tmp_path / "ctx")
    with pytest.raises(NotFound):
        b.build_context("churn@challenger", tmp_path / "ctx")
    bad = tmp_path / "other-1.0-py3-none-any.whl"
    bad.write_bytes(b"")
    with pytest.raises(InvalidArgument, match="not a Shipyard wheel"):
        b.build_context("churn", tmp_path / "ctx", wheel=bad)
    assert not (tmp_path / "ctx").exists() and not list(tmp_path.glob(".ctx.tmp-*"))


def test_out_folder_is_never_clobbered(
    context: b.BuildContext, churn: LogisticRegression, tmp_path: Path
) -> None:
    wheel = tmp_path / "dist" / "shipyard-0.1.0-py3-none-any.whl"
    with pytest.raises(AlreadyExists, match="--force"):
        b.build_context("churn", context.path, wheel=wheel)
    (context.path / "model" / "marker").write_text("old")
    again = b.build_context("churn", context.path, wheel=wheel, force=True, port=8080)
    assert not (again.path / "model" / "marker").exists() and again.port == 8080
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(AlreadyExists, match="not a build context"):
        b.build_context("churn", precious, wheel=wheel, force=True)
    assert (precious / "thesis.tex").read_text() == "years of work"


# --------------------------------------------------------------------------- requirements


def test_model_pins_win_unless_they_break_a_dependency() -> None:
    requires = ["pandas>=2.1", "scikit-learn>=1.4"]
    numpy = metadata.version("numpy")
    lines = b.merged_requirements(
        [
            f"numpy=={numpy}",
            "lightgbm==4.5.0",  # not installed here: kept as the model pinned it
            "pywin32==306; sys_platform == 'win32'",  # not for a Linux container
            "shipyard==0.0.1",  # the bundled wheel provides Shipyard
            "# a comment",
        ],
        shipyard_requires=requires,
    )
    assert f"numpy=={numpy}" in lines and "lightgbm==4.5.0" in lines
    assert not any(ln.lower().startswith(("pywin32", "shipyard")) for ln in lines)
    assert f"pandas=={metadata.version('pandas')}" in lines
    with pytest.raises(InvalidArgument, match=r"pins numpy==1\.0\.0, but .* requires numpy"):
        b.merged_requirements(["numpy==1.0.0"], shipyard_requires=requires)
    ranged = b.merged_requirements(["numpy>=1"], shipyard_requires=requires)
    assert f"numpy=={numpy}" in ranged  # a range the installed version meets stays pinned
    with pytest.raises(InvalidArgument, match="malformed"):
        b.merged_requirements(["numpy=>1"], shipyard_requires=requires)


def test_runtime_closure_follows_dependencies_not_optional_extras() -> None:
    pins, edges = b.runtime_closure(["fastapi", "rich", 'pytest; extra == "test"'])
    assert pins["starlette"] == f"starlette=={metadata.version('starlette')}"  # transitive
    assert "pygments" in pins and "pytest" not in pins
    assert any(parent == "shipyard" for parent, _ in edges["fastapi"])
    missing, _ = b.runtime_closure(["surely-not-installed-dist>=2"])
    assert missing == {"surely-not-installed-dist": "surely-not-installed-dist>=2"}


def test_wheel_requires_reads_the_wheel_metadata(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path, ["numpy>=1.26", 'redis>=5; extra == "cache"'])
    assert b.wheel_requires(wheel) == ["numpy>=1.26", 'redis>=5; extra == "cache"']
    (tmp_path / "junk.whl").write_bytes(b"not a zip")
    with pytest.raises(InvalidArgument, match="cannot be read as a wheel"):
        b.wheel_requires(tmp_path / "junk.whl")


def test_project_root_is_this_source_tree() -> None:
    root = b.project_root()
    assert root is not None and (root / "src" / "shipyard" / "serving" / "build.py").is_file()


# --------------------------------------------------------------------------- names


def test_names_are_valid_kubernetes_names() -> None:
    assert b.k8s_name("churn") == "shipyard-churn"
    assert b.k8s_name("Fraud_Model.v2") == "shipyard-fraud-model-v2"
    long_a, long_b = b.k8s_name("a" * 200 + "x"), b.k8s_name("a" * 200 + "y")
    assert len(long_a) <= 63 and long_a != long_b
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", long_a)
    assert b.label_value("_odd.name_") == "odd.name"
    assert b.default_image("Fraud_Model", 4) == "shipyard-fraud-model:4"
    for ok in ("churn", "ghcr.io/acme/churn:3", "localhost:5000/churn", "a/b/c:v1.2-rc"):
        assert b.check_image(ok) == ok


# --------------------------------------------------------------------------- the command


def test_build_command(churn: LogisticRegression, tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    wheel = fake_wheel(tmp_path / "dist")
    out = tmp_path / "ctx"
    args = ["build", "churn@champion", "--out", str(out), "--wheel", str(wheel), "--replicas", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "docker build -t shipyard-churn:1" in result.output and "kubectl apply" in result.output
    assert yaml.safe_load((out / "k8s/hpa.yaml").read_text())["spec"]["minReplicas"] == 3
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--force" in again.output
    missing = runner.invoke(app, ["build", "ghost", "--out", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "ghost" in missing.output
