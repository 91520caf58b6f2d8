"""Built-in steps, one module each: ``shipyard.pipelines.steps.<name>`` defines ``STEP``.

A step ``use: NAME`` in ``shipyard.yaml`` runs the built-in of that module. Adding a built-in
is adding a module here with a ``STEP = Builtin(...)``; nothing else to register.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidArgument


@dataclass(frozen=True)
class StepContext:
    """What a running step knows: its pipeline, name, tracked run, inputs and params, the
    folder relative paths are read from and the executor URL (for steps that fan out)."""

    pipeline: str
    step: str
    run_id: str | None
    inputs: Mapping[str, Any]
    params: Mapping[str, Any]
    base_dir: Path
    executor: str = "local"
    attempt: int = 1
    pool: Any = None  # the run's Executor, for driver steps (tune) that fan out on it

    def path(self, value: str | Path) -> Path:
        """``value`` as a path, relative to the pipeline's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def param(self, name: str, default: Any = ...) -> Any:
        """Param ``name``; without a default a missing one raises InvalidArgument."""
        if name in self.params:
            return self.params[name]
        if default is ...:
            raise InvalidArgument(
                f"step {self.step!r} needs `with: {{{name}: ...}}`; given: {sorted(self.params)}"
            )
        return default


@dataclass(frozen=True)
class Builtin:
    """A built-in step: its required ``inputs``, its ``outputs`` (name → kind), a ``version``
    (part of its cache key), params whose files are hashed into the key (``file_params``),
    and ``run(ctx) -> {output: value}``. ``cacheable`` False: it always runs."""

    name: str
    version: str
    run: Callable[[StepContext], Mapping[str, Any]]
    inputs: tuple[str, ...] = ()
    optional_inputs: tuple[str, ...] = ()
    outputs: Mapping[str, str] = field(default_factory=dict)
    file_params: tuple[str, ...] = ()
    fingerprint: Callable[[StepContext], str | None] | None = None
    driver: bool = False  # runs in the pipeline's own process and submits work to the executor
    doc: str = ""


def builtin_names() -> list[str]:
    """The names ``use:`` accepts."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get_builtin(name: str) -> Builtin:
    """The built-in step ``name``. Raises InvalidArgument listing the built-ins."""
    known = builtin_names()
    if name not in known:
        raise InvalidArgument(f"no built-in step {name!r}; `use:` one of {known}")
    module = importlib.import_module(f"{__name__}.{name}")
    step: Builtin = module.STEP
    return step


__all__ = ["Builtin", "StepContext", "builtin_names", "get_builtin"]
