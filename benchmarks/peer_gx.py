"""Great Expectations' side of ``bench_validation.py``: the 22-rule suite as a GX 1.x suite.

Runs in GX's own venv (``benchmarks/.peers/gx``): an ephemeral context, a pandas datasource with
a dataframe asset and a whole-dataframe batch definition, one ``ValidationDefinition`` run in
one of two modes (``MODES``): "counts", ``result_format="BASIC"`` (unexpected counts and up to
20 example values per expectation, the output of Shipyard's default), and "fastest",
``result_format="BOOLEAN_ONLY"`` (pass or fail only). 25 expectations express the 22 rules:

=============================  ==============================================================
Shipyard rule                  GX expectation
=============================  ==============================================================
cols (4 typed columns)         4 x ``ExpectColumnValuesToBeOfType`` (the pandas dtype of the
                               frame's configuration)
rows (min 1)                   ``ExpectTableRowCountToBeBetween(min_value=1)``
x_nn                           ``ExpectColumnValuesToNotBeNull`` (``mostly=0.98`` for
                               max_null_fraction 0.02)
id_uq                          ``ExpectColumnValuesToBeUnique`` (counts every row of a
                               duplicated value: 20 where Shipyard counts 10)
ranges                         ``ExpectColumnValuesToBeBetween`` (``strict_min`` for price)
email_rx                       ``ExpectColumnValuesToMatchRegex``
allowed values                 ``ExpectColumnValuesToBeInSet``
ts_fresh                       ``ExpectColumnMaxToBeBetween(min_value=now - 7 days)``
total_ge (approximated)        GX has no row expression on pandas (``UnexpectedRowsExpectation``
                               is SQL-only): ``half_cost = price * qty * 0.5`` is added to the
                               frame inside the timed part, then
                               ``ExpectColumnPairValuesAToBeGreaterThanB(total, half_cost,
                               or_equal=True, ignore_row_if="either_value_is_missing")``
pro_price (rewritten)          ``ExpectColumnValuesToBeBetween(price, min_value=10,
                               row_condition='plan=="pro"', condition_parser="pandas")``,
                               ``severity="warning"``
=============================  ==============================================================
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import _harness as h
import bench_validation as bv

MODES = {
    "counts": 'result_format="BASIC": unexpected_count and 20 example values per expectation',
    "fastest": 'result_format="BOOLEAN_ONLY": each expectation\'s success flag only',
}
RESULT_FORMATS = {"counts": "BASIC", "fastest": "BOOLEAN_ONLY"}

# Rules whose GX expectation reports no unexpected_count (aggregate or schema expectations).
UNCOUNTED = frozenset({"cols", "rows", "ts_fresh"})


def _type_names(config: str) -> dict[str, str]:
    """The ``type_`` GX compares with ``dtype.type`` for each typed column, per configuration."""
    if config == "arrow":
        return {"id": "int", "qty": "int", "price": "float", "email": "str"}
    qty = "int64" if config == "nullable" else "float64"  # pandas turns int + nulls into float
    return {"id": "int64", "qty": qty, "price": "float64", "email": "str"}


def expectations(config: str) -> list[tuple[str, Any]]:
    """(Shipyard rule name, GX expectation) for every rule; 25 expectations for 22 rules."""
    import great_expectations.expectations as gxe

    now = dt.datetime.fromisoformat(bv.NOW)
    mostly = 1 - bv.MAX_NULL_FRACTION
    utc = dt.UTC
    ts_lo = dt.datetime.fromisoformat(bv.TS_MIN).replace(tzinfo=utc)
    ts_hi = dt.datetime.fromisoformat(bv.TS_MAX).replace(tzinfo=utc)
    between = gxe.ExpectColumnValuesToBeBetween
    not_null = gxe.ExpectColumnValuesToNotBeNull
    types = [
        ("cols", gxe.ExpectColumnValuesToBeOfType(column=c, type_=t))
        for c, t in _type_names(config).items()
    ]
    return [
        *types,
        ("rows", gxe.ExpectTableRowCountToBeBetween(min_value=1)),
        ("id_nn", not_null(column="id")),
        ("id_uq", gxe.ExpectColumnValuesToBeUnique(column="id")),
        ("qty_nn", not_null(column="qty", mostly=mostly)),
        ("qty_rg", between(column="qty", min_value=0, max_value=1000)),
        ("age_nn", not_null(column="age", mostly=mostly)),
        ("age_rg", between(column="age", min_value=18, max_value=99)),
        ("price_nn", not_null(column="price", mostly=mostly)),
        ("price_rg", between(column="price", min_value=0, max_value=10000, strict_min=True)),
        ("score_rg", between(column="score", min_value=-5, max_value=5)),
        ("email_nn", not_null(column="email", mostly=mostly)),
        ("email_rx", gxe.ExpectColumnValuesToMatchRegex(column="email", regex=bv.EMAIL_RX)),
        (
            "cat_av",
            gxe.ExpectColumnValuesToBeInSet(column="category", value_set=list(bv.CATEGORIES)),
        ),
        ("cat_nn", not_null(column="category", mostly=mostly)),
        ("plan_av", gxe.ExpectColumnValuesToBeInSet(column="plan", value_set=list(bv.PLANS))),
        ("ts_nn", not_null(column="ts", mostly=mostly)),
        ("ts_rg", between(column="ts", min_value=ts_lo, max_value=ts_hi)),
        (
            "ts_fresh",
            gxe.ExpectColumnMaxToBeBetween(
                column="ts", min_value=now - dt.timedelta(days=bv.FRESH_DAYS)
            ),
        ),
        (
            "total_ge",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="total",
                column_B="half_cost",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ),
        (
            "pro_price",
            between(
                column="price",
                min_value=10,
                row_condition='plan=="pro"',
                condition_parser="pandas",
                severity="warning",
            ),
        ),
        ("total_rg", between(column="total", min_value=0)),
    ]


def validation(config: str) -> Any:
    """An ephemeral context's validation definition for the suite; each expectation's
    ``meta["rule"]`` names the Shipyard rule it expresses."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("pandas").add_dataframe_asset("table")
    batch = asset.add_batch_definition_whole_dataframe("whole")
    tagged = []
    for rule, expectation in expectations(config):
        expectation.meta = {"rule": rule}
        tagged.append(expectation)
    suite = context.suites.add(gx.ExpectationSuite(name="bench", expectations=tagged))
    definition = gx.ValidationDefinition(name="bench", data=batch, suite=suite)
    return context.validation_definitions.add(definition)


def run(definition: Any, df: Any, result_format: str) -> Any:
    """Add the derived ``half_cost`` column, then run the validation (both are timed)."""
    df["half_cost"] = df["price"] * df["qty"] * 0.5
    return definition.run(batch_parameters={"dataframe": df}, result_format=result_format)


def rule_outcomes(result: Any) -> dict[str, h.Json]:
    """Each rule's passed flag and failed row count (None where GX reports no count).

    A rule of several expectations (``cols``) passes when all of them do. ``pro_price`` is a
    warning-severity expectation: "passed" is its own success flag.
    """
    passed: dict[str, bool] = {}
    failed: dict[str, int | None] = {}
    for res in result.results:
        rule = res.expectation_config.meta["rule"]
        if res.exception_info.get("raised_exception"):
            raise RuntimeError(f"GX expectation for {rule} raised: {res.exception_info}")
        passed[rule] = passed.get(rule, True) and bool(res.success)
        count = res.result.get("unexpected_count")
        failed[rule] = None if rule in UNCOUNTED or count is None else int(count)
    return {rule: bv.outcome(passed[rule], failed[rule]) for rule in bv.RULES}


def worker(args: h.Json) -> h.Json:
    """Read the table (untimed), convert it, validate once in ``args["mode"]`` (timed, peak
    RSS), report each rule's outcome."""
    import great_expectations as gx

    config, mode = args["pandas_dtypes"], args["mode"]
    result_format = RESULT_FORMATS[mode]
    table = bv.read_table(args["path"])
    df = bv.to_pandas(table, config)
    del table
    bv.release_memory()
    frame_mib = round(float(df.memory_usage(deep=True).sum()) / 2**20, 1)
    definition = validation(config)
    run(definition, df.iloc[:1000].copy(), result_format)  # warm-up: imports, regex compile
    elapsed, result, before, peak = bv.measured(lambda: run(definition, df, result_format))
    return {
        "value": elapsed,
        "rules": rule_outcomes(result),
        "expectations": len(result.results),
        "mode": mode,
        "mode_means": MODES[mode],
        "pandas_dtypes": config,
        "frame_mib": frame_mib,
        "versions": _versions(gx.__version__),
        **bv.memory_fields(args, before, peak),
    }


def _versions(gx_version: str) -> dict[str, str]:
    import numpy
    import pandas
    import pyarrow

    return {
        "great_expectations": gx_version,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "numpy": numpy.__version__,
    }
