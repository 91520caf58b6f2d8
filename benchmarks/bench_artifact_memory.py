"""Figure 4: server memory while a 200 MiB artifact goes up and comes back down, MiB above idle.

Each sample starts a fresh server on a fresh store (Shipyard: ``shipyard server``; MLflow:
``mlflow server --workers 1``, which proxies artifacts by default in 3.x). The client worker
first moves a 1 KiB artifact up and down (so lazy imports and first-request set-up are not
counted), then reports ready; the harness takes the server's idle RSS for 1 s, releases the
worker, and samples the server's RSS (``/proc/<pid>/status`` VmRSS, every
20 ms) while the client uploads 200 MiB of random bytes and downloads them again. The sample is
the peak minus idle of the process that holds the listening socket (MLflow's server also runs a
job runner and huey consumers beside it; the whole tree's peak above idle is recorded as
``tree_above_idle_mib``). The worker checks the downloaded file's SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from pathlib import Path

import _harness as h

SCRIPT = Path(__file__).resolve()
MIB = 1024 * 1024
SIZE_MIB = 200
CHUNK = 4 * MIB


def make_file(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path``; return their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        for start in range(0, size, CHUNK):
            block = os.urandom(min(CHUNK, size - start))
            digest.update(block)
            fh.write(block)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _downloaded(returned: object, dst: Path, name: str) -> Path:
    path = Path(str(returned)) if returned else dst
    if path.is_file():
        return path
    found = sorted(dst.rglob(name))
    if not found:
        h.fail(f"download wrote no {name} under {dst} (returned {returned!r})")
    return found[0]


def _verify(side: str, path: Path, args: h.Json) -> None:
    if _sha256(path) != args["sha256"]:
        h.fail(f"{side}: the downloaded {path.name} differs from the uploaded file")


def shipyard_worker(args: h.Json) -> h.Json:
    import shipyard

    src, small, dst = Path(args["src"]), Path(args["small"]), Path(args["dst"])
    with shipyard.start_run(experiment="bench", name="artifact") as run:
        shipyard.log_artifact(small, artifact_path="warm")
        shipyard.download_artifacts(run.run_id, f"warm/{small.name}", dst / "warm")
        h.wait_for_go()
        t0 = time.perf_counter()
        shipyard.log_artifact(src, artifact_path="x")
        t1 = time.perf_counter()
    got = shipyard.download_artifacts(run.run_id, f"x/{src.name}", dst / "big")
    t2 = time.perf_counter()
    _verify("shipyard", _downloaded(got, dst / "big", src.name), args)
    return {"upload_s": t1 - t0, "download_s": t2 - t1}


def mlflow_worker(args: h.Json) -> h.Json:
    import mlflow  # type: ignore[import-not-found, unused-ignore]

    src, small, dst = Path(args["src"]), Path(args["small"]), Path(args["dst"])
    mlflow.set_tracking_uri(args["uri"])
    mlflow.set_experiment("bench")
    download = mlflow.artifacts.download_artifacts
    with mlflow.start_run(run_name="artifact") as run:
        run_id = run.info.run_id
        mlflow.log_artifact(str(small), artifact_path="warm")
        (dst / "warm").mkdir(parents=True)
        download(run_id=run_id, artifact_path=f"warm/{small.name}", dst_path=str(dst / "warm"))
        h.wait_for_go()
        t0 = time.perf_counter()
        mlflow.log_artifact(str(src), artifact_path="x")
        t1 = time.perf_counter()
    (dst / "big").mkdir(parents=True)
    got = download(run_id=run_id, artifact_path=f"x/{src.name}", dst_path=str(dst / "big"))
    t2 = time.perf_counter()
    _verify("mlflow", _downloaded(got, dst / "big", src.name), args)
    return {"upload_s": t1 - t0, "download_s": t2 - t1}


def _measure(side: str, files: h.Json) -> h.Json:
    with h.fresh_dir(f"{side}-artifact") as tmp, h.serve(side, tmp) as server:
        pid, root = server.listener(), server.proc.pid
        idle = h.RssSampler(pid, root)
        busy = h.RssSampler(pid, root)

        def take_idle() -> None:
            h.settle(root)
            with idle:
                time.sleep(1.0)
            busy.start()

        env = {"SHIPYARD_HOME": str(tmp / "client-home"), "SHIPYARD_TRACKING_URI": server.url}
        args = {**files, "uri": server.url, "dst": str(tmp / "downloads")}
        try:
            (result,) = h.run_workers_together(
                SCRIPT, side, side, [args], cwd=tmp, env=env, on_ready=take_idle
            )
        finally:
            busy.stop()
        idle_kib = statistics.median(idle.samples)
        idle_tree_kib = statistics.median(idle.tree_samples)
        return {
            **result,
            "value": (max(busy.samples) - idle_kib) / 1024,
            "idle_mib": idle_kib / 1024,
            "peak_mib": max(busy.samples) / 1024,
            "tree_processes": len(h.descendants(root)),
            "tree_above_idle_mib": (max(busy.tree_samples) - idle_tree_kib) / 1024,
            "tree_idle_mib": idle_tree_kib / 1024,
            "rss_samples": len(busy.samples),
        }


def measure(opts: h.Options) -> h.Json:
    size_mib = 20 if opts.quick else SIZE_MIB
    with h.fresh_dir("artifact-data") as data:
        src, small = data / "file.bin", data / "small.bin"
        h.log(f"writing {size_mib} MiB of random bytes")
        files = {"src": str(src), "small": str(small), "sha256": make_file(src, size_mib * MIB)}
        make_file(small, 1024)
        series = h.alternate(opts, lambda side, _: _measure(side, files), label="artifact")
    case = h.summarize(
        series,
        unit="MiB above idle",
        better="lower",
        target=h.Target("below", 100, "Shipyard server < 100 MiB above idle"),
        require_all=opts.samples,
    )
    case["artifact_mib"] = size_mib
    return {"server_rss": case}


if __name__ == "__main__":
    h.main(
        figure="artifact_memory",
        description=f"peak server RSS above idle while a {SIZE_MIB} MiB artifact is uploaded "
        "and downloaded (MiB)",
        measure=measure,
        workers={"shipyard": shipyard_worker, "mlflow": mlflow_worker},
    )
