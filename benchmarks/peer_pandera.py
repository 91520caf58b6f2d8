"""pandera's side of ``bench_validation.py``: the 22-rule suite as a ``DataFrameSchema``.

Runs in pandera's own venv (``benchmarks/.peers/pandera``), ``schema.validate(df, lazy=True)``,
in one of two modes (``MODES``): "counts", pandera's default, collects every failure case (the
only way to count failing rows per check, as Shipyard reports); "fastest" sets
``n_failure_cases=20`` on every check (up to 20 failure cases each, no counts), which skips
most of the cost of formatting millions of failure cases. Each check is named after the
Shipyard rule it expresses, so the failure cases count per rule:

=============================  ==============================================================
Shipyard rule                  pandera
=============================  ==============================================================
cols (4 typed columns)         ``Column(dtype)`` on id, qty, price, email (pandas dtypes of
                               the frame's configuration, e.g. ``int64[pyarrow]``)
rows (min 1)                   frame-wide ``Check(len(df) >= 1)``
x_nn, no nulls allowed         ``nullable=False``
x_nn, max_null_fraction 0.02   ``nullable=True`` + ``Check(s.isna().mean() <= 0.02)`` (pass or
                               fail only: no count)
id_uq                          ``unique=True, report_duplicates="exclude_first"``
ranges                         ``Check.in_range`` / ``Check.ge`` (nulls ignored, as in SQL)
email_rx                       ``Check.str_matches`` (anchored pattern, same result)
allowed values                 ``Check.isin``
ts_fresh                       ``Check(s.max() >= now - 7 days)``
total_ge, pro_price            frame-wide vectorized ``Check``; NULL operands pass, as in SQL;
                               pro_price with ``raise_warning=True`` (Shipyard's ``warn``), so
                               pandera reports it as a SchemaWarning without a count
=============================  ==============================================================
"""

from __future__ import annotations

import warnings
from typing import Any

import _harness as h
import bench_validation as bv

MODES = {
    "counts": "pandera's default: every failure case of every check (failing rows per check)",
    "fastest": "n_failure_cases=20 on every check: up to 20 failure cases each, no counts",
}
EXAMPLES = 20

# Rules pandera checks with a scalar (pass/fail) check, or as a warning: no failed-row count.
UNCOUNTED = frozenset(
    {"cols", "rows", "ts_fresh", "pro_price"}
    | {f"{c}_nn" for c in ("qty", "age", "price", "email", "cat", "ts")}
)


def _dtypes(config: str) -> dict[str, Any]:
    """The pandas dtype the ``cols`` rule requires for each typed column, per configuration."""
    import pandas as pd
    import pyarrow as pa

    if config == "arrow":
        arrow = {"id": pa.int64(), "qty": pa.int64(), "price": pa.float64(), "email": pa.string()}
        return {name: pd.ArrowDtype(t) for name, t in arrow.items()}
    ints = "Int64" if config == "nullable" else "int64"
    qty = "Int64" if config == "nullable" else "float64"  # pandas turns int + nulls into float
    return {
        "id": ints,
        "qty": qty,
        "price": "float64",
        "email": pd.StringDtype(na_value=float("nan")),
    }


def schema(config: str, *, failure_cases: int | None = None) -> Any:
    """The 22 rules as a pandera ``DataFrameSchema`` for a frame in ``config`` dtypes.

    ``failure_cases``: pandera's ``n_failure_cases`` for every check (None: all of them).
    """
    import pandas as pd
    import pandera.pandas as pa

    now = pd.Timestamp(bv.NOW)
    fresh_after = now - pd.Timedelta(days=bv.FRESH_DAYS)
    types = _dtypes(config)

    def nulls_at_most(name: str) -> Any:
        return pa.Check(lambda s: bool(s.isna().mean() <= bv.MAX_NULL_FRACTION), name=name)

    def column(dtype: Any, *checks: Any) -> Any:
        return pa.Column(dtype, list(checks), nullable=True)

    def half_cost_covered(df: Any) -> Any:
        cost = df["price"] * df["qty"] * 0.5
        return (df["total"] >= cost).fillna(True) | cost.isna() | df["total"].isna()

    def pro_price_ok(df: Any) -> Any:
        return (~((df["plan"] == "pro") & (df["price"] < 10))).fillna(True)

    ts_lo, ts_hi = pd.Timestamp(bv.TS_MIN, tz="UTC"), pd.Timestamp(bv.TS_MAX, tz="UTC")
    built = pa.DataFrameSchema(
        {
            "id": pa.Column(
                types["id"], nullable=False, unique=True, report_duplicates="exclude_first"
            ),
            "qty": column(
                types["qty"], nulls_at_most("qty_nn"), pa.Check.in_range(0, 1000, name="qty_rg")
            ),
            "age": column(None, nulls_at_most("age_nn"), pa.Check.in_range(18, 99, name="age_rg")),
            "price": column(
                types["price"],
                nulls_at_most("price_nn"),
                pa.Check.in_range(0, 10000, include_min=False, name="price_rg"),
            ),
            "score": column(None, pa.Check.in_range(-5, 5, name="score_rg")),
            "email": column(
                types["email"],
                nulls_at_most("email_nn"),
                pa.Check.str_matches(bv.EMAIL_RX, name="email_rx"),
            ),
            "category": column(
                None, pa.Check.isin(bv.CATEGORIES, name="cat_av"), nulls_at_most("cat_nn")
            ),
            "plan": column(None, pa.Check.isin(bv.PLANS, name="plan_av")),
            "ts": column(
                None,
                nulls_at_most("ts_nn"),
                pa.Check.in_range(ts_lo, ts_hi, name="ts_rg"),
                pa.Check(lambda s: bool(s.max() >= fresh_after), name="ts_fresh"),
            ),
            "total": column(None, pa.Check.ge(0, name="total_rg")),
        },
        checks=[
            pa.Check(lambda df: len(df) >= 1, name="rows"),
            pa.Check(half_cost_covered, name="total_ge"),
            pa.Check(pro_price_ok, name="pro_price", raise_warning=True),
        ],
    )
    for check in [*built.checks, *(c for col in built.columns.values() for c in col.checks)]:
        check.n_failure_cases = failure_cases
    return built


def run(schema_: Any, df: Any) -> tuple[Any, list[str]]:
    """Validate ``df`` lazily: (the failure cases frame or None, the warning messages)."""
    import pandera.errors as pe

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pe.SchemaWarning)
        try:
            schema_.validate(df, lazy=True)
            failures = None
        except pe.SchemaErrors as exc:
            failures = exc.failure_cases
    return failures, [str(w.message) for w in caught if issubclass(w.category, pe.SchemaWarning)]


KEY = ["schema_context", "column", "check", "check_number"]


def _rule_of(schema_: Any, key: dict[str, Any]) -> str:
    """The Shipyard rule of a failure-case group (built-in checks report their own text, so
    named checks are found by position: ``check_number`` in the column's or frame's list)."""
    check = str(key["check"])
    if check.startswith("dtype(") or check == "column_in_dataframe":
        return "cols"
    if check == "not_nullable":
        return f"{key['column']}_nn"
    if check == "field_uniqueness":
        return f"{key['column']}_uq"
    frame_wide = key["schema_context"] == "DataFrameSchema"
    owner = schema_ if frame_wide else schema_.columns[key["column"]]
    return str(owner.checks[int(key["check_number"])].name)


def rule_outcomes(
    schema_: Any, failures: Any, warned: list[str], *, counted: bool = True
) -> dict[str, h.Json]:
    """Each rule's passed flag and failed row count (None where pandera gives no count, and
    for every rule when not ``counted``: the failure cases were cut at ``n_failure_cases``).

    A frame-wide check lists a failing row once per column: rows are counted once.
    """
    import pandas as pd

    failed: dict[str, int | None] = {}
    if failures is not None:
        indexes: dict[str, list[Any]] = {}
        for key, group in failures.groupby(KEY, dropna=False, sort=False):
            rule = _rule_of(schema_, dict(zip(KEY, key, strict=True)))
            indexes.setdefault(rule, []).append(group["index"])
        for rule, parts in indexes.items():
            rows = int(pd.concat(parts).dropna().nunique())
            failed[rule] = rows or None  # a scalar check has no failing row index
    for message in warned:
        failed.update({rule: None for rule in bv.RULES if f"<Check {rule}>" in message})
    uncounted = UNCOUNTED if counted else frozenset(bv.RULES)
    return {
        rule: bv.outcome(rule not in failed, None if rule in uncounted else failed.get(rule, 0))
        for rule in bv.RULES
    }


def worker(args: h.Json) -> h.Json:
    """Read the table (untimed), convert it, validate once in ``args["mode"]`` (timed, peak
    RSS), report each rule's outcome."""
    import pandera

    config, mode = args["pandas_dtypes"], args["mode"]
    table = bv.read_table(args["path"])
    df = bv.to_pandas(table, config)
    del table
    bv.release_memory()
    checker = schema(config, failure_cases=EXAMPLES if mode == "fastest" else None)
    run(checker, df.iloc[:1000])  # warm-up: imports, regex compile
    elapsed, (failures, warned), before, peak = bv.measured(lambda: run(checker, df))
    return {
        "value": elapsed,
        "rules": rule_outcomes(checker, failures, warned, counted=mode == "counts"),
        "mode": mode,
        "mode_means": MODES[mode],
        "pandas_dtypes": config,
        "frame_mib": round(float(df.memory_usage(deep=True).sum()) / 2**20, 1),
        "versions": _versions(pandera.__version__),
        **bv.memory_fields(args, before, peak),
    }


def _versions(pandera_version: str) -> dict[str, str]:
    import numpy
    import pandas
    import pyarrow

    return {
        "pandera": pandera_version,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "numpy": numpy.__version__,
    }
