"""``use: predict`` — batch prediction (``shipyard predict``) on the pipeline's executor.

Inputs ``model`` and ``dataset`` (or ``with: {input: path}``); ``with: {output:
scored.parquet, key: customer_id, chunk_rows: 100000}``. Output ``predictions`` (the
output path) — chunks are predicted in parallel on the executor.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard.pipelines.steps import Builtin, StepContext


def run(ctx: StepContext) -> Mapping[str, Any]:
    from shipyard.serving.batch import DEFAULT_CHUNK_ROWS, predict_batch

    output = ctx.path(str(ctx.param("output")))
    with tempfile.TemporaryDirectory(prefix="shipyard-predict-") as tmp:
        if "dataset" in ctx.inputs:
            import pyarrow.parquet as pq

            from shipyard.data.fluent import load_dataset

            source: Path = Path(tmp) / "input.parquet"
            pq.write_table(load_dataset(str(ctx.inputs["dataset"]), run_id=ctx.run_id), source)
        else:
            source = ctx.path(str(ctx.param("input")))
        result = predict_batch(
            str(ctx.inputs["model"]),
            source,
            output,
            key=ctx.params.get("key"),
            chunk_rows=int(ctx.params.get("chunk_rows", DEFAULT_CHUNK_ROWS)),
            executor=ctx.pool,
        )
    return {"predictions": str(result.output)}


STEP = Builtin(
    name="predict",
    version="1",
    run=run,
    inputs=("model",),
    optional_inputs=("dataset",),
    outputs={"predictions": "value"},
    driver=True,
    doc=__doc__ or "",
)
