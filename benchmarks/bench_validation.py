"""Figure: a validation suite (22 checks) on 5,000,000 rows x 10 columns, seconds and peak RSS.

Shipyard's ``validate`` against the floor: one hand-written DuckDB query computing the same
rule results (every failed count and the newest timestamp) on the same registered Arrow table.
Each sample is a fresh worker that builds the table with a seeded NumPy generator (untimed:
int64 ids, two int64, two float64, an e-mail string checked by a regex, a ~20-value category,
a plan string, a UTC timestamp and a float64 total; ~1% nulls, a few planted violations), then
times ``validate`` and the floor query once each (their order alternating between samples),
then ``validate`` without example rows (``failing_rows_limit=0``, reported as ``counts_only``),
checks that both give the same counts, and reports peak RSS during ``validate``.

Peers (pandera, Great Expectations) are not measured yet: they will run in their own venvs.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
ROWS = 5_000_000
QUICK_ROWS = 200_000
TARGET_FLOOR_RATIO = 1.5
NOW = "2026-06-01T00:00:00+00:00"

SUITE_YAML = """
name: bench
rules:
  - type: columns_present
    name: cols
    columns: {id: int64, qty: int64, price: double, email: string}
  - {type: row_count, name: rows, min: 1}
  - {type: not_null, name: id_nn, column: id}
  - {type: unique, name: id_uq, column: id}
  - {type: not_null, name: qty_nn, column: qty, max_null_fraction: 0.02}
  - {type: range, name: qty_rg, column: qty, min: 0, max: 1000}
  - {type: not_null, name: age_nn, column: age, max_null_fraction: 0.02}
  - {type: range, name: age_rg, column: age, min: 18, max: 99}
  - {type: not_null, name: price_nn, column: price, max_null_fraction: 0.02}
  - {type: range, name: price_rg, column: price, min: 0, max: 10000, min_inclusive: false}
  - {type: range, name: score_rg, column: score, min: -5, max: 5}
  - {type: not_null, name: email_nn, column: email, max_null_fraction: 0.02}
  - {type: regex, name: email_rx, column: email, pattern: '^[a-z0-9.]+@[a-z]+\\.[a-z]{2,}$'}
  - type: allowed_values
    name: cat_av
    column: category
    values: [c00, c01, c02, c03, c04, c05, c06, c07, c08, c09, c10, c11, c12, c13, c14, c15,
             c16, c17, c18]
  - {type: not_null, name: cat_nn, column: category, max_null_fraction: 0.02}
  - {type: allowed_values, name: plan_av, column: plan, values: [basic, pro, team]}
  - {type: not_null, name: ts_nn, column: ts, max_null_fraction: 0.02}
  - {type: range, name: ts_rg, column: ts, min: '2020-01-01', max: '2026-06-01'}
  - {type: freshness, name: ts_fresh, column: ts, max_age: 7d}
  - {type: sql, name: total_ge, expression: total >= price * qty * 0.5}
  - {type: sql, name: pro_price, expression: "plan <> 'pro' OR price >= 10", severity: warn}
  - {type: range, name: total_rg, column: total, min: 0}
"""

FLOOR = """
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
  count(*) FILTER (WHERE NOT regexp_matches(email, '^[a-z0-9.]+@[a-z]+\\.[a-z]{2,}$')),
  count(*) FILTER (WHERE category NOT IN ('c00','c01','c02','c03','c04','c05','c06','c07',
    'c08','c09','c10','c11','c12','c13','c14','c15','c16','c17','c18')),
  count(*) FILTER (WHERE category IS NULL),
  count(*) FILTER (WHERE plan NOT IN ('basic', 'pro', 'team')),
  count(*) FILTER (WHERE ts IS NULL),
  count(*) FILTER (WHERE ts < '2020-01-01' OR ts > '2026-06-01'),
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
    plans = pa.array(["basic", "pro", "team"])
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
    from datetime import datetime

    from shipyard.data.validation import Suite, validate

    table = _table(args["rows"], args["seed"])
    suite = Suite.from_yaml(SUITE_YAML)
    now = datetime.fromisoformat(NOW)
    validate(table.slice(0, 1000), suite, now=now)  # warm-up: imports, regex compile
    pid = os.getpid()
    before = h.rss_kib(pid)
    floor_first = args["seed"] % 2 == 0
    if floor_first:
        floor_s, floor_row = _floor(table)
    with h.RssSampler(pid, pid) as sampler:
        t0 = time.perf_counter()
        report = validate(table, suite, now=now)
        elapsed = time.perf_counter() - t0
    if not floor_first:
        floor_s, floor_row = _floor(table)
    t0 = time.perf_counter()
    validate(table, suite, now=now, failing_rows_limit=0)
    counts_only_s = time.perf_counter() - t0
    peak = max([*sampler.samples, h.rss_kib(pid)])
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
        "failed_rules": [r.name for r in report.failed],
        **h.table_memory(table, before, peak),
    }


def measure(opts: h.Options) -> h.Json:
    rows = QUICK_ROWS if opts.quick else ROWS

    def one(side: str, i: int) -> h.Json:
        with h.fresh_dir("validation") as tmp:
            return h.run_worker(SCRIPT, side, side, {"rows": rows, "seed": i}, cwd=tmp)

    series = h.alternate(opts, one, label="validation")
    case = h.summarize(series, unit="s", better="lower", require_all=opts.samples)
    floors = [float(d["floor_s"]) for d in series.details.get("shipyard", [])]
    floor = statistics.median(floors) if floors else None
    mine = case["shipyard"]["median"]
    ratio = mine / floor if mine and floor else None
    case["duckdb_floor"] = {"median": floor, "samples": floors}
    counts = [float(d["counts_only_s"]) for d in series.details.get("shipyard", [])]
    counts_median = statistics.median(counts) if counts else None
    case["counts_only"] = {
        "what": "validate(..., failing_rows_limit=0): no example rows, one query",
        "median": counts_median,
        "samples": counts,
        "floor_ratio": counts_median / floor if counts_median and floor else None,
    }
    case["floor_ratio"] = ratio
    case["floor_ratio_meaning"] = "shipyard validate / hand-written single DuckDB query"
    case["target"] = {
        "text": f"validate within {TARGET_FLOOR_RATIO:g}x of the single DuckDB query",
        "met": None if ratio is None else ratio <= TARGET_FLOOR_RATIO,
    }
    case["peers"] = (
        "not measured yet: TODO pandera (target: Shipyard >= 2x faster) and Great "
        "Expectations (>= 8x) in their own venvs"
    )
    return {"validate": case}


if __name__ == "__main__":
    import sys

    if "--worker" not in sys.argv:  # peers not measured yet: Shipyard's side only
        if "--sides" in sys.argv:
            at = sys.argv.index("--sides")
            del sys.argv[at : at + 2]
        sys.argv += ["--sides", "shipyard"]
    h.main(
        figure="validation",
        description=f"validate: 22 checks on {ROWS:,} rows x 10 columns (s)",
        measure=measure,
        workers={"shipyard": shipyard_worker},
    )
