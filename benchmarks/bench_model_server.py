"""Figure: the model server under load, single-row requests, vs MLflow and BentoML.

Issue 5's targets: at concurrency 32 at least 10x MLflow's requests/s and 5x BentoML's with zero
errors; at concurrency 1 a p99 under 5 ms.

- **The model**, the same on every side: ``LogisticRegression(max_iter=10_000)`` (lbfgs, C=1,
  no scaling) fit on all 569 rows of scikit-learn's breast-cancer data (30 float64 columns), in
  each side's own venv by a ``prepare_*`` worker (untimed):
  - **shipyard**: fit on the DataFrame, registered as ``bc@champion`` (input example: the first
    5 rows) in a fresh store (``SHIPYARD_HOME`` in a temp folder), served by
    ``shipyard serve bc@champion --workers 1`` with the shipped defaults (micro-batching on,
    prediction logging on); **shipyard_nobatch** is the same server with ``--no-batching``.
    Requests: ``POST /v1/models/bc/predict`` ``{"records": [row]}`` (the answer carries the
    label, both class probabilities, the version and a prediction id).
  - **mlflow**: fit on the DataFrame, ``mlflow.sklearn.save_model(model, DIR,
    input_example=X.head())``, served by ``mlflow models serve -m DIR --env-manager local -w 1``;
    requests ``POST /invocations`` ``{"dataframe_records": [row]}``.
  - **bentoml**: fit on the NumPy array, saved with joblib, served by ``bentoml serve
    peer_bentoml:BreastCancer`` (``@bentoml.service(workers=1)``); requests ``POST /predict``
    ``{"rows": [[30 floats]]}`` (a ``np.ndarray`` parameter; records of named fields,
    ``/predict_records``, measured the same within noise: ``BENCH_BENTOML_FORM=records``).
  The row is the data's first row. Before any load each server's answer is checked against the
  label scikit-learn predicts for it.
- **Load**: ``wrk`` (Debian's 4.1) with a Lua script for the POST body, pinned to core 0 with
  ``taskset -c 0``; every server (and its children) pinned to core 1 with ``taskset -c 1``. All
  four servers stay up for the whole figure. After a warm-up (3 s at concurrency 32, per
  server), each sample runs ``wrk -t1 -cC -d10s --latency --timeout 10s`` once per side, the
  side order rotating between samples, first at concurrency 1, then at 32. Medians of
  ``--samples`` (default 5) for requests/s, p50 and p99; errors (non-2xx and socket errors)
  are summed over all samples and must be zero.
- **CPU per request**: user + system CPU seconds of the server's whole process tree (from
  ``/proc``) over each wrk run, divided by the requests answered: on a shared machine the
  throughput swings with what else runs on the server's core, the CPU each request costs much
  less.
- **Batch size**: Shipyard's ``shipyard_serving_batch_size`` histogram is read from its
  ``/metrics`` before and after its concurrency-32 runs; the mean is the difference of sums over
  the difference of counts.
- **Load average**: ``/proc/loadavg`` at the start and the end (the machine is shared).

``--quick``: 3 s runs, 1 s warm-up (and ``--samples 1`` if not given) for a smoke test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
BENCH_DIR = SCRIPT.parent
MODEL = "bc"
REF = f"{MODEL}@champion"
SIDES = ("shipyard", "shipyard_nobatch", "mlflow", "bentoml")
CONCURRENCY = (1, 32)
DURATION_S, QUICK_DURATION_S = 10, 3
WARMUP_S, QUICK_WARMUP_S = 3, 1
LOADGEN_CORE, SERVER_CORE = "0", "1"
TARGET_MLFLOW, TARGET_BENTOML, TARGET_P99_C1_MS = 10.0, 5.0, 5.0
MAX_ITER = 10_000


# --------------------------------------------------------------------------- prepare workers


def _data(*, frame: bool) -> tuple[Any, Any, list[str]]:
    """The breast-cancer features (a DataFrame, or a NumPy array where pandas is missing), the
    target and the column names."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=frame)
    return data.data, data.target, [str(c) for c in data.feature_names]


def _fit(X: Any, y: Any) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=MAX_ITER).fit(X, y)


def _row_and_label(model: Any, X: Any, names: list[str]) -> h.Json:
    first = X[:1]
    values = first.to_numpy()[0] if hasattr(first, "to_numpy") else first[0]
    row = {name: float(v) for name, v in zip(names, values, strict=True)}
    return {"row": row, "label": int(model.predict(first)[0])}


def prepare_shipyard(args: h.Json) -> h.Json:
    """Register ``bc@champion`` in the store under SHIPYARD_HOME."""
    import shipyard

    X, y, names = _data(frame=True)
    model = _fit(X, y)
    mv = shipyard.register_model(MODEL, model=model, input_example=X.head(), alias="champion")
    return {"version": mv.version, **_row_and_label(model, X, names)}


def prepare_mlflow(args: h.Json) -> h.Json:
    """Save the model as an MLflow model folder (sklearn flavor, with an input example)."""
    import mlflow.sklearn

    X, y, names = _data(frame=True)
    model = _fit(X, y)
    mlflow.sklearn.save_model(model, args["path"], input_example=X.head())
    return _row_and_label(model, X, names)


def prepare_bentoml(args: h.Json) -> h.Json:
    """Fit on the NumPy array (no pandas in BentoML's venv); save ``{"model", "columns"}``."""
    import joblib

    X, y, names = _data(frame=False)
    model = _fit(X, y)
    joblib.dump({"model": model, "columns": names}, args["path"])
    return _row_and_label(model, X, names)


# --------------------------------------------------------------------------- servers


def _server_cmd(side: str, port: int, work: Path) -> tuple[list[str], dict[str, str], str]:
    """The command (pinned to the server core), its extra environment and its ready path."""
    pin = ["taskset", "-c", SERVER_CORE]
    addr = ["--host", "127.0.0.1", "--port", str(port)]
    if side.startswith("shipyard"):
        cli = str(h.python_for("shipyard").parent / "shipyard")
        cmd = [*pin, cli, "serve", REF, "--workers", "1", *addr]
        if side == "shipyard_nobatch":
            cmd.append("--no-batching")
        return cmd, {"SHIPYARD_HOME": str(work / "shipyard-home")}, "/health/ready"
    if side == "mlflow":
        mlflow = str(h.python_for("mlflow").parent / "mlflow")
        cmd = [*pin, mlflow, "models", "serve", "-m", str(work / "mlflow-model")]
        # it runs a bare `uvicorn`: its venv's bin goes first on PATH
        path = f"{Path(mlflow).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return [*cmd, "--env-manager", "local", "-w", "1", *addr], {"PATH": path}, "/ping"
    bentoml = str(h.python_for("bentoml").parent / "bentoml")
    cmd = [*pin, bentoml, "serve", "peer_bentoml:BreastCancer", "--working-dir", str(BENCH_DIR)]
    env = {"BENCH_BC_MODEL": str(work / "bentoml-model.joblib"), "BENTOML_DO_NOT_TRACK": "true"}
    env["BENTOML_HOME"] = str(work / "bentoml-home")
    return [*cmd, *addr], env, "/readyz"


@contextmanager
def serve(side: str, work: Path, timeout: float = 180) -> Iterator[h.Server]:
    """Start ``side``'s model server pinned to the server core; stop its process group after."""
    port = h.free_port()
    cmd, extra, ready = _server_cmd(side, port, work)
    log = work / f"{side}-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=work,
            env=h.clean_env(extra),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = h.Server(side, f"http://127.0.0.1:{port}", port, proc, log)
    try:
        h._wait_ready(server, ready, timeout)
        yield server
    finally:
        h.stop_process_group(proc)


def _request(side: str, row: dict[str, float], form: str) -> tuple[str, dict[str, Any]]:
    """The path and JSON body of one single-row request to ``side``."""
    if side.startswith("shipyard"):
        return f"/v1/models/{MODEL}/predict", {"records": [row]}
    if side == "mlflow":
        return "/invocations", {"dataframe_records": [row]}
    if form == "records":
        return "/predict_records", {"records": [row]}
    return "/predict", {"rows": [list(row.values())]}


def _post(url: str, body: dict[str, Any]) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with opener.open(req, timeout=30) as resp:
        return json.loads(resp.read())


def _label_of(side: str, answer: Any) -> int:
    if side.startswith("shipyard") or side == "mlflow":
        return int(answer["predictions"][0])
    return int(answer[0])


# --------------------------------------------------------------------------- wrk


LUA = """wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
"""


def _lua(path: Path, body: dict[str, Any]) -> Path:
    text = json.dumps(body, separators=(",", ":"))
    path.write_text(LUA.format(body=json.dumps(text)))  # a JSON string is a valid Lua string
    return path


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"cannot read wrk's latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(out: str) -> h.Json:
    """Requests/s, p50/p90/p99 (ms), requests, non-2xx and socket errors from wrk's output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None:
        raise ValueError(f"cannot read wrk's output:\n{out}")
    result: h.Json = {"rps": float(rps.group(1)), "requests": int(total.group(1))}
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.MULTILINE)
        result[f"p{pct}_ms"] = None if match is None else round(_ms(match.group(1)), 3)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(int(g) for g in sock.groups()) if sock else 0
    result["errors"] = result["non_2xx"] + result["socket_errors"]
    return result


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> h.Json:
    """One wrk run pinned to the load-generator core."""
    cmd = ["taskset", "-c", LOADGEN_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    cmd += ["--latency", "--timeout", "10s", "-s", str(script), url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise h.WorkerFailed(f"wrk exited {proc.returncode}: {proc.stderr.strip()}")
    return parse_wrk(proc.stdout)


# --------------------------------------------------------------------------- CPU time


_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of ``root`` and every process below it (from /proc)."""
    total = 0
    for pid in h.descendants(root):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total * _TICK_S


# --------------------------------------------------------------------------- batch sizes


def batch_totals(url: str) -> tuple[float, float]:
    """(sum, count) of ``shipyard_serving_batch_size`` over every label set in ``/metrics``."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url + "/metrics", timeout=30) as resp:
        text = resp.read().decode()
    sums = re.findall(r"^shipyard_serving_batch_size_sum\{[^}]*\} (\S+)$", text, re.MULTILINE)
    counts = re.findall(r"^shipyard_serving_batch_size_count\{[^}]*\} (\S+)$", text, re.MULTILINE)
    return sum(map(float, sums)), sum(map(float, counts))


# --------------------------------------------------------------------------- the figure


def _loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def _prepare(work: Path) -> h.Json:
    """Fit and save the model on every side (each in its own venv); return the row and labels."""
    home = {"SHIPYARD_HOME": str(work / "shipyard-home")}
    found = {
        "shipyard": h.run_worker(SCRIPT, "shipyard", "prepare_shipyard", {}, cwd=work, env=home),
        "mlflow": h.run_worker(
            SCRIPT, "mlflow", "prepare_mlflow", {"path": str(work / "mlflow-model")}, cwd=work
        ),
        "bentoml": h.run_worker(
            SCRIPT, "bentoml", "prepare_bentoml", {"path": str(work / "bentoml-model.joblib")},
            cwd=work,
        ),
    }  # fmt: skip
    rows = {json.dumps(r["row"], sort_keys=True) for r in found.values()}
    if len(rows) != 1:
        raise h.WorkerFailed("the sides did not read the same first row")
    return found


def _stats(runs: list[h.Json]) -> h.Json:
    def med(key: str) -> float | None:
        values = [r[key] for r in runs if r.get(key) is not None]
        return statistics.median(values) if values else None

    return {
        "rps": med("rps"),
        "p50_ms": med("p50_ms"),
        "p99_ms": med("p99_ms"),
        "cpu_ms_per_request": med("cpu_ms_per_request"),
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "runs": runs,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def _measure_all(
    servers: dict[str, h.Server], scripts: dict[str, Path], opts: h.Options, form: str
) -> h.Json:
    seconds = QUICK_DURATION_S if opts.quick else DURATION_S
    runs: dict[int, dict[str, list[h.Json]]] = {c: {s: [] for s in servers} for c in CONCURRENCY}
    batches = [0.0, 0.0]
    for i in range(opts.samples):
        for conc in CONCURRENCY:
            for side in h.rotated(tuple(servers), i):
                url = servers[side].url + _request(side, {}, form)[0]
                before = (
                    batch_totals(servers[side].url) if side == "shipyard" and conc > 1 else None
                )
                cpu0 = tree_cpu_s(servers[side].proc.pid)
                result = run_wrk(url, scripts[side], conc, seconds)
                cpu = tree_cpu_s(servers[side].proc.pid) - cpu0
                result["cpu_ms_per_request"] = (
                    round(cpu * 1000 / result["requests"], 3) if result["requests"] else None
                )
                if before is not None:
                    after = batch_totals(servers[side].url)
                    batches[0] += after[0] - before[0]
                    batches[1] += after[1] - before[1]
                runs[conc][side].append(result)
                h.log(
                    f"c{conc} {side} #{i + 1}/{opts.samples}: {result['rps']:.0f} req/s, "
                    f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
                    f"{result['cpu_ms_per_request']} ms CPU/request, errors {result['errors']}"
                )
    cases: h.Json = {"unit": "req/s", "better": "higher"}
    for conc in CONCURRENCY:
        cases[f"c{conc}"] = {side: _stats(runs[conc][side]) for side in servers}
    cases["mean_batch_size_c32"] = round(batches[0] / batches[1], 2) if batches[1] else None
    return cases


def _verdict(cases: h.Json, sides: tuple[str, ...], samples: int) -> h.Json:
    c1, c32 = cases["c1"], cases["c32"]
    ours = c32.get("shipyard", {}).get("rps")
    summary: h.Json = {
        "ratio_vs_mlflow_c32": _ratio(ours, c32.get("mlflow", {}).get("rps")),
        "ratio_vs_bentoml_c32": _ratio(ours, c32.get("bentoml", {}).get("rps")),
        "ratio_vs_mlflow_c1": _ratio(
            c1.get("shipyard", {}).get("rps"), c1.get("mlflow", {}).get("rps")
        ),
        "ratio_vs_bentoml_c1": _ratio(
            c1.get("shipyard", {}).get("rps"), c1.get("bentoml", {}).get("rps")
        ),
        "batching_on_vs_off_c32": _ratio(ours, c32.get("shipyard_nobatch", {}).get("rps")),
        "cpu_per_request_vs_mlflow_c32": _ratio(
            c32.get("mlflow", {}).get("cpu_ms_per_request"),
            c32.get("shipyard", {}).get("cpu_ms_per_request"),
        ),
        "cpu_per_request_vs_bentoml_c32": _ratio(
            c32.get("bentoml", {}).get("cpu_ms_per_request"),
            c32.get("shipyard", {}).get("cpu_ms_per_request"),
        ),
        "mean_batch_size_c32": cases["mean_batch_size_c32"],
        "ratio_meaning": "shipyard req/s / peer req/s (times more)",
    }
    errors = sum(cases[f"c{c}"][s]["errors"] for c in CONCURRENCY for s in sides if s in c1)
    p99 = c1.get("shipyard", {}).get("p99_ms")
    met: dict[str, bool | None] = {
        f"c32 >= {TARGET_MLFLOW:g}x mlflow": (
            None
            if summary["ratio_vs_mlflow_c32"] is None
            else summary["ratio_vs_mlflow_c32"] >= TARGET_MLFLOW
        ),
        f"c32 >= {TARGET_BENTOML:g}x bentoml": (
            None
            if summary["ratio_vs_bentoml_c32"] is None
            else summary["ratio_vs_bentoml_c32"] >= TARGET_BENTOML
        ),
        f"c1 p99 < {TARGET_P99_C1_MS:g} ms": None if p99 is None else p99 < TARGET_P99_C1_MS,
        "zero errors": errors == 0,
    }
    complete = all(
        len(cases[f"c{c}"][s]["runs"]) >= samples for c in CONCURRENCY for s in sides if s in c1
    )
    summary["target"] = {
        "text": "; ".join(met),
        "each": met,
        "met": all(v is not False for v in met.values()),
    }
    summary["complete"] = complete and all(v is not None for v in met.values())
    return summary


def measure(opts: h.Options) -> h.Json:
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        raise SystemExit(
            "bench_model_server needs wrk and taskset (apt-get install wrk util-linux)"
        )
    form = os.environ.get("BENCH_BENTOML_FORM", "array")
    load_before = _loadavg()
    with h.fresh_dir("model-server") as work, ExitStack() as stack:
        h.log("fitting and saving the model on every side")
        prepared = _prepare(work)
        row = prepared["shipyard"]["row"]
        servers: dict[str, h.Server] = {}
        scripts: dict[str, Path] = {}
        for side in opts.sides:
            h.log(f"starting {side}'s server")
            servers[side] = stack.enter_context(serve(side, work))
            path, body = _request(side, row, form)
            want = prepared["shipyard" if side.startswith("shipyard") else side]["label"]
            got = _label_of(side, _post(servers[side].url + path, body))
            if got != want:
                raise h.WorkerFailed(f"{side} predicted {got} for the first row, expected {want}")
            scripts[side] = _lua(work / f"{side}.lua", body)
            warm = QUICK_WARMUP_S if opts.quick else WARMUP_S
            run_wrk(servers[side].url + path, scripts[side], 32, warm)
        cases = _measure_all(servers, scripts, opts, form)
    cases.update(_verdict(cases, opts.sides, opts.samples))
    cases["setup"] = {
        "duration_s": QUICK_DURATION_S if opts.quick else DURATION_S,
        "concurrency": list(CONCURRENCY),
        "bentoml_form": form,
        "loadavg_before": load_before,
        "loadavg_after": _loadavg(),
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[
            :1
        ],
        "model": f"LogisticRegression(max_iter={MAX_ITER}) on load_breast_cancer (569 x 30)",
    }
    return cases


if __name__ == "__main__":
    if "--quick" in sys.argv and "--samples" not in sys.argv and "--worker" not in sys.argv:
        sys.argv += ["--samples", "1"]
    h.main(
        figure="model_server",
        description="model server, single-row requests, wrk at concurrency 1 and 32 (req/s)",
        measure=lambda opts: {"model_server": measure(opts)},
        workers={
            "prepare_shipyard": prepare_shipyard,
            "prepare_mlflow": prepare_mlflow,
            "prepare_bentoml": prepare_bentoml,
        },
        sides=SIDES,
    )
