"""Figure: batch prediction of 1,000,000 rows, Parquet to Parquet, vs the same work by hand.

Issue 5's target: ``shipyard predict`` within 1.5x of doing the work by hand in-process.

- **Data** (``prepare`` worker, untimed, once per figure): a ``LogisticRegression`` fit on
  scikit-learn's breast-cancer data (30 float64 features) and registered as ``bc@champion`` in
  a fresh store; 1,000,000 rows sampled from the data with replacement, each value times
  ``1 + N(0, 0.01)`` (NumPy generator, seed 0), plus an int64 ``id``, written once to Parquet
  (pyarrow defaults, snappy). The model is loaded once there, so its package is in the local
  cache for every worker.
- **shipyard**: ``predict_batch("bc@champion", in, out, key="id")`` in-process, default chunk
  size and workers (one thread per CPU). The clock covers the whole call: resolving the alias,
  loading the model from the cache (manifest check, skops), streaming the chunks, predicting
  (signature checks, ``predict_proba``, the prediction read off it), ids, writing and the final
  rename.
  Imports come first, untimed (one call on a 1,000-row file).
- **by_hand**: ``pq.read_table`` → ``to_pandas`` → ``predict_proba`` of the scikit-learn model
  on the 30 feature columns → ``pq.write_table`` of ``id`` and the two probabilities. The model
  is loaded before the clock starts.
- **cli** (once, for reference): ``shipyard predict bc@champion --input … --output … --key id``
  as a subprocess, wall time including interpreter start and imports.

Every sample runs each side in a fresh worker process, the order alternating; medians of
``--samples`` (default 5). Peak RSS is sampled every 20 ms during the timed part (the CLI's in
its own process), and the CPU time of all the process's threads is recorded (``cpu_s``: on a
machine busy with other work, wall times swing far more than CPU seconds). Each worker checks
its output: 1,000,000 rows, ids in order, and (shipyard) probabilities equal to the model's on
the first 1,000 rows and unique prediction ids. (Shipyard skips the signature checks for a
chunk whose columns already have the signature's exact dtypes, float64 here: they would return
the frame unchanged.)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
ROWS = 1_000_000
QUICK_ROWS = 100_000
SEED = 0
MODEL = "bc"
REF = f"{MODEL}@champion"
TARGET_RATIO = 1.5
SIDES = ("shipyard", "by_hand")


# --------------------------------------------------------------------------- workers


def prepare_worker(args: h.Json) -> h.Json:
    """Register the model in the store under SHIPYARD_HOME and write the input file."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    import shipyard

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=10_000).fit(X, y)
    mv = shipyard.register_model(MODEL, model=model, input_example=X.head(), alias="champion")
    shipyard.load_model(REF)  # puts the package in the local cache
    rng = np.random.default_rng(args["seed"])
    rows = args["rows"]
    values = X.to_numpy()[rng.integers(0, len(X), rows)]
    values *= 1.0 + rng.normal(0.0, 0.01, values.shape)
    columns = {"id": np.arange(rows, dtype=np.int64)}
    columns.update({name: values[:, j] for j, name in enumerate(X.columns)})
    table = pa.table(columns)
    pq.write_table(table, args["input"])
    pq.write_table(table.slice(0, 1000), args["warmup"])
    return {
        "version": mv.version,
        "columns": table.num_columns,
        "arrow_mib": round(table.nbytes / 2**20, 1),
        "file_mib": round(os.path.getsize(args["input"]) / 2**20, 1),
    }


def measured(run: Callable[[], Any]) -> tuple[float, Any, int, int, float]:
    """Call ``run()`` once: (seconds, result, RSS before, peak RSS during (KiB), CPU seconds
    of all the process's threads)."""
    pid = os.getpid()
    before = h.rss_kib(pid)
    with h.RssSampler(pid, pid) as sampler:
        c0, t0 = time.process_time(), time.perf_counter()
        result = run()
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    return elapsed, result, before, max([*sampler.samples, h.rss_kib(pid)]), cpu


def memory(before: int, peak: int, cpu: float) -> h.Json:
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "cpu_s": round(cpu, 4),
        "rss_before_mib": round(before / 1024, 1),
        "rss_peak_mib": round(peak / 1024, 1),
        "rss_peak_above_before_mib": round((peak - before) / 1024, 1),
        "ru_maxrss_mib": round(maxrss / 1024, 1),
    }


def shipyard_worker(args: h.Json) -> h.Json:
    """Time one in-process ``predict_batch`` over the whole file."""
    from shipyard.serving.batch import predict_batch

    predict_batch(REF, args["warmup"], "warmup-out.parquet", key="id")  # imports, untimed
    output = str(Path("out.parquet").resolve())
    elapsed, result, before, peak, cpu = measured(
        lambda: predict_batch(REF, args["input"], output, key="id")
    )
    _check_shipyard(args, output)
    return {
        "value": elapsed,
        "rows": result.rows,
        "chunks": result.chunks,
        "workers": os.cpu_count(),
        **memory(before, peak, cpu),
    }


def _check_shipyard(args: h.Json, output: str) -> None:
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    import shipyard

    out = pq.read_table(output)
    _check_ids(out, args["rows"])
    if pc.count_distinct(out.column("prediction_id")).as_py() != args["rows"]:
        h.fail("prediction ids are not unique")
    model = shipyard.load_model(REF)
    head = pq.read_table(args["input"]).slice(0, 1000).to_pandas()
    want = model.native.predict_proba(head[list(model.signature.columns)])[:, 1]
    got = out.column("proba_1").slice(0, 1000).to_numpy()
    if not np.allclose(want, got):
        h.fail("proba_1 differs from the model's predict_proba")


def _check_ids(table: Any, rows: int) -> None:
    import numpy as np

    if table.num_rows != rows:
        h.fail(f"the output has {table.num_rows} rows, expected {rows}")
    if not np.array_equal(table.column("id").to_numpy(), np.arange(rows)):
        h.fail("the output's ids are not the input's, in order")


def by_hand_worker(args: h.Json) -> h.Json:
    """Time read_table → to_pandas → predict_proba → write_table, all in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import shipyard

    native = shipyard.load_model(REF).native
    features = list(native.feature_names_in_)
    warm = pq.read_table(args["warmup"]).to_pandas()
    native.predict_proba(warm[features])  # imports and first-call set-up, untimed

    def run() -> int:
        frame = pq.read_table(args["input"]).to_pandas()
        proba = native.predict_proba(frame[features])
        out = pa.table(
            {"id": frame["id"].to_numpy(), "proba_0": proba[:, 0], "proba_1": proba[:, 1]}
        )
        pq.write_table(out, "by-hand.parquet")
        return out.num_rows

    elapsed, rows, before, peak, cpu = measured(run)
    _check_ids(pq.read_table("by-hand.parquet"), args["rows"])
    return {"value": elapsed, "rows": rows, **memory(before, peak, cpu)}


def cli_worker(args: h.Json) -> h.Json:
    """Time ``shipyard predict`` as a subprocess (wall time, its peak RSS)."""
    import pyarrow.parquet as pq

    cmd = [*_cli(), "predict", REF, "--input", args["input"], "--output", "cli.parquet"]
    cmd += ["--key", "id"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with h.RssSampler(proc.pid, proc.pid) as sampler:
        stdout, stderr = proc.communicate()
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        h.fail(f"shipyard predict exited {proc.returncode}: {stderr[-2000:]}")
    _check_ids(pq.read_table("cli.parquet"), args["rows"])
    return {
        "value": elapsed,
        "rss_peak_mib": round(max(sampler.samples or [0]) / 1024, 1),
        "command": " ".join(cmd[-9:]),
        "stdout": stdout.strip(),
    }


def _cli() -> list[str]:
    """``shipyard`` if its ``predict`` command is registered, else the same app built here."""
    exe = Path(sys.executable).parent / "shipyard"
    probe = subprocess.run([str(exe), "predict", "--help"], capture_output=True)
    if probe.returncode == 0:
        return [str(exe)]
    code = (
        "import typer; from shipyard.cli.predict import register; "
        "app = typer.Typer(); register(app); app()"
    )
    return [sys.executable, "-c", code]


# --------------------------------------------------------------------------- the figure


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _side(series: h.Series, side: str, samples: int) -> h.Json:
    details = series.details.get(side, [])
    entry: h.Json = {
        "median": _median(series.samples.get(side, [])),
        "samples": series.samples.get(side, []),
        "rss_peak_mib_median": _median([float(d["rss_peak_mib"]) for d in details]),
        "cpu_s_median": _median([float(d["cpu_s"]) for d in details]),
        "complete": side not in series.errors and len(details) >= samples,
        "runs": details,
    }
    if side in series.errors:
        entry["error"] = series.errors[side]
    return entry


def _case(series: h.Series, samples: int, cli: h.Json | None, data: h.Json) -> h.Json:
    ours, theirs = _side(series, "shipyard", samples), _side(series, "by_hand", samples)
    ratio = ours["median"] / theirs["median"] if ours["median"] and theirs["median"] else None
    return {
        "unit": "s",
        "better": "lower",
        "shipyard": ours,
        "by_hand": theirs,
        "ratio": ratio,
        "ratio_meaning": "shipyard predict_batch / by hand in memory (times slower)",
        "rss_ratio": (
            ours["rss_peak_mib_median"] / theirs["rss_peak_mib_median"]
            if ours["rss_peak_mib_median"] and theirs["rss_peak_mib_median"]
            else None
        ),
        "rss_ratio_meaning": "shipyard / by hand peak RSS during the timed part",
        "cpu_ratio": (
            ours["cpu_s_median"] / theirs["cpu_s_median"]
            if ours["cpu_s_median"] and theirs["cpu_s_median"]
            else None
        ),
        "cpu_ratio_meaning": "shipyard / by hand CPU seconds (all threads) in the timed part",
        "cli": cli,
        "target": {
            "text": f"predict_batch within {TARGET_RATIO:g}x of the by-hand time",
            "met": None if ratio is None else ratio <= TARGET_RATIO,
        },
        "complete": ours["complete"] and theirs["complete"],
        "data": data,
    }


def measure(opts: h.Options) -> h.Json:
    rows = QUICK_ROWS if opts.quick else ROWS
    with h.fresh_dir("batch-predict-data") as data:
        env = {"SHIPYARD_HOME": str(data / "home")}
        args: h.Json = {
            "rows": rows,
            "seed": SEED,
            "input": str(data / "input.parquet"),
            "warmup": str(data / "warmup.parquet"),
        }
        h.log(f"registering the model and writing {rows:,} rows to {args['input']}")
        shape = h.run_worker(SCRIPT, "shipyard", "prepare", args, cwd=data, env=env)

        def one(side: str, i: int) -> h.Json:
            with h.fresh_dir("batch-predict") as tmp:
                return h.run_worker(SCRIPT, "shipyard", side, args, cwd=tmp, env=env)

        both = h.Options(samples=opts.samples, sides=SIDES, quick=opts.quick)
        series = h.alternate(both, one, label="batch_predict", rotate=True)
        cli: h.Json | None = None
        try:
            cli = one("cli", 0)
            h.log(f"batch_predict cli: value={cli['value']:.6g}")
        except (h.WorkerFailed, OSError) as exc:
            cli = {"error": str(exc)}
    return {"batch_predict": _case(series, opts.samples, cli, {"rows": rows, **shape})}


if __name__ == "__main__":
    if "--worker" not in sys.argv:  # no peer: Shipyard against the same work done by hand
        if "--sides" in sys.argv:
            at = sys.argv.index("--sides")
            del sys.argv[at : at + 2]
        sys.argv += ["--sides", "shipyard"]
    h.main(
        figure="batch_predict",
        description=f"batch prediction of {ROWS:,} rows Parquet to Parquet vs by hand (s)",
        measure=measure,
        workers={
            "prepare": prepare_worker,
            "shipyard": shipyard_worker,
            "by_hand": by_hand_worker,
            "cli": cli_worker,
        },
    )
