"""``use: register`` — register a logged model (``runs:/RUN_ID/model``) as a new version.

Input ``model``; ``with: {name: churn, alias: champion, description: "..."}``. Output
``model`` (``NAME/VERSION``). A registry reference as input is passed through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.pipelines.steps import Builtin, StepContext
from shipyard.pipelines.steps._common import RUNS_SCHEME


def run(ctx: StepContext) -> Mapping[str, Any]:
    from shipyard.registry.fluent import register_model

    ref = str(ctx.inputs["model"])
    if not ref.startswith(RUNS_SCHEME):
        return {"model": ref}
    run_id, _, path = ref[len(RUNS_SCHEME) :].partition("/")
    mv = register_model(
        str(ctx.param("name")),
        run_id=run_id,
        artifact_path=path or "model",
        description=str(ctx.params.get("description", "")),
        tags={"shipyard.pipeline": ctx.pipeline},
        alias=ctx.params.get("alias"),
    )
    return {"model": f"{mv.name}/{mv.version}"}


STEP = Builtin(
    name="register",
    version="1",
    run=run,
    inputs=("model",),
    outputs={"model": "model"},
    doc=__doc__ or "",
)
