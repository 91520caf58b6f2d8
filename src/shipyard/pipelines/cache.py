"""Cache keys: a step is skipped when its code, params and input versions hash the same.

* code — a built-in's name and version (and Shipyard's), or the source of a callable;
* params — the step's params, plus the content of files they name (a suite, a preprocessing
  spec) and, for a source-reading step, a fingerprint of the source (size and mtime);
* inputs — the values of the upstream outputs it reads: dataset versions (content hashes),
  model versions, metrics and other JSON values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipyard.pipelines.definitions import StepDef, canonical_json, code_hash
from shipyard.pipelines.entities import StepState
from shipyard.pipelines.steps import StepContext


@dataclass(frozen=True)
class StepHashes:
    code: str
    params: str
    inputs: str
    cacheable: bool = True  # False: a source that cannot be fingerprinted, or cache: false

    @property
    def key(self) -> str:
        return _sha(f"{self.code}|{self.params}|{self.inputs}")


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text if isinstance(text, bytes) else text.encode()).hexdigest()


def step_hashes(
    step: StepDef, inputs: Mapping[str, Any], ctx: StepContext, code: str | None = None
) -> StepHashes:
    """The hashes of ``step`` about to run on ``inputs`` (``code`` if already computed)."""
    code = code or code_hash(step, ())
    extra: dict[str, Any] = {}
    cacheable = step.cache
    if step.uses is not None:
        b = step.builtin()
        for name in b.file_params:
            value = step.params.get(name)
            if isinstance(value, str) and ctx.path(value).is_file():
                extra[f"file:{name}"] = _sha(ctx.path(value).read_bytes())
        if b.fingerprint is not None:
            fp = b.fingerprint(ctx)
            if fp is None:
                cacheable = False
            extra["fingerprint"] = fp
    params = _sha(canonical_json({"params": dict(step.params), **extra}))
    return StepHashes(code, params, _sha(canonical_json(dict(inputs))), cacheable)


def why_rerun(step: StepDef, hashes: StepHashes, previous: StepState | None) -> str:
    """Why a step runs instead of being taken from the cache, in a few words."""
    if not step.cache:
        return "runs every time (cache: false)"
    if not hashes.cacheable:
        return "runs every time (its source cannot be fingerprinted)"
    if previous is None:
        return "first run"
    changed = [
        what
        for what, old, new in (
            ("code", previous.code_hash, hashes.code),
            ("params", previous.params_hash, hashes.params),
            ("inputs", previous.inputs_hash, hashes.inputs),
        )
        if old != new
    ]
    if "params" in changed and step.uses is not None:
        b = step.builtin()
        if b.file_params or b.fingerprint is not None:
            changed[changed.index("params")] = "params or source files"
    return f"{' and '.join(changed)} changed" if changed else "not in the cache"


__all__ = ["StepHashes", "step_hashes", "why_rerun"]
