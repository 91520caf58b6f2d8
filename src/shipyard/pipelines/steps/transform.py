"""``use: transform`` — reshape a dataset with DuckDB SQL and/or split it for training.

Input ``dataset``; ``with:``
  ``sql: "select * from data where tenure > 0"`` (the input is the table ``data``),
  ``split: {test_size: 0.25, stratify: churn, seed: 42}``.
Outputs ``train`` and ``test`` (dataset versions ``NAME-train``/``NAME-test``; without a split
``test`` is empty of rows and ``train`` holds everything). Content-addressed: the same input
and params give the same versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.errors import InvalidArgument
from shipyard.pipelines.steps import Builtin, StepContext


def run(ctx: StepContext) -> Mapping[str, Any]:
    import duckdb
    import numpy as np

    from shipyard.data.fluent import ingest_dataset, load_dataset

    ref = str(ctx.inputs["dataset"])
    table = load_dataset(ref, run_id=ctx.run_id)
    name = str(ctx.params.get("name") or ref.split("@")[0])
    sql = ctx.params.get("sql")
    if sql:
        con = duckdb.connect()
        con.register("data", table)
        try:
            table = con.sql(str(sql)).to_arrow_table()
        except duckdb.Error as exc:
            raise InvalidArgument(f"step {ctx.step!r}: the sql failed: {exc}") from exc
        finally:
            con.close()
    split = ctx.params.get("split") or {}
    if not isinstance(split, Mapping):
        raise InvalidArgument(f"step {ctx.step!r}: split must be a mapping like {{test_size: 0.2}}")
    test_size = float(split.get("test_size", 0.0))
    if not 0.0 <= test_size < 1.0:
        raise InvalidArgument(f"step {ctx.step!r}: split.test_size must be in [0, 1)")
    n = table.num_rows
    is_test = np.zeros(n, dtype=bool)
    if test_size > 0:
        from sklearn.model_selection import train_test_split

        strat_col = split.get("stratify")
        strat = table.column(strat_col).to_numpy(zero_copy_only=False) if strat_col else None
        _, test_idx = train_test_split(
            np.arange(n),
            test_size=test_size,
            stratify=strat,
            random_state=int(split.get("seed", 0)),
        )
        is_test[test_idx] = True
    train = table.filter(~is_test)
    test = table.filter(is_test)
    out = {
        "train": ingest_dataset(train, name=f"{name}-train").version.ref,
        "test": ingest_dataset(test, name=f"{name}-test").version.ref,
    }
    return out


STEP = Builtin(
    name="transform",
    version="1",
    run=run,
    inputs=("dataset",),
    outputs={"train": "dataset", "test": "dataset"},
    doc=__doc__ or "",
)
