"""``use: deploy`` — record a registered model version as deployed (``shipyard deploy``).

Input ``model`` (``NAME/VERSION``); ``with: {target: local | kubernetes | container | batch,
endpoint: URL, name: DEPLOYMENT}``. Output ``deployment`` (its id).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.pipelines.steps import Builtin, StepContext


def run(ctx: StepContext) -> Mapping[str, Any]:
    from shipyard.serving.fluent import deploy

    d = deploy(
        str(ctx.inputs["model"]),
        name=ctx.params.get("name"),
        target=str(ctx.params.get("target", "local")),
        endpoint=str(ctx.params.get("endpoint", "")),
    )
    return {"deployment": d.id}


STEP = Builtin(
    name="deploy",
    version="1",
    run=run,
    inputs=("model",),
    outputs={"deployment": "value"},
    doc=__doc__ or "",
)
