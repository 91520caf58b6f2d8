"""Figure: a validation suite (22 checks) on 5,000,000 rows x 10 columns vs pandera and GX.

The table is built once per run with a seeded NumPy generator (int64 ids with 10 planted
duplicates, two int64, two float64, an e-mail string checked by a regex, a ~20-value category,
a plan string, a UTC timestamp and a float64 total; ~1% nulls, a few planted violations) and
written to a Parquet file in a temp folder, untimed. Every sample then starts one fresh worker
per side, in a rotating order, each reading that file (untimed) and timing only validation:

- ``shipyard``: ``validate(table, suite)`` on the Arrow table; the same worker also times the
  floor, one hand-written DuckDB query computing the same rule results (every failed count and
  the newest timestamp, ``FLOOR``), and ``validate(..., failing_rows_limit=0)`` (``counts_only``).
- ``pandera``: the same 22 rules as a ``DataFrameSchema`` (``peer_pandera.py``), ``lazy=True``.
- ``gx``: the same 22 rules as a Great Expectations 1.x suite (``peer_gx.py``), an ephemeral
  context, a pandas datasource and a validation definition.

Each peer runs in its own venv (``peers.py``) on pandas 3 with pyarrow installed, its frame in
the dtypes that measured fastest for it (``PANDAS_DTYPES``), and in two modes, each in its own
fresh worker, in alternating order: "fastest" (pandera ``n_failure_cases=20``, GX
``BOOLEAN_ONLY``: no failing-row counts; the figure and the targets use this one) and "counts"
(pandera's default, every failure case; GX ``BASIC``: counts and 20 examples, the output of
Shipyard's ``validate``), reported beside it. Peak RSS is sampled the same way in
every worker (``/proc/self/status`` every 20 ms during the timed call, data included). Each
worker reports, per rule, whether it passed and how many rows failed; the orchestrator compares
them with Shipyard's and records every difference (``KNOWN_DIFFERENCES`` explains the expected
ones; any other fails the figure).

``--sides`` takes ``shipyard,pandera,gx`` (``mlflow``, what ``run_all.py`` passes, means both
peers).
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
ROWS = 5_000_000
QUICK_ROWS = 200_000
SEED = 0
SIDES = ("shipyard", "pandera", "gx")
TARGET_FLOOR_RATIO = 1.5
TARGET_PANDERA_RATIO = 2.0
TARGET_GX_RATIO = 8.0
TARGET_RSS_RATIO = 3.0

# What both peers check, spelled once.
NOW = "2026-06-01T00:00:00+00:00"
EMAIL_RX = r"^[a-z0-9.]+@[a-z]+\.[a-z]{2,}$"
CATEGORIES = tuple(f"c{i:02d}" for i in range(19))
PLANS = ("basic", "pro", "team")
TS_MIN, TS_MAX = "2020-01-01", "2026-06-01"
MAX_NULL_FRACTION = 0.02
FRESH_DAYS = 7

# pandas dtypes each peer gets (the fastest measured on 5,000,000 rows, see README):
# "arrow": every column pd.ArrowDtype; "numpy": pandas' default conversion (NumPy numerics,
# int columns with nulls as float64, pandas 3's pyarrow-backed ``str``); "nullable": the
# same but int64 columns as pd.Int64Dtype. BENCH_PANDERA_DTYPES / BENCH_GX_DTYPES override.
PANDAS_DTYPES = {"pandera": "arrow", "gx": "numpy"}

SUITE_YAML = f"""
name: bench
rules:
  - type: columns_present
    name: cols
    columns: {{id: int64, qty: int64, price: double, email: string}}
  - {{type: row_count, name: rows, min: 1}}
  - {{type: not_null, name: id_nn, column: id}}
  - {{type: unique, name: id_uq, column: id}}
  - {{type: not_null, name: qty_nn, column: qty, max_null_fraction: {MAX_NULL_FRACTION}}}
  - {{type: range, name: qty_rg, column: qty, min: 0, max: 1000}}
  - {{type: not_null, name: age_nn, column: age, max_null_fraction: {MAX_NULL_FRACTION}}}
  - {{type: range, name: age_rg, column: age, min: 18, max: 99}}
  - {{type: not_null, name: price_nn, column: price, max_null_fraction: {MAX_NULL_FRACTION}}}
  - {{type: range, name: price_rg, column: price, min: 0, max: 10000, min_inclusive: false}}
  - {{type: range, name: score_rg, column: score, min: -5, max: 5}}
  - {{type: not_null, name: email_nn, column: email, max_null_fraction: {MAX_NULL_FRACTION}}}
  - {{type: regex, name: email_rx, column: email, pattern: '{EMAIL_RX}'}}
  - {{type: allowed_values, name: cat_av, column: category, values: [{", ".join(CATEGORIES)}]}}
  - {{type: not_null, name: cat_nn, column: category, max_null_fraction: {MAX_NULL_FRACTION}}}
  - {{type: allowed_values, name: plan_av, column: plan, values: [{", ".join(PLANS)}]}}
  - {{type: not_null, name: ts_nn, column: ts, max_null_fraction: {MAX_NULL_FRACTION}}}
  - {{type: range, name: ts_rg, column: ts, min: '{TS_MIN}', max: '{TS_MAX}'}}
  - {{type: freshness, name: ts_fresh, column: ts, max_age: {FRESH_DAYS}d}}
  - {{type: sql, name: total_ge, expression: total >= price * qty * 0.5}}
  - {{type: sql, name: pro_price, expression: "plan <> 'pro' OR price >= 10", severity: warn}}
  - {{type: range, name: total_rg, column: total, min: 0}}
"""
RULES = (
    "cols", "rows", "id_nn", "id_uq", "qty_nn", "qty_rg", "age_nn", "age_rg", "price_nn",
    "price_rg", "score_rg", "email_nn", "email_rx", "cat_av", "cat_nn", "plan_av", "ts_nn",
    "ts_rg", "ts_fresh", "total_ge", "pro_price", "total_rg",
)  # fmt: skip
TABLE_RULES = ("cols", "rows", "ts_fresh")  # failed_count is 0 or 1: compared as passed/failed

_IN_CATEGORIES = ",".join(f"'{c}'" for c in CATEGORIES)
_IN_PLANS = ",".join(f"'{p}'" for p in PLANS)
FLOOR = f"""
SELECT
  count(*) FILTER (WHERE id IS NULL),
  count(id) - count(DISTINCT id),
  count(*) FILTER (WHERE qty IS NULL),
  count(*) FILTER (WHERE qty < 0 OR qty > 1000),
  count(*) FILTER (WHERE age IS NULL),
  count(*) FILTER (WHERE age < 18 OR age > 99),
  count(*) FILTER (WHERE price IS NULL),
  count(*) FILTER (WHERE price <= 0 OR price > 10000),
  count(*) FILTER (WHERE score < -5 OR score > 5),
  count(*) FILTER (WHERE email IS NULL),
  count(*) FILTER (WHERE NOT regexp_matches(email, '{EMAIL_RX}')),
  count(*) FILTER (WHERE category NOT IN ({_IN_CATEGORIES})),
  count(*) FILTER (WHERE category IS NULL),
  count(*) FILTER (WHERE plan NOT IN ({_IN_PLANS})),
  count(*) FILTER (WHERE ts IS NULL),
  count(*) FILTER (WHERE ts < '{TS_MIN}' OR ts > '{TS_MAX}'),
  epoch_us(max(ts)::TIMESTAMP),
  count(*) FILTER (WHERE NOT (total >= price * qty * 0.5)),
  count(*) FILTER (WHERE NOT (plan <> 'pro' OR price >= 10)),
  count(*) FILTER (WHERE total < 0)
FROM t
"""
FLOOR_RULES = [
    "id_nn", "id_uq", "qty_nn", "qty_rg", "age_nn", "age_rg", "price_nn", "price_rg", "score_rg",
    "email_nn", "email_rx", "cat_av", "cat_nn", "plan_av", "ts_nn", "ts_rg", None, "total_ge",
    "pro_price", "total_rg",
]  # fmt: skip

# Counts a peer reports differently from Shipyard by design, not by error: (side, rule) -> why.
KNOWN_DIFFERENCES = {
    ("gx", "id_uq"): "GX counts every row of a duplicated value (2 x 10); Shipyard and pandera "
    "(report_duplicates='exclude_first') count the rows after the first",
}


# -- the data -------------------------------------------------------------------------------------


def _table(rows: int, seed: int) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)

    def nulls() -> Any:
        return rng.random(rows) < 0.01

    ids = rng.permutation(rows).astype(np.int64)
    ids[:10] = ids[10:20]  # 10 duplicates
    qty = rng.integers(0, 1001, rows)
    price = rng.uniform(1, 1000, rows)
    users = pc.cast(pa.array(rng.integers(0, 10**9, rows)), pa.string())
    emails = pc.binary_join_element_wise("user.", users, "@example.com", "")
    bad = pa.array(rng.random(rows) < 0.001)
    emails = pc.if_else(bad, pa.scalar("not-an-email"), emails)
    cats = pa.array([f"c{i:02d}" for i in range(20)])
    codes = pa.array(rng.integers(0, 20, rows).astype("int32"), mask=nulls())
    plans = pa.array(list(PLANS))
    start = np.datetime64("2026-01-01T00:00:00", "us").astype("int64")
    ticks = start + rng.integers(0, 150 * 86_400 * 10**6, rows)
    return pa.table(
        {
            "id": pa.array(ids),
            "qty": pa.array(qty, mask=nulls()),
            "age": pa.array(rng.integers(15, 100, rows), mask=nulls()),
            "price": pa.array(price, mask=nulls()),
            "score": pa.array(rng.normal(0, 1.5, rows)),
            "email": pc.if_else(pa.array(nulls()), pa.scalar(None, pa.string()), emails),
            "category": pa.DictionaryArray.from_arrays(codes, cats).cast(pa.string()),
            "plan": pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, 3, rows).astype("int32")), plans
            ).cast(pa.string()),
            "ts": pa.array(ticks, mask=nulls()).cast(pa.timestamp("us", tz="UTC")),
            "total": pa.array(price * qty * rng.uniform(0.4, 1.5, rows)),
        }
    )


def prepare_worker(args: h.Json) -> h.Json:
    """Build the seeded table and write it to ``args["path"]`` (Parquet); report its size."""
    import pyarrow.parquet as pq

    table = _table(args["rows"], args["seed"])
    pq.write_table(table, args["path"])
    return {"rows": table.num_rows, "columns": table.num_columns, "arrow_bytes": table.nbytes}


def read_table(path: str) -> Any:
    """The Parquet file as an Arrow table, with the read's scratch memory handed back."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    release_memory()
    return table


def release_memory() -> None:
    """Collect garbage and return Arrow's unused pool memory, so RSS holds only live data."""
    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()


def to_pandas(table: Any, dtypes: str) -> Any:
    """``table`` as a pandas DataFrame in the ``dtypes`` configuration (see PANDAS_DTYPES)."""
    import pandas as pd
    import pyarrow as pa

    mappers: dict[str, Callable[[Any], Any] | None] = {
        "arrow": pd.ArrowDtype,
        "numpy": None,
        "nullable": {pa.int64(): pd.Int64Dtype()}.get,
    }
    if dtypes not in mappers:
        raise ValueError(f"pandas dtypes {dtypes!r}: choose one of {sorted(mappers)}")
    return table.to_pandas(types_mapper=mappers[dtypes])


def peer_dtypes(side: str) -> str:
    """The pandas dtypes configuration ``side`` runs with (environment override first)."""
    return os.environ.get(f"BENCH_{side.upper()}_DTYPES", PANDAS_DTYPES[side])


# -- measuring ------------------------------------------------------------------------------------


def measured(run: Callable[[], Any]) -> tuple[float, Any, int, int]:
    """Call ``run()`` once: (seconds, its result, RSS before in KiB, peak RSS during in KiB).

    Every side measures with this, so their peak RSS figures are taken the same way.
    """
    pid = os.getpid()
    before = h.rss_kib(pid)
    with h.RssSampler(pid, pid) as sampler:
        t0 = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - t0
    return elapsed, result, before, max([*sampler.samples, h.rss_kib(pid)])


def memory_fields(args: h.Json, before: int, peak: int) -> h.Json:
    """The harness's memory fields for the run's table, plus this process's lifetime max RSS."""
    shape = SimpleNamespace(
        num_rows=args["rows"], num_columns=args["columns"], nbytes=args["arrow_bytes"]
    )
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {**h.table_memory(shape, before, peak), "ru_maxrss_mib": round(maxrss / 1024, 1)}


def outcome(passed: bool, failed: int | None) -> h.Json:
    """One rule's result as every worker reports it."""
    return {"passed": passed, "failed": failed}


def _floor(table: Any) -> tuple[float, list[Any]]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    con.execute("SET TimeZone = 'UTC'")
    t0 = time.perf_counter()
    con.register("t", table)
    row = list(con.execute(FLOOR).fetchall()[0])
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed, row


def shipyard_worker(args: h.Json) -> h.Json:
    """Time ``validate`` (peak RSS), the floor query and the counts-only ``validate``."""
    from datetime import datetime

    from shipyard.data.validation import Suite, validate

    table = read_table(args["path"])
    suite = Suite.from_yaml(SUITE_YAML)
    now = datetime.fromisoformat(NOW)
    validate(table.slice(0, 1000), suite, now=now)  # warm-up: imports, regex compile
    floor_first = args["sample"] % 2 == 0
    if floor_first:
        floor_s, floor_row = _floor(table)
    elapsed, report, before, peak = measured(lambda: validate(table, suite, now=now))
    if not floor_first:
        floor_s, floor_row = _floor(table)
    t0 = time.perf_counter()
    validate(table, suite, now=now, failing_rows_limit=0)
    counts_only_s = time.perf_counter() - t0
    for name, value in zip(FLOOR_RULES, floor_row, strict=True):
        if name is not None and report.result(name).failed_count != value:
            h.fail(f"{name}: validate counted {report.result(name).failed_count}, floor {value}")
    if report.result("id_uq").failed_count != 10:
        h.fail("id_uq must find the 10 planted duplicates")
    return {
        "value": elapsed,
        "floor_s": floor_s,
        "counts_only_s": counts_only_s,
        "checks": len(suite.rules),
        "queries": report.queries,
        "rules": {r.name: outcome(r.passed, r.failed_count) for r in report.results},
        **memory_fields(args, before, peak),
    }


def pandera_worker(args: h.Json) -> h.Json:
    """pandera's side (in its venv): see ``peer_pandera.worker``."""
    import peer_pandera

    return peer_pandera.worker(args)


def gx_worker(args: h.Json) -> h.Json:
    """Great Expectations' side (in its venv): see ``peer_gx.worker``."""
    import peer_gx

    return peer_gx.worker(args)


# -- the figure -----------------------------------------------------------------------------------

# Each peer sample runs two fresh workers, in alternating order: the peer's fastest mode
# (the figure and the target) and the mode that counts failing rows per rule as Shipyard does.
PEER_MODES = ("fastest", "counts")
PEER_ENV = {
    "DISABLE_PANDERA_IMPORT_WARNING": "True",
    "GX_ANALYTICS_ENABLED": "false",
}


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num and den else None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def compare_counts(series: h.Series) -> h.Json:
    """Each peer's per-rule results next to Shipyard's (first sample of each side), in both of
    the peer's modes ("fastest" gives passed flags only, "counts" failed-row counts too).

    Returns ``{side: {"agree": bool, "differences": {mode: {rule: {...}}}}}``; a difference
    listed in KNOWN_DIFFERENCES carries its reason and does not count against ``agree``.
    """
    mine = series.details.get("shipyard") or []
    if not mine:
        return {}
    out: h.Json = {}
    for side in SIDES[1:]:
        runs = series.details.get(side) or []
        if not runs:
            continue
        agree, diffs = True, {}
        for mode, run in (("fastest", runs[0]), ("counts", runs[0]["counts_run"])):
            found = _rule_differences(side, mine[0]["rules"], run["rules"])
            agree = agree and all(d["known"] for d in found.values())
            diffs[mode] = found
        out[side] = {"agree": agree, "differences": diffs}
    return out


def _rule_differences(side: str, ours: h.Json, theirs: h.Json) -> h.Json:
    found = {}
    for rule in RULES:
        diff = _differs(rule, ours[rule], theirs.get(rule))
        if diff is not None:
            found[rule] = {**diff, "known": KNOWN_DIFFERENCES.get((side, rule))}
    return found


def _differs(rule: str, ours: h.Json, theirs: h.Json | None) -> h.Json | None:
    if theirs is None:
        return {"shipyard": ours, "peer": None, "why": "peer did not report this rule"}
    if ours["passed"] != theirs["passed"]:
        return {"shipyard": ours, "peer": theirs, "why": "passed differs"}
    if rule in TABLE_RULES or theirs["failed"] is None:
        return None
    if ours["failed"] != theirs["failed"]:
        return {"shipyard": ours, "peer": theirs, "why": "failed count differs"}
    return None


def _side(series: h.Series, side: str, opts: h.Options, *, runs: bool) -> h.Json:
    """One side's median time, samples and median peak RSS (and its runs when ``runs``)."""
    details = series.details.get(side, [])
    entry: h.Json = {
        "median": _median(series.samples.get(side, [])),
        "samples": series.samples.get(side, []),
        "rss_peak_mib_median": _median([float(r["rss_peak_mib"]) for r in details]),
        "complete": side not in series.errors and len(details) >= opts.samples,
    }
    if side in series.errors:
        entry["error"] = series.errors[side]
    if details and side != "shipyard":
        entry["versions"] = details[0].get("versions")
        entry["pandas_dtypes"] = details[0].get("pandas_dtypes")
    if runs:
        entry["runs"] = details
    if details and side != "shipyard":
        entry["mode"] = details[0]["mode_means"]
        counted = [d["counts_run"] for d in details]
        entry["counts_mode"] = {
            "what": counted[0]["mode_means"],
            "median": _median([float(d["value"]) for d in counted]),
            "samples": [float(d["value"]) for d in counted],
            "rss_peak_mib_median": _median([float(d["rss_peak_mib"]) for d in counted]),
        }
    return entry


def _target(text: str, ratio: float | None, met: Callable[[float], bool]) -> h.Json:
    return {"text": text, "met": None if ratio is None else met(ratio)}


def _validate_case(series: h.Series, opts: h.Options) -> h.Json:
    """Shipyard's ``validate`` against the DuckDB floor measured in the same workers."""
    runs = series.details.get("shipyard", [])
    ship = _side(series, "shipyard", opts, runs=True)
    floors = [float(d["floor_s"]) for d in runs]
    floor = _median(floors)
    counts_only = _median([float(d["counts_only_s"]) for d in runs])
    ratio = _ratio(ship["median"], floor)
    return {
        "unit": "s",
        "better": "lower",
        "shipyard": ship,
        "duckdb_floor": {"median": floor, "samples": floors, "sql": FLOOR.strip()},
        "counts_only": {
            "what": "validate(..., failing_rows_limit=0): no example rows, one query",
            "median": counts_only,
            "samples": [float(d["counts_only_s"]) for d in runs],
            "floor_ratio": _ratio(counts_only, floor),
        },
        "ratio": ratio,
        "ratio_meaning": "shipyard validate / hand-written single DuckDB query (times slower)",
        "target": _target(
            f"validate within {TARGET_FLOOR_RATIO:g}x of the single DuckDB query",
            ratio,
            lambda r: r <= TARGET_FLOOR_RATIO,
        ),
        "complete": ship["complete"],
    }


def _peer_case(series: h.Series, opts: h.Options, peer: str, goal: float, counts: h.Json) -> h.Json:
    """Shipyard against ``peer``: both medians, the ratio, peak RSS and the rule comparison."""
    ship = _side(series, "shipyard", opts, runs=False)
    theirs = _side(series, peer, opts, runs=True)
    ratio = _ratio(theirs["median"], ship["median"])
    counted = theirs.get("counts_mode", {}).get("median")
    case: h.Json = {
        "unit": "s",
        "better": "lower",
        "shipyard": ship,
        peer: theirs,
        "ratio": ratio,
        "ratio_meaning": f"{peer}/shipyard (times faster)",
        "rss_ratio": _ratio(theirs["rss_peak_mib_median"], ship["rss_peak_mib_median"]),
        "rss_ratio_meaning": f"{peer}/shipyard peak RSS during validation (times less)",
        "counts_mode_ratio": _ratio(counted, ship["median"]),
        "counts_mode_ratio_meaning": f"{peer} in its counts mode / shipyard validate",
        "target": _target(
            f"shipyard at least {goal:g}x faster than {peer}", ratio, lambda r: r >= goal
        ),
        "counts": counts,
        "complete": ship["complete"] and theirs["complete"],
    }
    if counts and not counts["agree"]:
        case["complete"] = False
        case["error"] = "rule results differ from Shipyard's beyond KNOWN_DIFFERENCES"
    return case


def _memory_case(series: h.Series, arrow_mib: float) -> h.Json:
    """Shipyard's peak RSS during ``validate`` (data included) against the table's Arrow size."""
    peaks = [float(d["rss_peak_mib"]) for d in series.details.get("shipyard", [])]
    ratio = _ratio(_median(peaks), arrow_mib)
    return {
        "unit": "MiB",
        "better": "lower",
        "shipyard": {"median": _median(peaks), "samples": peaks},
        "arrow_table_mib": arrow_mib,
        "ratio": ratio,
        "ratio_meaning": "shipyard peak RSS during validate (data included) / Arrow size",
        "target": _target(
            f"peak RSS under {TARGET_RSS_RATIO:g}x the table's Arrow size",
            ratio,
            lambda r: r < TARGET_RSS_RATIO,
        ),
        "complete": len(peaks) > 0 and "shipyard" not in series.errors,
    }


def _cases(series: h.Series, opts: h.Options, arrow_mib: float) -> h.Json:
    """The figure's cases: validate vs floor, vs each measured peer, memory."""
    cases: h.Json = {}
    if "shipyard" in series.samples:
        cases["validate"] = _validate_case(series, opts)
    counts = compare_counts(series)
    for peer, goal in (("pandera", TARGET_PANDERA_RATIO), ("gx", TARGET_GX_RATIO)):
        if peer in series.samples:
            cases[f"vs_{peer}"] = _peer_case(series, opts, peer, goal, counts.get(peer, {}))
    if "shipyard" in series.samples:
        cases["memory"] = _memory_case(series, arrow_mib)
    return cases


def measure(opts: h.Options) -> h.Json:
    rows = QUICK_ROWS if opts.quick else ROWS
    with h.fresh_dir("validation-data") as data:
        args: h.Json = {"rows": rows, "seed": SEED, "path": str(data / "table.parquet")}
        h.log(f"writing {rows:,} rows to {args['path']}")
        shape = h.run_worker(SCRIPT, "shipyard", "prepare", args, cwd=data)
        args.update(columns=shape["columns"], arrow_bytes=shape["arrow_bytes"])
        dtypes = {side: peer_dtypes(side) for side in SIDES[1:]}

        def worker(side: str, work: h.Json) -> h.Json:
            with h.fresh_dir("validation") as tmp:
                return h.run_worker(SCRIPT, side, side, work, cwd=tmp, env=PEER_ENV)

        def one(side: str, i: int) -> h.Json:
            work = {**args, "sample": i, "pandas_dtypes": dtypes.get(side)}
            if side == "shipyard":
                return worker(side, work)
            modes = PEER_MODES if i % 2 == 0 else PEER_MODES[::-1]
            done = {mode: worker(side, {**work, "mode": mode}) for mode in modes}
            h.log(f"validation {side} #{i + 1} counts mode: value={done['counts']['value']:.6g}")
            return {**done["fastest"], "counts_run": done["counts"]}

        series = h.alternate(opts, one, label="validation", rotate=True)
    arrow_mib = round(args["arrow_bytes"] / 2**20, 1)
    cases = _cases(series, opts, arrow_mib)
    for case in cases.values():
        case["data"] = {
            "rows": rows,
            "columns": args["columns"],
            "arrow_mib": arrow_mib,
            "seed": SEED,
            "order": [list(h.rotated(opts.sides, i)) for i in range(opts.samples)],
        }
    return cases


def _sides_from_argv(argv: list[str]) -> None:
    """``--sides shipyard,mlflow`` (``run_all.py``'s default) means Shipyard and both peers."""
    if "--sides" not in argv:
        return
    at = argv.index("--sides") + 1
    if at < len(argv):
        named = [s for s in argv[at].split(",") if s]
        wanted = [p for s in named for p in (SIDES[1:] if s == "mlflow" else (s,))]
        argv[at] = ",".join(dict.fromkeys(wanted))


if __name__ == "__main__":
    if "--worker" not in sys.argv:
        _sides_from_argv(sys.argv)
    h.main(
        figure="validation",
        description=f"validate: 22 checks on {ROWS:,} rows x 10 columns (s), vs pandera and GX",
        measure=measure,
        workers={
            "prepare": prepare_worker,
            "shipyard": shipyard_worker,
            "pandera": pandera_worker,
            "gx": gx_worker,
        },
        sides=SIDES,
    )
