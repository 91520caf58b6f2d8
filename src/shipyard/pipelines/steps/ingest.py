"""``use: ingest`` — snapshot a source as a dataset version.

``with: {source: data/x.csv | a sources: name | URL, name: DATASET}``; output ``dataset``
(``NAME@VERSION``). A local file is fingerprinted by size and modification time, so an
unchanged file is a cache hit; other sources run every time (ingest itself is
content-addressed, so unchanged data gives the same version and downstream steps stay cached).
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from typing import Any

from shipyard.pipelines.steps import Builtin, StepContext


def _local_source(ctx: StepContext) -> str | None:
    source = str(ctx.param("source"))
    if "://" in source and not source.startswith("file://"):
        return None
    path = ctx.path(source.removeprefix("file://"))
    return str(path)


def _fingerprint(ctx: StepContext) -> str | None:
    local = _local_source(ctx)
    if local is None:
        return None
    files = sorted(glob.glob(local))
    if not files:
        return None  # a sources: name, or missing: run and let ingest say so
    from pathlib import Path

    return ";".join(f"{f}:{Path(f).stat().st_size}:{Path(f).stat().st_mtime_ns}" for f in files)


def run(ctx: StepContext) -> Mapping[str, Any]:
    from shipyard.data.fluent import ingest_dataset

    source = str(ctx.param("source"))
    local = _local_source(ctx)
    if local is not None and glob.glob(local):
        source = local
    result = ingest_dataset(source, name=ctx.params.get("name"))
    return {"dataset": result.version.ref}


STEP = Builtin(
    name="ingest",
    version="1",
    run=run,
    outputs={"dataset": "dataset"},
    fingerprint=_fingerprint,
    doc=__doc__ or "",
)
