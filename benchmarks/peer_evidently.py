"""Evidently's side of ``bench_drift.py``: ``Report([DataDriftPreset()])`` on the same frames.

Runs in Evidently's own venv (``benchmarks/.peers/evidently``: Evidently 0.7, pandas<3). Both
Parquet files are read into pandas frames (untimed; categorical columns as Python strings, as
Evidently expects), wrapped in ``Dataset.from_pandas`` with a ``DataDefinition`` naming the 20
numeric and 5 categorical columns (timed apart, ``dataset_s``), then
``Report([DataDriftPreset()]).run(current, reference)`` is timed with peak RSS sampled the same
way as Shipyard's (``bench_validation.measured``). The whole path from the files to the report
(read, convert, ``Dataset``, run) is timed and sampled too (``files_run``), to set beside
Shipyard's drift straight from the files. Evidently's defaults at these sizes: normed
Wasserstein distance (threshold 0.1) for numeric columns and Jensen-Shannon distance (0.1) for
categorical ones; a column drifts when its score reaches the threshold (for a p-value test: when
its p-value falls below it). With ``pvalue_mode`` the worker also runs, untimed, the preset with
``num_method="ks", cat_method="chisquare"`` and reports those flags too.
"""

from __future__ import annotations

import os
import time
from typing import Any

import _harness as h
import bench_drift as bd
import bench_validation as bv

# Evidently tests whose score is a p-value (a column drifts when it falls below the threshold),
# by the name passed as a method or shown by default ("K-S p_value", "chi-square p_value").
P_VALUE_TESTS = frozenset({"ks", "chisquare", "z", "t_test", "mannw", "fisher_exact", "g_test"})


def _datasets(args: h.Json) -> tuple[Any, Any, float]:
    from evidently import DataDefinition, Dataset

    ref = bv.read_table(args["ref"]).to_pandas()
    cur = bv.read_table(args["cur"]).to_pandas()
    bv.release_memory()
    definition = DataDefinition(
        numerical_columns=list(bd.NUMERIC), categorical_columns=list(bd.CATEGORICAL)
    )
    t0 = time.perf_counter()
    ref_ds = Dataset.from_pandas(ref, data_definition=definition)
    cur_ds = Dataset.from_pandas(cur, data_definition=definition)
    return ref_ds, cur_ds, time.perf_counter() - t0


def _columns(snapshot: Any) -> h.Json:
    """Per column: Evidently's method, score, threshold and whether it drifted."""
    out: h.Json = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config.get("type", "").endswith("ValueDrift"):
            continue
        method, score, threshold = config["method"], float(metric["value"]), config["threshold"]
        p_value = method in P_VALUE_TESTS or "p_value" in method
        out[config["column"]] = {
            "method": method,
            "score": score,
            "threshold": threshold,
            "drifted": score < threshold if p_value else score >= threshold,
        }
    return out


def worker(args: h.Json) -> h.Json:
    """Time the default drift preset once (peak RSS, inputs included); report its flags."""
    import evidently
    from evidently import Report
    from evidently.presets import DataDriftPreset

    pid = os.getpid()
    start_kib = h.rss_kib(pid)
    with h.RssSampler(pid, pid) as whole:  # from the files to the report, as Shipyard's files run
        t0 = time.perf_counter()
        ref_ds, cur_ds, dataset_s = _datasets(args)
        elapsed, snapshot, before, peak = bv.measured(
            lambda: Report([DataDriftPreset()]).run(current_data=cur_ds, reference_data=ref_ds)
        )
        files_s = time.perf_counter() - t0
    files_peak = max([*whole.samples, peak])
    columns = _columns(snapshot)
    result: h.Json = {
        "value": elapsed,
        "dataset_s": dataset_s,
        "drifted": sorted(c for c, v in columns.items() if v["drifted"]),
        "per_column": columns,
        "versions": _versions(evidently.__version__),
        **bv.memory_fields(args, before, peak),
        "files_run": {
            "value": files_s,
            "rss_before_mib": round(start_kib / 1024, 1),
            "rss_peak_mib": round(files_peak / 1024, 1),
        },
    }
    if args.get("pvalue_mode"):
        preset = DataDriftPreset(num_method="ks", cat_method="chisquare")
        pv = _columns(Report([preset]).run(current_data=cur_ds, reference_data=ref_ds))
        result["pvalue_mode_drifted"] = sorted(c for c, v in pv.items() if v["drifted"])
        result["pvalue_mode_per_column"] = pv
    return result


def _versions(evidently_version: str) -> dict[str, str]:
    import numpy
    import pandas
    import scipy

    return {
        "evidently": evidently_version,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }
