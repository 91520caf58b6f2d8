"""Figure: a monitor over 100,000 logged predictions — labels in, one full check out.

No peer: Shipyard only (Evidently's side of drift is ``bench_drift.py``). Each sample is a fresh
worker with a fresh store in a temp folder. Untimed setup: 100,000 customers with 8 numeric and
2 categorical columns from a seeded generator, stored as the reference dataset; a logistic
regression trained on them and registered; 100,000 predictions of a shifted population written
to the prediction log in 100 calls of 1,000 rows (as the model server does), each row with a
``customer_id`` and a time. Timed, in order:

- ``feedback_by_id``: ``log_feedback`` of 100,000 labels keyed by prediction id (checked against
  the log, stored in one transaction);
- ``feedback_by_key``: the same labels keyed by ``customer_id`` and a time (each matched to the
  newest earlier prediction of that customer by an ASOF join over the log), replacing the first;
- ``check``: ``run_monitor`` over the last 100,000 predictions: drift of the 10 inputs against
  the reference, classification metrics on the 100,000 labelled rows, latency/throughput, the
  HTML/JSON reports, the history row and the alert rules.

The worker checks the results: 100,000 labels stored each time, the shifted columns flagged,
ROC AUC equal to scikit-learn's on the same rows.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
ROWS = 100_000
QUICK_ROWS = 10_000
KEYS = ("feedback_by_id", "feedback_by_key", "check")


def _frame(rows: int, seed: int, shift: bool) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {f"n{i}": rng.normal(i, 1 + i / 4, rows) for i in range(8)}
    if shift:
        cols["n0"] = cols["n0"] + 0.5
    plans = ["basic", "pro", "team"]
    cols["plan"] = rng.choice(plans, rows, p=[0.2, 0.5, 0.3] if shift else [0.5, 0.3, 0.2])
    cols["region"] = rng.choice([f"r{i}" for i in range(12)], rows)
    frame = pd.DataFrame(cols)
    score = frame["n0"] - frame["n1"] + (frame["plan"] == "pro") + rng.normal(0, 1, rows)
    frame["label"] = (score > 0).astype(int)
    return frame


def _setup(rows: int, seed: int) -> tuple[list[str], Any, Any]:
    import datetime as dt

    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    import shipyard
    from shipyard.serving.predictions import PredictionLog, default_root
    from shipyard.tracking.fluent import services

    ref = _frame(rows, seed, shift=False)
    features = [c for c in ref.columns if c != "label"]
    shipyard.ingest_dataset(ref, name="customers")
    prep = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["plan", "region"])],
        remainder="passthrough",
    )
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=500))])
    model.fit(ref[features], ref["label"])
    shipyard.register_model("bench", model=model, input_example=ref[features].head(50))
    cur = _frame(rows, seed + 1, shift=True)
    proba = model.predict_proba(cur[features])
    ids = [f"p{i:07d}" for i in range(rows)]
    cur["customer_id"] = np.arange(rows)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with PredictionLog(default_root(services().settings), flush_rows=10_000) as plog:
        for k in range(0, rows, 1_000):
            part = cur.iloc[k : k + 1_000]
            outputs = {
                "prediction": (proba[k : k + 1_000, 1] >= 0.5).astype(int),
                "proba_0": proba[k : k + 1_000, 0],
                "proba_1": proba[k : k + 1_000, 1],
            }
            inputs = part[[*features, "customer_id"]].to_dict("records")
            when = start + dt.timedelta(milliseconds=k)
            plog.log("bench", 1, inputs, outputs, ids[k : k + 1_000], latency_ms=3.0, ts=when)
    labels_at = dt.datetime.now(dt.UTC)
    return ids, cur.assign(ts=labels_at), proba


def shipyard_worker(args: h.Json) -> h.Json:
    from sklearn.metrics import roc_auc_score

    import shipyard
    from shipyard.monitoring.monitors import Monitor

    rows = args["rows"]
    ids, cur, proba = _setup(rows, args["seed"])
    pid = os.getpid()
    out: h.Json = {}
    with h.RssSampler(pid, pid) as sampler:
        t0 = time.perf_counter()
        by_id = shipyard.log_feedback("bench", {"prediction_id": ids, "label": cur["label"]})
        out["feedback_by_id"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        by_key = shipyard.log_feedback(
            "bench", cur[["customer_id", "ts", "label"]], keys=["customer_id"]
        )
        out["feedback_by_key"] = time.perf_counter() - t0
        monitor = Monitor.from_dict(
            "bench-live",
            {"model": "bench/1", "window": {"rows": rows}, "reference": "customers",
             "alerts": {"rules": ["drift_share > 0.1", "roc_auc < 0.9"]}},
        )  # fmt: skip
        t0 = time.perf_counter()
        outcome = shipyard.run_monitor(monitor)
        out["check"] = time.perf_counter() - t0
    if by_id.stored != rows or by_key.stored != rows or by_key.replaced != rows:
        h.fail(f"labels stored {by_id} {by_key}, expected {rows} each")
    drifted = set(outcome.check.details["drift"]["drifted_columns"])
    if not {"n0", "plan"} <= drifted:
        h.fail(f"drifted columns {sorted(drifted)} miss n0 and plan")
    expected = roc_auc_score(cur["label"], proba[:, 1])
    if abs((outcome.metrics["roc_auc"] or 0) - expected) > 1e-9:
        h.fail(f"roc_auc {outcome.metrics['roc_auc']} != scikit-learn's {expected}")
    out["peak_rss_mib"] = max([*sampler.samples, h.rss_kib(pid)]) / 1024
    out["drifted"] = sorted(drifted)
    out["value"] = out["check"]
    return out


def measure(opts: h.Options) -> h.Json:
    rows = QUICK_ROWS if opts.quick else ROWS

    def one(side: str, i: int) -> h.Json:
        with h.fresh_dir("monitor") as tmp:
            env = {"SHIPYARD_HOME": str(tmp / ".shipyard")}
            return h.run_worker(SCRIPT, side, side, {"rows": rows, "seed": i}, cwd=tmp, env=env)

    runs = h.alternate(opts, one, label="monitor")
    cases = {}
    for key in KEYS:
        series = h.Series(
            {s: [float(r[key]) for r in runs.details[s]] for s in runs.samples},
            runs.details,
            runs.errors,
        )
        cases[f"{key}_{rows}"] = h.summarize(
            series, unit="s", better="lower", require_all=opts.samples
        )
    return cases


if __name__ == "__main__":
    import sys

    if "--worker" not in sys.argv:  # no peer for this figure: Shipyard's side only
        if "--sides" in sys.argv:
            at = sys.argv.index("--sides")
            del sys.argv[at : at + 2]
        sys.argv += ["--sides", "shipyard"]
    h.main(
        figure="monitor",
        description=f"labels in and one monitor check over {ROWS:,} logged predictions (s)",
        measure=measure,
        workers={"shipyard": shipyard_worker},
    )
