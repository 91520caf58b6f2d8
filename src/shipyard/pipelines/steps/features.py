"""``use: features`` — apply feature definitions and materialize them to the online store.

``with: {definitions: features.yaml, materialize: true, incremental: true}``. Output
``features`` (the applied definitions and how many rows were materialized).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.pipelines.steps import Builtin, StepContext


def run(ctx: StepContext) -> Mapping[str, Any]:
    from shipyard.features import fluent

    applied = fluent.apply_features(ctx.path(str(ctx.param("definitions"))))
    out: dict[str, Any] = {"applied": [str(getattr(a, "name", a)) for a in applied]}
    if ctx.params.get("materialize", True):
        done = fluent.materialize_features(incremental=bool(ctx.params.get("incremental", True)))
        out["materialized"] = {r.view: r.rows for r in done}
    return {"features": out}


STEP = Builtin(
    name="features",
    version="1",
    run=run,
    outputs={"features": "value"},
    file_params=("definitions",),
    fingerprint=lambda ctx: None,  # the views' data changes without the file changing
    doc=__doc__ or "",
)
