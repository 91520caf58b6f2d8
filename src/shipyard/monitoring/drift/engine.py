"""``compute_drift``: every column of a reference and a current set of rows, tested at once.

Inputs become Arrow tables at the edge. Numeric columns are turned into float64 NumPy arrays
(nulls, NaN and infinities dropped and counted as nulls) and sorted once per side, in a thread
pool (NumPy sorts outside the GIL); categorical columns are counted with Arrow's
``value_counts``. The statistics and each column's p-value come from :mod:`.stats`, computed in
the column's worker thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidArgument
from shipyard.monitoring.drift import stats
from shipyard.monitoring.drift.config import DriftConfig
from shipyard.monitoring.drift.entities import ColumnDrift, Distribution, DriftReport
from shipyard.monitoring.drift.inputs import Columns, to_columns

__all__ = ["column_kind", "compute_drift"]

MAX_NEW_CATEGORIES_LISTED = 100
PARALLEL_MIN_ROWS = 250_000  # columns run in parallel threads from this many rows a side
OTHER = "(other)"
EFFECT_SIZE_NAMES = {
    "ks": "wasserstein_norm",
    "wasserstein": "wasserstein_norm",
    "psi": "psi",
    "chi2": "jensenshannon",
    "jensenshannon": "jensenshannon",
}
P_VALUE_OF = {"ks": "ks_p_value", "chi2": "chi2_p_value"}
STATISTIC_OF = {"ks": "ks", "wasserstein": "wasserstein", "psi": "psi", "chi2": "chi2"}


def column_kind(dtype: pa.DataType) -> str | None:
    """ "numeric" or "categorical" for an Arrow type (None when drift cannot be tested on it)."""
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if pa.types.is_boolean(dtype) or pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "categorical"
    if (
        pa.types.is_integer(dtype)
        or pa.types.is_floating(dtype)
        or pa.types.is_decimal(dtype)
        or pa.types.is_temporal(dtype)
    ):
        return "numeric"
    return None


# -- inputs ----------------------------------------------------------------------------------------


def _chosen_columns(ref: Columns, cur: Columns, columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        if isinstance(columns, str):
            columns = [columns]
        wanted = list(dict.fromkeys(columns))
        if not wanted:
            raise InvalidArgument("columns= is empty: name at least one column, or pass None")
        for side, table in (("reference", ref), ("current", cur)):
            missing = [c for c in wanted if c not in table.column_names]
            if missing:
                raise InvalidArgument(
                    f"the {side} data has no column {', '.join(map(repr, missing))}; it has: "
                    f"{', '.join(table.column_names)}"
                )
        return wanted
    only_ref = [c for c in ref.column_names if c not in cur.column_names]
    only_cur = [c for c in cur.column_names if c not in ref.column_names]
    if only_ref or only_cur:
        parts = []
        if only_ref:
            parts.append(f"only the reference has {', '.join(map(repr, only_ref))}")
        if only_cur:
            parts.append(f"only the current data has {', '.join(map(repr, only_cur))}")
        raise InvalidArgument(
            f"the reference and current data have different columns: {'; '.join(parts)}. "
            "Pass columns=[...] (--columns on the command line) to compare the columns they share"
        )
    return list(ref.column_names)


def _kinds(ref: Columns, cur: Columns, names: list[str], config: DriftConfig) -> dict[str, str]:
    kinds = {}
    for name in names:
        rtype, ctype = ref.schema.field(name).type, cur.schema.field(name).type
        rkind, ckind = column_kind(rtype), column_kind(ctype)
        forced = config.column(name).kind
        # a side whose every value is null (Arrow type null) takes the other side's kind: the
        # column is reported as skipped, not refused
        if pa.types.is_null(rtype) and pa.types.is_null(ctype):
            rkind = ckind = forced or "numeric"
        elif pa.types.is_null(rtype):
            rkind = ckind
        elif pa.types.is_null(ctype):
            ckind = rkind
        if rkind is None or ckind is None:
            bad = rtype if rkind is None else ctype
            raise InvalidArgument(
                f"column {name!r} has type {bad}, which drift cannot test (numbers, times, "
                "strings, booleans and categories can); leave it out with columns=[...]"
            )
        if rkind != ckind and forced != "categorical":
            raise InvalidArgument(
                f"column {name!r} is {rtype} ({rkind}) in the reference but {ctype} ({ckind}) "
                "in the current data; cast one side, or set its kind to categorical"
            )
        kind = forced or rkind
        if kind == "numeric" and rkind != "numeric":
            raise InvalidArgument(
                f"column {name!r} is {rtype}, so it cannot be tested as numeric; drop kind: "
                "numeric from its settings"
            )
        kinds[name] = kind
    return kinds


# -- per column ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Numeric:
    nulls: tuple[int, int]
    sizes: tuple[int, int]
    stats: stats.NumericStats | None
    p_value: float | None


@dataclass(frozen=True)
class _Categorical:
    nulls: tuple[int, int]
    sizes: tuple[int, int]
    labels: list[str]
    ref_counts: Any
    cur_counts: Any
    stats: stats.CategoricalStats | None
    p_value: float | None


def _temporal_ticks(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """A temporal column as int64 microseconds, whatever its unit: dates and timestamps since
    the epoch (a time zone's instants in UTC, naive ones as written), durations and times of
    day as lengths. Finer units are truncated to the microsecond."""
    dtype = col.type
    if pa.types.is_date(dtype) or pa.types.is_timestamp(dtype):
        tz = dtype.tz if pa.types.is_timestamp(dtype) else None
        target: pa.DataType = pa.timestamp("us", tz=tz)
    elif pa.types.is_duration(dtype):
        target = pa.duration("us")
    else:  # time32 / time64
        target = pa.time64("us")
    return pc.cast(pc.cast(col, target, safe=False), pa.int64())


def _sorted_values(col: pa.ChunkedArray) -> Any:
    """The column's finite values (no nulls, NaN or infinities) as a sorted float64 array."""
    dtype = col.type
    if pa.types.is_null(dtype):
        return np.empty(0, dtype=np.float64)
    if pa.types.is_dictionary(dtype):
        col, dtype = col.cast(dtype.value_type), dtype.value_type
    if pa.types.is_temporal(dtype):
        col = _temporal_ticks(col)
    if col.null_count:
        col = pc.drop_null(col)
    values = np.sort(col.to_numpy().astype(np.float64, copy=False))
    if len(values) and not (np.isfinite(values[0]) and np.isfinite(values[-1])):
        values = values[np.isfinite(values)]  # sorting put NaN and infinities at the ends
    return values


def _numeric(ref: pa.ChunkedArray, cur: pa.ChunkedArray, config: DriftConfig) -> _Numeric:
    a, b = _sorted_values(ref), _sorted_values(cur)
    nulls = (len(ref) - len(a), len(cur) - len(b))
    if not len(a) or not len(b):
        return _Numeric(nulls, (len(a), len(b)), None, None)
    result = stats.numeric_stats(a, b, psi_bins=config.psi_bins, plot_bins=config.plot_bins)
    p_value = stats.ks_p_value(a, b, result.ks)
    return _Numeric(nulls, (len(a), len(b)), result, p_value)


def _counts(col: pa.ChunkedArray) -> tuple[pa.Array, Any]:
    """The non-null distinct values of ``col`` as strings, and their counts."""
    if pa.types.is_null(col.type):
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int64)
    counted = pc.value_counts(col)
    values, counts = counted.field("values"), counted.field("counts")
    if isinstance(values, pa.DictionaryArray):
        values = values.dictionary_decode()
    if values.null_count:
        keep = pc.is_valid(values)
        values, counts = values.filter(keep), counts.filter(keep)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.string())
    return values.cast(pa.string()), counts.to_numpy()


def _categorical(ref: pa.ChunkedArray, cur: pa.ChunkedArray) -> _Categorical:
    ref_values, ref_n = _counts(ref)
    cur_values, cur_n = _counts(cur)
    labels = pc.unique(pa.concat_arrays([ref_values, cur_values]))
    aligned = []
    for values, counts in ((ref_values, ref_n), (cur_values, cur_n)):
        out = np.zeros(len(labels), dtype=np.int64)
        out[pc.index_in(values, value_set=labels).to_numpy()] = counts
        aligned.append(out)
    sizes = (int(aligned[0].sum()), int(aligned[1].sum()))
    nulls = (len(ref) - sizes[0], len(cur) - sizes[1])
    result = stats.categorical_stats(aligned[0], aligned[1]) if all(sizes) else None
    p_value = stats.chi2_p_value(result.chi2, result.dof) if result else None
    return _Categorical(nulls, sizes, labels.to_pylist(), aligned[0], aligned[1], result, p_value)


def _category_plot(col: _Categorical, top: int) -> Distribution:
    ref_share = col.ref_counts / max(col.sizes[0], 1)
    cur_share = col.cur_counts / max(col.sizes[1], 1)
    order = np.argsort(-(ref_share + cur_share), kind="stable")
    shown, rest = order[:top], order[top:]
    labels = [col.labels[i] for i in shown]
    ref_out, cur_out = ref_share[shown].tolist(), cur_share[shown].tolist()
    if len(rest):
        labels.append(OTHER)
        ref_out.append(float(ref_share[rest].sum()))
        cur_out.append(float(cur_share[rest].sum()))
    return Distribution(tuple(ref_out), tuple(cur_out), labels=tuple(labels))


# -- assembling results ----------------------------------------------------------------------------


def _decide(
    name: str, kind: str, values: dict[str, float | None], config: DriftConfig
) -> dict[str, Any]:
    test = config.test_for(name, kind)
    threshold = config.threshold_for(name, test)
    p_key = P_VALUE_OF.get(test)
    alpha = config.alpha_for(name) if p_key else None
    p_value = values[p_key] if p_key else None
    effect = values[EFFECT_SIZE_NAMES[test]]
    significant = p_value is None or (alpha is not None and p_value < alpha)
    return {
        "test": test,
        "statistic": values[STATISTIC_OF.get(test, test)],
        "p_value": p_value,
        "effect_size": effect,
        "effect_size_name": EFFECT_SIZE_NAMES[test],
        "threshold": threshold,
        "alpha": alpha,
        "drifted": bool(significant and effect is not None and effect >= threshold),
    }


def _skipped(name: str, sizes: tuple[int, int]) -> str | None:
    sides = [side for side, n in zip(("reference", "current"), sizes, strict=True) if n == 0]
    if not sides:
        return None
    return f"every value of {name!r} is null in the {' and the '.join(sides)} data"


def _numeric_result(
    name: str, col: _Numeric, p_value: float | None, config: DriftConfig
) -> ColumnDrift:
    s = col.stats
    values: dict[str, float | None] = {
        "ks": s.ks if s else None,
        "ks_p_value": p_value,
        "wasserstein": s.wasserstein if s else None,
        "wasserstein_norm": s.wasserstein_norm if s else None,
        "psi": s.psi if s else None,
    }
    dist = Distribution(s.ref_shares, s.cur_shares, edges=s.edges) if s else None
    return _result(name, "numeric", col.sizes, col.nulls, values, dist, (), config)


def _categorical_result(
    name: str, col: _Categorical, p_value: float | None, config: DriftConfig
) -> ColumnDrift:
    s = col.stats
    values: dict[str, float | None] = {
        "chi2": s.chi2 if s else None,
        "chi2_p_value": p_value,
        "dof": float(s.dof) if s else None,
        "jensenshannon": s.jensenshannon if s else None,
        "psi": s.psi if s else None,
    }
    new = (
        tuple(
            col.labels[i] for i in np.flatnonzero(col.ref_counts == 0)[:MAX_NEW_CATEGORIES_LISTED]
        )
        if col.sizes[0]
        else ()
    )
    dist = _category_plot(col, config.plot_categories) if s else None
    return _result(name, "categorical", col.sizes, col.nulls, values, dist, new, config)


def _result(
    name: str,
    kind: str,
    sizes: tuple[int, int],
    nulls: tuple[int, int],
    values: dict[str, float | None],
    dist: Distribution | None,
    new: tuple[str, ...],
    config: DriftConfig,
) -> ColumnDrift:
    skipped = _skipped(name, sizes)
    decided = _decide(name, kind, values, config)
    if skipped:
        decided["drifted"] = False
    return ColumnDrift(
        column=name,
        kind=kind,
        n_ref=sizes[0],
        n_cur=sizes[1],
        null_ref=nulls[0],
        null_cur=nulls[1],
        statistics=values,
        distribution=dist,
        new_categories=new,
        skipped=skipped,
        **decided,
    )


def _threads(n_tasks: int, rows: int) -> int:
    """Threads for ``n_tasks`` columns of up to ``rows`` values a side: at most the CPUs this
    process may run on, and one below ``PARALLEL_MIN_ROWS`` (shorter NumPy calls hand the GIL
    back and forth more often than threads save, measured at 100,000 rows)."""
    if rows < PARALLEL_MIN_ROWS:
        return 1
    return max(1, min(n_tasks, len(os.sched_getaffinity(0))))


def _map(fn: Any, items: Sequence[Any], threads: int) -> list[Any]:
    """``fn`` over ``items`` on ``threads`` threads, with BLAS (SciPy's exact KS tails multiply
    matrices) held to one thread of its own so the two pools do not oversubscribe the CPUs."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=1, user_api="blas"):
        if threads <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(fn, items))


def compute_drift(
    reference: Any,
    current: Any,
    *,
    config: DriftConfig | None = None,
    columns: Sequence[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> DriftReport:
    """Test every column (or ``columns``) of ``current`` against ``reference`` for drift.

    Both sides are pandas DataFrames, Arrow tables or ``ParquetColumns`` (a Parquet file read
    one column at a time) with the same columns (or at least ``columns``). Numeric columns get
    ``config.numeric_test`` (KS by default), categorical ones (strings, booleans,
    dictionaries) ``config.categorical_test`` (chi-square), unless the column's own settings
    say otherwise; every column also carries its other statistics (see :class:`ColumnDrift`).
    A prediction column is tested like any other. ``thresholds`` ({column: effect size}) set
    per-column thresholds over ``config``'s; each must name a tested column.

    Raises:
        InvalidArgument: a side is empty, not a table, lacks a column, or a column's type
            differs between the sides or cannot be tested; a threshold names a column that
            is not tested.
        ConfigError: a column's configured test does not fit its kind.

    >>> import pandas as pd
    >>> ref = pd.DataFrame({"plan": ["a", "b"] * 50})
    >>> r = compute_drift(ref, pd.DataFrame({"plan": ["a"] * 90 + ["c"] * 10}))
    >>> r.column("plan").drifted, r.column("plan").new_categories
    (True, ('c',))
    """
    started = time.perf_counter()
    config = config if config is not None else DriftConfig()
    if not isinstance(config, DriftConfig):
        raise InvalidArgument(f"config must be a DriftConfig, not {type(config).__name__}")
    ref, cur = to_columns(reference, "reference"), to_columns(current, "current")
    for side, table in (("reference", ref), ("current", cur)):
        if table.num_rows == 0:
            raise InvalidArgument(
                f"the {side} data is empty (0 rows): drift needs rows on both sides; widen the "
                "window or check the source"
            )
    names = _chosen_columns(ref, cur, columns)
    if thresholds:
        unknown = [c for c in thresholds if c not in names]
        if unknown:
            raise InvalidArgument(
                f"threshold(s) for column(s) {', '.join(map(repr, unknown))} that are not "
                f"tested; the tested columns are {', '.join(map(repr, names))}: fix the "
                "column name, or include it with columns=[...] (--columns)"
            )
        config = config.with_thresholds(thresholds)
    kinds = _kinds(ref, cur, names, config)
    numeric = [n for n in names if kinds[n] == "numeric"]
    categorical = [n for n in names if kinds[n] == "categorical"]
    tasks = [("n", n) for n in numeric] + [("c", n) for n in categorical]

    def run(task: tuple[str, str]) -> _Numeric | _Categorical:
        kind, name = task
        if kind == "n":
            return _numeric(ref.column(name), cur.column(name), config)
        return _categorical(ref.column(name), cur.column(name))

    threads = _threads(len(tasks), max(ref.num_rows, cur.num_rows))
    computed = dict(zip([n for _, n in tasks], _map(run, tasks, threads), strict=True))
    results = _assemble(names, computed, config)
    return DriftReport(
        columns=tuple(results[n] for n in names),
        n_ref_rows=ref.num_rows,
        n_cur_rows=cur.num_rows,
        config=config,
        duration_s=time.perf_counter() - started,
    )


def _assemble(
    names: list[str], computed: dict[str, _Numeric | _Categorical], config: DriftConfig
) -> dict[str, ColumnDrift]:
    """Per-column results, in column order."""
    out = {}
    for name in names:
        col = computed[name]
        if isinstance(col, _Numeric):
            out[name] = _numeric_result(name, col, col.p_value, config)
        else:
            out[name] = _categorical_result(name, col, col.p_value, config)
    return out
