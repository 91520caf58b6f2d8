"""Figure: ``profile_table`` on 5,000,000 rows x 20 mixed columns, seconds and peak RSS.

No peer: Shipyard only. Each sample is a fresh worker that builds the table with a seeded NumPy
generator (8 float64, 4 int64, 4 strings of ~50 categories, 2 unique string ids, 1 timestamp,
1 bool; ~1% nulls per column), untimed, then times one ``profile_table`` call. It reports the
seconds, the process's RSS before profiling, its peak RSS during profiling (sampled every 20 ms)
and checks the profile: every column present, null counts match, histogram counts add up.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
ROWS = 5_000_000
QUICK_ROWS = 200_000
TARGET_S = 5.0


def _table(rows: int, seed: int) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)

    def nulls() -> Any:
        return rng.random(rows) < 0.01

    cats = pa.array([f"category-{i:02d}" for i in range(50)])
    cols: dict[str, Any] = {}
    for i in range(8):
        cols[f"f{i}"] = pa.array(rng.normal(i, 1 + i, rows), mask=nulls())
    for i in range(4):
        cols[f"i{i}"] = pa.array(rng.integers(0, 10 ** (i + 2), rows), mask=nulls())
    for i in range(4):
        codes = pa.array(rng.integers(0, 50, rows).astype("int32"), mask=nulls())
        cols[f"s{i}"] = pa.DictionaryArray.from_arrays(codes, cats).cast(pa.string())
    for i in range(2):
        ids = pc.cast(pa.array(rng.permutation(rows)), pa.string())
        joined = pc.binary_join_element_wise(f"id{i}-", ids, "")
        cols[f"id{i}"] = pc.if_else(pa.array(nulls()), pa.scalar(None, pa.string()), joined)
    start = np.datetime64("2026-01-01T00:00:00", "us").astype("int64")
    ticks = start + rng.integers(0, 365 * 86_400 * 10**6, rows)
    cols["ts"] = pa.array(ticks, mask=nulls()).cast(pa.timestamp("us", tz="UTC"))
    cols["flag"] = pa.array(rng.random(rows) < 0.3, mask=nulls())
    return pa.table(cols)


def _check(table: Any, profile: Any) -> None:
    if profile.num_rows != table.num_rows or profile.num_columns != 20:
        h.fail(f"profile has {profile.num_rows} rows x {profile.num_columns} columns")
    for col in profile.columns:
        if col.null_count != table.column(col.name).null_count:
            h.fail(f"column {col.name}: null_count {col.null_count} is wrong")
        hist = col.histogram
        if col.kind == "numeric" and (hist is None or sum(hist.counts) != col.count):
            h.fail(f"column {col.name}: histogram does not add up to {col.count}")
        if col.kind == "string" and not col.top:
            h.fail(f"column {col.name}: no top values")


def shipyard_worker(args: h.Json) -> h.Json:
    from shipyard.data.profile import profile_table

    table = _table(args["rows"], args["seed"])
    pid = os.getpid()
    before = h.rss_kib(pid)
    with h.RssSampler(pid, pid) as sampler:
        t0 = time.perf_counter()
        profile = profile_table(table)
        elapsed = time.perf_counter() - t0
    _check(table, profile)
    peak = max([*sampler.samples, h.rss_kib(pid)])
    return {
        "value": elapsed,
        **h.table_memory(table, before, peak),
    }


def measure(opts: h.Options) -> h.Json:
    rows = QUICK_ROWS if opts.quick else ROWS

    def one(side: str, i: int) -> h.Json:
        with h.fresh_dir("profile") as tmp:
            return h.run_worker(SCRIPT, side, side, {"rows": rows, "seed": i}, cwd=tmp)

    series = h.alternate(opts, one, label="profile")
    target = h.Target("below", TARGET_S, f"Shipyard < {TARGET_S:g} s")
    case = h.summarize(series, unit="s", better="lower", target=target, require_all=opts.samples)
    return {"profile_table": case}


if __name__ == "__main__":
    import sys

    if "--worker" not in sys.argv:  # no peer for this figure: Shipyard's side only
        if "--sides" in sys.argv:
            at = sys.argv.index("--sides")
            del sys.argv[at : at + 2]
        sys.argv += ["--sides", "shipyard"]
    h.main(
        figure="profile",
        description=f"profile_table on {ROWS:,} rows x 20 mixed columns (s)",
        measure=measure,
        workers={"shipyard": shipyard_worker},
    )
