"""Figure: drift of 25 columns (20 numeric, 5 categorical) at 100k and 1M rows, vs Evidently.

The reference and current frames are built once per size with a seeded NumPy generator
(``make_frames``) and written to Parquet in a temp folder, untimed. The 20 numeric columns follow
normal, log-normal, exponential, uniform, gamma, beta, Student-t, Poisson, binomial and bimodal
distributions; the 5 categorical ones have 3, 10, 5, 20 and 30 levels. The current frame is drawn
afresh from the same distributions, then five shifts are injected (``SHIFTS``): a 0.5-sd mean
shift, a 1.5x spread change, a 0.05-sd mean shift (too small to matter), a proportion shift and a
new category at 10%. Every sample then starts one fresh worker per side, alternating the order:

- ``shipyard``: reads both files as Arrow tables (untimed), times ``compute_drift`` with default
  settings (peak RSS sampled, inputs included) and, in the same worker, in alternating order,
  the **floor**: a bare single-threaded NumPy computation of the same statistics
  (``floor_drift``: per numeric column a sort per side, ECDFs by ``searchsorted`` of the merged
  values giving KS and Wasserstein, the reference std, decile PSI; per categorical column Arrow
  ``value_counts`` then chi-square, Jensen-Shannon and PSI in NumPy; p-values from SciPy).
  The worker checks that the floor's statistics equal ``compute_drift``'s (1e-9).
- ``shipyard_files`` (same sample, alternating with the above, a fresh process): drift straight
  from the two Parquet files (``ParquetColumns``: each column read while it is tested), the
  path ``shipyard drift ref.parquet cur.parquet`` takes; time and peak RSS of the whole run.
- ``evidently`` (its own venv, ``peers.py``, Evidently 0.7 with pandas<3): reads the files as
  pandas frames (untimed), times ``Report([DataDriftPreset()]).run(...)`` on the same frames
  with a ``DataDefinition`` naming the 20 numeric and 5 categorical columns (peak RSS sampled
  the same way). The first sample also runs Evidently's p-value mode (``num_method="ks"``,
  ``cat_method="chisquare"``), untimed, to report its flags.

Targets (issue 6): 100,000 rows at least 20x faster than Evidently; 1,000,000 rows at least 30x
faster and within ``TARGET_FLOOR_RATIO`` (1.5x) of the floor; peak RSS under a quarter of
Evidently's, checked twice: with both sides holding their inputs in memory (``memory``), and
from the files to the report (``memory_from_files``: Evidently's read, conversion and run
against Shipyard's column-by-column run); at both sizes, with default settings, exactly the
four shifts of practical size flagged (``EXPECTED_DRIFTED``), the 0.05-sd shift reported but
not flagged.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import _harness as h
import bench_validation as bv

SCRIPT = Path(__file__).resolve()
SIZES = (100_000, 1_000_000)
QUICK_SIZES = (20_000,)
SEED = 0
SIDES = ("shipyard", "evidently")
TARGET_RATIO = {100_000: 20.0, 1_000_000: 30.0}
TARGET_FLOOR_RATIO = 1.5
TARGET_RSS_FRACTION = 0.25

NUMERIC = tuple(f"n{i:02d}" for i in range(20))
CATEGORICAL = tuple(f"c{i:02d}" for i in range(5))
LEVELS = {"c00": 3, "c01": 10, "c02": 5, "c03": 20, "c04": 30}
SHIFTS = {
    "n00": "mean shift of 0.5 sd (normal)",
    "n01": "spread x1.5 around the mean (normal)",
    "n02": "mean shift of 0.05 sd (normal): too small to matter, must not be flagged",
    "c00": "proportion shift: shares (0.5, 0.3, 0.2) -> (0.35, 0.3, 0.35)",
    "c01": "a new category at 10% of the rows",
}
EXPECTED_DRIFTED = ("n00", "n01", "c00", "c01")


# -- the data -------------------------------------------------------------------------------------


def _numeric(rng: Any, rows: int) -> dict[str, Any]:
    """20 numeric columns of several distributions (n00-n02 normal: they get the shifts)."""
    import numpy as np

    def bimodal() -> Any:
        side = rng.random(rows) < 0.3
        return np.where(side, rng.normal(-2, 0.5, rows), rng.normal(3, 1, rows))

    return {
        "n00": rng.normal(50, 10, rows),
        "n01": rng.normal(0, 1, rows),
        "n02": rng.normal(100, 15, rows),
        "n03": rng.normal(-5, 2, rows),
        "n04": rng.lognormal(3, 0.5, rows),
        "n05": rng.lognormal(0, 1, rows),
        "n06": rng.exponential(2.0, rows),
        "n07": rng.exponential(100.0, rows),
        "n08": rng.uniform(0, 1, rows),
        "n09": rng.uniform(-100, 100, rows),
        "n10": rng.gamma(2.0, 2.0, rows),
        "n11": rng.gamma(9.0, 0.5, rows),
        "n12": rng.beta(2, 5, rows),
        "n13": rng.beta(0.5, 0.5, rows),
        "n14": rng.standard_t(5, rows),
        "n15": rng.poisson(3, rows).astype(np.int64),
        "n16": rng.poisson(40, rows).astype(np.int64),
        "n17": rng.binomial(20, 0.3, rows).astype(np.int64),
        "n18": bimodal(),
        "n19": rng.normal(0, 1, rows) * 1000 + rng.exponential(50, rows),
    }


def _shares(levels: int) -> Any:
    """Unequal shares of ``levels`` categories (Zipf-like), summing to 1."""
    import numpy as np

    weights = 1.0 / np.arange(1, levels + 1) ** 0.8
    return weights / weights.sum()


def _categorical(rng: Any, rows: int, *, shifted: bool) -> dict[str, Any]:
    """5 string columns; ``shifted``: c00's proportions move and c01 gains a category at 10%."""
    import numpy as np
    import pyarrow as pa

    out = {}
    for name, levels in LEVELS.items():
        labels = [f"{name}_{i:02d}" for i in range(levels)]
        shares = _shares(levels)
        if name == "c00":
            shares = np.array([0.35, 0.3, 0.35] if shifted else [0.5, 0.3, 0.2])
        if name == "c01" and shifted:
            labels.append(f"{name}_new")
            shares = np.concatenate((shares * 0.9, [0.1]))
        codes = rng.choice(len(labels), size=rows, p=shares).astype(np.int32)
        out[name] = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(labels)).cast(
            pa.string()
        )
    return out


def make_frames(rows: int, seed: int) -> tuple[Any, Any]:
    """The reference and current Arrow tables: same distributions, independent draws, and the
    five ``SHIFTS`` applied to the current one."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    ref = {**_numeric(rng, rows), **_categorical(rng, rows, shifted=False)}
    cur = {**_numeric(rng, rows), **_categorical(rng, rows, shifted=True)}
    cur["n00"] = cur["n00"] + 0.5 * 10
    cur["n01"] = cur["n01"] * 1.5
    cur["n02"] = cur["n02"] + 0.05 * 15
    return pa.table(ref), pa.table(cur)


def prepare_worker(args: h.Json) -> h.Json:
    """Build the seeded frames and write them to ``args["ref"]`` and ``args["cur"]`` (Parquet)."""
    import pyarrow.parquet as pq

    ref, cur = make_frames(args["rows"], args["seed"])
    pq.write_table(ref, args["ref"])
    pq.write_table(cur, args["cur"])
    return {"rows": ref.num_rows, "columns": ref.num_columns, "arrow_bytes": ref.nbytes}


# -- the floor: the same statistics in bare NumPy -------------------------------------------------


def _floor_numeric(x: Any, y: Any, bins: int) -> dict[str, float]:
    import numpy as np

    a, b = np.sort(x), np.sort(y)
    merged = np.sort(np.concatenate((a, b)))
    cdf_a = np.searchsorted(a, merged, "right") / len(a)
    gaps = cdf_a - np.searchsorted(b, merged, "right") / len(b)
    ks = float(np.abs(gaps).max())
    wasserstein = float(np.sum(np.abs(gaps[:-1]) * np.diff(merged)))
    edges = np.unique(np.quantile(a, np.linspace(0, 1, bins + 1)[1:-1]))
    full = np.concatenate(([-np.inf], edges, [np.inf]))
    r = np.maximum(np.histogram(a, full)[0] / len(a), 1e-4)
    c = np.maximum(np.histogram(b, full)[0] / len(b), 1e-4)
    std = float(np.std(a))
    return {
        "ks": ks,
        "wasserstein": wasserstein,
        "wasserstein_norm": wasserstein / std,
        "psi": float(np.sum((c - r) * np.log(c / r))),
    }


def _floor_categorical(x: Any, y: Any) -> dict[str, float]:
    import numpy as np
    import pyarrow.compute as pc
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    rc, cc = pc.value_counts(x), pc.value_counts(y)
    counts: dict[str, list[int]] = {}
    for side, vc in enumerate((rc, cc)):
        for value, n in zip(
            vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True
        ):
            counts.setdefault(value, [0, 0])[side] = n
    table = np.array(list(counts.values()), dtype=np.float64).T
    chi2 = chi2_contingency(table)
    r = np.maximum(table[0] / table[0].sum(), 1e-4)
    c = np.maximum(table[1] / table[1].sum(), 1e-4)
    return {
        "chi2": float(chi2.statistic),
        "chi2_p_value": float(chi2.pvalue),
        "jensenshannon": float(jensenshannon(table[0], table[1], base=2)),
        "psi": float(np.sum((c - r) * np.log(c / r))),
    }


def floor_drift(ref: Any, cur: Any) -> dict[str, dict[str, float]]:
    """The statistics ``compute_drift`` reports, computed plainly, one column after another."""
    import numpy as np
    from scipy.stats import kstwo

    out = {}
    for name in NUMERIC:
        x = ref.column(name).to_numpy().astype(np.float64, copy=False)
        y = cur.column(name).to_numpy().astype(np.float64, copy=False)
        out[name] = _floor_numeric(x, y, 10)
        en = round(len(x) * len(y) / (len(x) + len(y)))
        out[name]["ks_p_value"] = float(kstwo.sf(out[name]["ks"], en))
    for name in CATEGORICAL:
        out[name] = _floor_categorical(ref.column(name), cur.column(name))
    return out


# -- workers ---------------------------------------------------------------------------------------


def _read_arrow(args: h.Json) -> tuple[Any, Any]:
    return bv.read_table(args["ref"]), bv.read_table(args["cur"])


def _timed_floor(ref: Any, cur: Any) -> tuple[float, dict[str, dict[str, float]]]:
    t0 = time.perf_counter()
    found = floor_drift(ref, cur)
    return time.perf_counter() - t0, found


def _check_floor(report: Any, floor: dict[str, dict[str, float]]) -> None:
    """Fail the worker unless every floor statistic equals compute_drift's to 1e-9 (relative)."""
    for name, values in floor.items():
        mine = report.column(name).statistics
        for key, value in values.items():
            theirs = mine[key]
            if theirs is None or abs(theirs - value) > 1e-9 * max(1.0, abs(value)):
                h.fail(f"{name}.{key}: compute_drift {theirs!r}, floor {value!r}")


def _columns_out(report: Any) -> h.Json:
    return {
        c.column: {
            "test": c.test,
            "statistic": c.statistic,
            "p_value": c.p_value,
            "effect_size": c.effect_size,
            "effect_size_name": c.effect_size_name,
            "threshold": c.threshold,
            "drifted": c.drifted,
        }
        for c in report.columns
    }


def shipyard_worker(args: h.Json) -> h.Json:
    """Time ``compute_drift`` (peak RSS, inputs included) and the floor, in alternating order."""
    from shipyard.monitoring.drift import compute_drift

    ref, cur = _read_arrow(args)
    compute_drift(ref.slice(0, 2000), cur.slice(0, 2000))  # warm-up: imports, SciPy
    floor_first = args["sample"] % 2 == 0
    if floor_first:
        floor_s, floor = _timed_floor(ref, cur)
    elapsed, report, before, peak = bv.measured(lambda: compute_drift(ref, cur))
    if not floor_first:
        floor_s, floor = _timed_floor(ref, cur)
    _check_floor(report, floor)
    return {
        "value": elapsed,
        "floor_s": floor_s,
        "threads": len(os.sched_getaffinity(0)),
        "drifted": list(report.drifted_columns),
        "dataset_drift": report.dataset_drift,
        "share_drifted": report.share_drifted,
        "per_column": _columns_out(report),
        **bv.memory_fields(args, before, peak),
    }


def shipyard_files_worker(args: h.Json) -> h.Json:
    """Drift straight from the two Parquet files, read column by column while computing (the
    path ``shipyard drift ref.parquet cur.parquet`` takes): time and peak RSS of the whole
    read-and-compute, in a fresh process that holds no table beforehand."""
    import pyarrow.parquet as pq

    from shipyard.monitoring.drift import ParquetColumns, compute_drift

    small = pq.read_table(args["ref"]).slice(0, 2000)  # warm-up: imports, SciPy
    compute_drift(small, small)
    del small
    bv.release_memory()
    elapsed, report, before, peak = bv.measured(
        lambda: compute_drift(ParquetColumns.open(args["ref"]), ParquetColumns.open(args["cur"]))
    )
    return {
        "value": elapsed,
        "drifted": list(report.drifted_columns),
        **bv.memory_fields(args, before, peak),
    }


def evidently_worker(args: h.Json) -> h.Json:
    """Evidently's side (in its venv): see ``peer_evidently.worker``."""
    import peer_evidently

    return peer_evidently.worker(args)


# -- the figure ------------------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num and den else None


def _target(text: str, value: float | None, ok: bool | None) -> h.Json:
    return {"text": text, "value": value, "met": None if value is None else ok}


def _detection(runs: list[h.Json]) -> h.Json:
    """Did every Shipyard run flag exactly ``EXPECTED_DRIFTED``? With the 0.05-sd column's
    figures, which must be reported though not flagged."""
    flagged = [sorted(r["drifted"]) for r in runs]
    ok = bool(runs) and all(f == sorted(EXPECTED_DRIFTED) for f in flagged)
    small = runs[0]["per_column"]["n02"] if runs else None
    return {
        "expected": list(EXPECTED_DRIFTED),
        "flagged_per_run": flagged,
        "small_shift_n02": small,
        "met": ok,
    }


def _files_figures(mine: list[h.Json], theirs: list[h.Json]) -> h.Json:
    """From the two Parquet files to a report: Shipyard reading column by column while it
    computes, Evidently reading both frames, building its Datasets and running."""
    ship = [r["files_run"] for r in mine if "files_run" in r]
    ev = [r["files_run"] for r in theirs if "files_run" in r]
    ship_t, ev_t = _median([r["value"] for r in ship]), _median([r["value"] for r in ev])
    ship_rss = _median([r["rss_peak_mib"] for r in ship])
    ev_rss = _median([r["rss_peak_mib"] for r in ev])
    return {
        "shipyard": {"median": ship_t, "samples": [r["value"] for r in ship]},
        "shipyard_rss_peak_mib_median": ship_rss,
        "evidently": {"median": ev_t, "samples": [r["value"] for r in ev]},
        "evidently_rss_peak_mib_median": ev_rss,
        "ratio": _ratio(ev_t, ship_t),
        "rss_fraction": _ratio(ship_rss, ev_rss),
        "flags_agree": all(sorted(r["drifted"]) == sorted(EXPECTED_DRIFTED) for r in ship),
    }


def _size_case(rows: int, series: h.Series, opts: h.Options) -> h.Json:
    mine, theirs = series.details.get("shipyard", []), series.details.get("evidently", [])
    ship_t, ev_t = (
        _median(series.samples.get("shipyard", [])),
        _median(series.samples.get("evidently", [])),
    )
    floor_t = _median([float(r["floor_s"]) for r in mine])
    ship_rss = _median([float(r["rss_peak_mib"]) for r in mine])
    ev_rss = _median([float(r["rss_peak_mib"]) for r in theirs])
    ratio, floor_ratio = _ratio(ev_t, ship_t), _ratio(ship_t, floor_t)
    rss_fraction = _ratio(ship_rss, ev_rss)
    files = _files_figures(mine, theirs)
    goal = TARGET_RATIO.get(rows, TARGET_RATIO[SIZES[0]])
    below = f"peak RSS under {TARGET_RSS_FRACTION:g} of Evidently's"
    targets = {
        "speed": _target(
            f"at least {goal:g}x faster than Evidently", ratio, ratio is not None and ratio >= goal
        ),
        "memory": _target(
            f"{below}, both holding their inputs in memory",
            rss_fraction,
            rss_fraction is not None and rss_fraction < TARGET_RSS_FRACTION,
        ),
        "memory_from_files": _target(
            f"{below}, each going from the two Parquet files to its report",
            files["rss_fraction"],
            files["rss_fraction"] is not None and files["rss_fraction"] < TARGET_RSS_FRACTION,
        ),
        "detection": _detection(mine),
    }
    if rows >= 1_000_000 or opts.quick:
        targets["floor"] = _target(
            f"within {TARGET_FLOOR_RATIO:g}x of the bare NumPy floor",
            floor_ratio,
            floor_ratio is not None and floor_ratio <= TARGET_FLOOR_RATIO,
        )
    complete = not series.errors and all(
        len(series.details.get(s, [])) >= opts.samples for s in opts.sides
    )
    met = all(t["met"] is not False for t in targets.values())
    return {
        "unit": "s",
        "better": "lower",
        "rows": rows,
        "shipyard": {
            "median": ship_t,
            "samples": series.samples.get("shipyard", []),
            "floor_median": floor_t,
            "floor_samples": [r["floor_s"] for r in mine],
            "rss_peak_mib_median": ship_rss,
            "threads": mine[0]["threads"] if mine else None,
            "flags": mine[0]["drifted"] if mine else None,
            "per_column": mine[0]["per_column"] if mine else None,
        },
        "evidently": {
            "median": ev_t,
            "samples": series.samples.get("evidently", []),
            "rss_peak_mib_median": ev_rss,
            "flags": theirs[0]["drifted"] if theirs else None,
            "pvalue_mode_flags": theirs[0].get("pvalue_mode_drifted") if theirs else None,
            "per_column": theirs[0]["per_column"] if theirs else None,
            "dataset_from_pandas_s": theirs[0].get("dataset_s") if theirs else None,
            "versions": theirs[0].get("versions") if theirs else None,
            "error": series.errors.get("evidently"),
        },
        "ratio": ratio,
        "ratio_meaning": "evidently/shipyard (times faster)",
        "floor_ratio": floor_ratio,
        "floor_ratio_meaning": "shipyard/floor (1.0 = as fast as bare NumPy)",
        "rss_fraction": rss_fraction,
        "rss_fraction_meaning": "shipyard peak RSS / evidently peak RSS (inputs in memory)",
        "from_files": files,
        "targets": targets,
        "target": {"text": "every target of this size", "met": met},
        "complete": complete,
        "shifts": SHIFTS,
    }


def _worker(task: str, work: h.Json) -> h.Json:
    side = "evidently" if task == "evidently" else "shipyard"
    with h.fresh_dir("drift") as tmp:
        return h.run_worker(SCRIPT, side, task, work, cwd=tmp, timeout=3600)


def _sizes(opts: h.Options) -> tuple[int, ...]:
    """``SIZES`` (``QUICK_SIZES`` with --quick), or ``BENCH_DRIFT_ROWS=100000,1000000``."""
    chosen = os.environ.get("BENCH_DRIFT_ROWS", "")
    if chosen:
        return tuple(int(r) for r in chosen.split(",") if r.strip())
    return QUICK_SIZES if opts.quick else SIZES


def measure(opts: h.Options) -> h.Json:
    cases: h.Json = {}
    for rows in _sizes(opts):
        with h.fresh_dir("drift-data") as data:
            args: h.Json = {
                "rows": rows,
                "seed": SEED,
                "ref": str(data / "reference.parquet"),
                "cur": str(data / "current.parquet"),
            }
            h.log(
                f"writing {rows:,} x {len(NUMERIC) + len(CATEGORICAL)} reference and current rows"
            )
            shape = h.run_worker(SCRIPT, "shipyard", "prepare", args, cwd=data)
            args.update(columns=shape["columns"], arrow_bytes=shape["arrow_bytes"])

            def one(side: str, i: int, args: h.Json = args) -> h.Json:
                work = {**args, "sample": i, "pvalue_mode": i == 0}
                if side != "shipyard":
                    return _worker(side, work)
                # Shipyard on tables in memory, and straight from the files: alternating order
                tasks = ("shipyard", "shipyard_files")
                done = {t: _worker(t, work) for t in (tasks if i % 2 == 0 else tasks[::-1])}
                return {**done["shipyard"], "files_run": done["shipyard_files"]}

            series = h.alternate(opts, one, label=f"drift {rows:,}", rotate=True)
        cases[f"drift_{rows}"] = _size_case(rows, series, opts)
    return cases


if __name__ == "__main__":
    if "--worker" not in sys.argv and "--sides" in sys.argv:
        at = sys.argv.index("--sides") + 1  # run_all.py passes shipyard,mlflow: mean Evidently
        if at < len(sys.argv):
            sys.argv[at] = sys.argv[at].replace("mlflow", "evidently")
    h.main(
        figure="drift",
        description="drift of 25 columns (100k and 1M rows): compute_drift vs Evidently 0.7",
        measure=measure,
        workers={
            "prepare": prepare_worker,
            "shipyard": shipyard_worker,
            "shipyard_files": shipyard_files_worker,
            "evidently": evidently_worker,
        },
        sides=SIDES,
    )
