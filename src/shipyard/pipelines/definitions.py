"""Pipeline definitions: steps, their typed inputs and outputs, and the DAG they form.

A pipeline comes from the ``pipelines:`` section of ``shipyard.yaml`` or from Python::

    from shipyard.pipelines import Pipeline, step

    @step(outputs={"model": "model", "metrics": "metrics"}, retries=2)
    def train(data: str, C: float = 1.0) -> dict: ...

    pipe = Pipeline("churn", [ingest_step, train.using(data="ingest.dataset", C=0.5)])

A step's inputs name outputs of other steps (``step.output``, or ``output`` when only one step
has it); those references are the DAG's edges. Everything is checked when the pipeline is
built — a cycle (named), an input naming no output (with the known outputs listed), a callable
that cannot be imported — so a bad definition fails before anything is recorded.
"""

from __future__ import annotations

import functools
import graphlib
import hashlib
import importlib
import inspect
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import ConfigError, InvalidArgument

if TYPE_CHECKING:
    from shipyard.config import Settings
    from shipyard.pipelines.steps import Builtin

OUTPUT_KINDS = ("dataset", "model", "metrics", "value")
_STEP_KEYS = {
    "name", "use", "call", "with", "inputs", "outputs", "after", "retries", "retry_backoff",
    "timeout", "cache",
}  # fmt: skip
_PIPELINE_KEYS = {"steps", "executor", "experiment", "description", "schedule", "triggers"}


@dataclass(frozen=True)
class StepDef:
    """One step: what it runs (a built-in ``uses``, a ``call`` target or a function ``fn``),
    its ``params``, its ``inputs`` (parameter → ``step.output``), its ``outputs`` (name → kind)
    and how it is retried, timed out and cached."""

    name: str
    uses: str | None = None
    call: str | None = None
    fn: Callable[..., Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    after: tuple[str, ...] = ()
    retries: int = 0
    retry_backoff_s: float = 1.0
    timeout_s: float | None = None
    cache: bool = True

    def __post_init__(self) -> None:
        _check_step_name(self.name)
        given = [x for x in (self.uses, self.call, self.fn) if x is not None]
        if len(given) != 1:
            raise InvalidArgument(
                f"step {self.name!r} needs exactly one of `use:` (a built-in), `call:` "
                "(module:function) or a Python function"
            )
        for out, kind in self.outputs.items():
            if kind not in OUTPUT_KINDS:
                raise InvalidArgument(
                    f"step {self.name!r} output {out!r} has kind {kind!r}; use one of "
                    f"{list(OUTPUT_KINDS)}"
                )
        if self.retries < 0 or self.retry_backoff_s < 0:
            raise InvalidArgument(f"step {self.name!r}: retries and retry_backoff must be >= 0")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise InvalidArgument(f"step {self.name!r}: timeout must be a positive number")

    @property
    def kind(self) -> str:
        """``use:NAME``, ``call:module:function`` or ``fn:module:qualname``."""
        if self.uses is not None:
            return f"use:{self.uses}"
        if self.call is not None:
            return f"call:{self.call}"
        return f"fn:{_qualified(self.fn)}"

    def builtin(self) -> Builtin:
        from shipyard.pipelines.steps import get_builtin

        assert self.uses is not None
        return get_builtin(self.uses)

    def target(self, search_path: Sequence[str] = ()) -> Callable[..., Any]:
        """The Python callable this step runs (its built-in's ``run`` for ``use:``).

        Raises InvalidArgument when a ``call:`` target cannot be imported."""
        if self.fn is not None:
            return self.fn
        if self.uses is not None:
            return self.builtin().run
        assert self.call is not None
        fn: Callable[..., Any] = import_callable(self.call, search_path, step=self.name)
        return fn


def _qualified(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"


def _check_step_name(name: object) -> None:
    if (
        not isinstance(name, str)
        or not name
        or "." in name
        or not name.replace("-", "_").isidentifier()
    ):
        raise InvalidArgument(
            f"step name {name!r} must be an identifier (letters, digits, '_' or '-', no dots)"
        )


def import_callable(target: str, search_path: Sequence[str] = (), *, step: str = "") -> Any:
    """The object ``module:attr.path`` names, importing with ``search_path`` on ``sys.path``.

    Raises InvalidArgument naming the step and what failed to import."""
    where = f"step {step!r}: " if step else ""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidArgument(f"{where}call {target!r} must look like 'module:function'")
    for entry in search_path:
        if entry not in sys.path:
            sys.path.insert(0, entry)
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise InvalidArgument(
            f"{where}cannot import module {module_name!r} of call {target!r}: "
            f"{type(exc).__name__}: {exc}. Check the name and that it is on the path "
            f"(the folder of shipyard.yaml is searched)."
        ) from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise InvalidArgument(
                f"{where}module {module_name!r} has no {attr!r} (call {target!r})"
            ) from exc
    if not callable(obj):
        raise InvalidArgument(f"{where}{target!r} is not callable")
    return obj


def code_hash(step: StepDef, search_path: Sequence[str] = ()) -> str:
    """SHA-256 of what a step runs: a built-in's name and version, or a callable's source."""
    if step.uses is not None:
        from shipyard import __version__

        b = step.builtin()
        return _sha(f"builtin:{b.name}:{b.version}:{__version__}")
    fn = step.target(search_path)
    fn = getattr(fn, "__wrapped__", fn)
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        text = repr(code.co_code + repr(code.co_consts).encode()) if code else _qualified(fn)
    return _sha(text)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys; values JSON cannot hold are written by ``repr``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


@dataclass(frozen=True, init=False, eq=False)
class Pipeline:
    """A named DAG of steps. Building one validates it (see the module docstring).

    ``executor`` (``local``, ``dask://host:port``, ``dask://local``) and ``experiment`` (where
    the tracked runs go; default the pipeline's name) are defaults a run may override;
    ``base_dir`` is where relative paths in params and ``call:`` modules are looked up.
    """

    name: str
    steps: tuple[StepDef, ...]
    executor: str | None = None
    experiment: str | None = None
    description: str = ""
    base_dir: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __init__(
        self,
        name: str,
        steps: Iterable[StepDef | StepFunction],
        *,
        executor: str | None = None,
        experiment: str | None = None,
        description: str = "",
        base_dir: Path | str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        from shipyard._util import check_name

        check_name(name, "pipeline")
        defs = tuple(s.as_step() if isinstance(s, StepFunction) else s for s in steps)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "executor", executor)
        object.__setattr__(self, "experiment", experiment)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "base_dir", Path(base_dir) if base_dir else None)
        object.__setattr__(self, "extra", dict(extra or {}))
        object.__setattr__(self, "steps", _complete(defs))
        self._validate()

    # --- structure ---------------------------------------------------------------------------
    @property
    def search_path(self) -> tuple[str, ...]:
        return (str(self.base_dir),) if self.base_dir else ()

    def step(self, name: str) -> StepDef:
        """The step called ``name``. Raises InvalidArgument listing the steps."""
        for s in self.steps:
            if s.name == name:
                return s
        raise InvalidArgument(
            f"pipeline {self.name!r} has no step {name!r}; its steps are {self.step_names}"
        )

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self.steps]

    @functools.cached_property
    def wiring(self) -> dict[str, dict[str, tuple[str, str]]]:
        """For each step, its inputs resolved to (producing step, output name)."""
        producers: dict[str, list[str]] = {}
        for s in self.steps:
            for out in s.outputs:
                producers.setdefault(out, []).append(s.name)
        known = sorted(f"{p}.{o}" for o, ps in producers.items() for p in ps)
        wiring: dict[str, dict[str, tuple[str, str]]] = {}
        for s in self.steps:
            resolved: dict[str, tuple[str, str]] = {}
            for param, ref in s.inputs.items():
                resolved[param] = _resolve(self, s.name, param, ref, producers, known)
            wiring[s.name] = resolved
        return wiring

    @functools.cached_property
    def upstream(self) -> dict[str, tuple[str, ...]]:
        """For each step, the steps it depends on (through inputs or ``after``)."""
        deps: dict[str, tuple[str, ...]] = {}
        for s in self.steps:
            names = [src for src, _ in self.wiring[s.name].values()] + list(s.after)
            deps[s.name] = tuple(dict.fromkeys(names))
        return deps

    @functools.cached_property
    def order(self) -> tuple[str, ...]:
        """Step names in an order that respects every dependency (declaration order on ties)."""
        sorter = graphlib.TopologicalSorter(self.upstream)
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            cycle = list(reversed(exc.args[1]))
            raise InvalidArgument(
                f"pipeline {self.name!r} has a cycle: {' → '.join(cycle)}; a step cannot "
                "depend on its own outputs"
            ) from exc
        position = {n: i for i, n in enumerate(self.step_names)}
        order: list[str] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=position.__getitem__)
            order.extend(ready)
            sorter.done(*ready)
        return tuple(order)

    def downstream(self, name: str) -> list[str]:
        """Every step that depends, directly or not, on ``name`` (in DAG order)."""
        below = {name}
        for n in self.order:
            if any(u in below for u in self.upstream[n]):
                below.add(n)
        return [n for n in self.order if n in below and n != name]

    def edges(self) -> list[tuple[str, str]]:
        """(upstream, downstream) pairs."""
        return [(u, n) for n in self.order for u in self.upstream[n]]

    def definition_hash(self) -> str:
        """A hash of the structure (steps, wiring, params), for telling definitions apart."""
        doc = [
            [s.name, s.kind, dict(s.params), dict(s.inputs), dict(s.outputs), list(s.after)]
            for s in self.steps
        ]
        return _sha(canonical_json(doc))

    def _validate(self) -> None:
        names = self.step_names
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InvalidArgument(f"pipeline {self.name!r} names step(s) {dupes} more than once")
        if not names:
            raise InvalidArgument(f"pipeline {self.name!r} has no steps")
        for s in self.steps:
            for a in s.after:
                if a not in names:
                    raise InvalidArgument(
                        f"step {s.name!r} runs after {a!r}, which is not a step of "
                        f"{self.name!r}; its steps are {names}"
                    )
        _ = self.wiring, self.order
        for s in self.steps:
            if s.uses is not None:
                missing = [i for i in s.builtin().inputs if i not in s.inputs]
                if missing:
                    raise InvalidArgument(
                        f"step {s.name!r} (use: {s.uses}) needs input(s) {missing}; add them "
                        f"under inputs:, e.g. `{missing[0]}: <step>.<output>`"
                    )
            else:
                s.target(self.search_path)  # import errors surface now


def _resolve(
    pipe: Pipeline,
    step: str,
    param: str,
    ref: str,
    producers: Mapping[str, list[str]],
    known: list[str],
) -> tuple[str, str]:
    src, dot, out = ref.rpartition(".")
    if dot:
        if src in producers.get(out, []):
            return src, out
    elif len(producers.get(out, [])) == 1:
        return producers[out][0], out
    elif len(producers.get(out, [])) > 1:
        raise InvalidArgument(
            f"step {step!r} input {param!r} = {ref!r} is ambiguous: produced by "
            f"{producers[out]}; write it as <step>.{out}"
        )
    raise InvalidArgument(
        f"step {step!r} input {param!r} = {ref!r} names no output of pipeline {pipe.name!r}; "
        f"known outputs: {known or 'none'}"
    )


def _complete(steps: tuple[StepDef, ...]) -> tuple[StepDef, ...]:
    """Steps with their built-ins' outputs filled in; unknown built-ins rejected."""
    out = []
    for s in steps:
        if s.uses is not None:
            b = s.builtin()
            s = replace(s, outputs={**b.outputs, **s.outputs})
        elif not s.outputs:
            s = replace(s, outputs={"result": "value"})
        out.append(s)
    return tuple(out)


# --- the Python decorator ------------------------------------------------------------------------
class StepFunction:
    """A function made a pipeline step by :func:`step`; call it as usual, or put it in a
    :class:`Pipeline` (``fn.using(...)`` sets its inputs and params there)."""

    def __init__(self, fn: Callable[..., Any], options: Mapping[str, Any]) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.options = dict(options)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        """By reference when ``module.name`` is a step of the same function (the decorated
        module-level case), else the plain function (the worker needs only that)."""
        module = sys.modules.get(self.fn.__module__)
        if getattr(getattr(module, self.fn.__qualname__, None), "fn", None) is self.fn:
            return (import_callable, (f"{self.fn.__module__}:{self.fn.__qualname__}",))
        return (_plain, (self.fn,))

    def using(self, name: str | None = None, **bindings: Any) -> StepFunction:
        """A copy whose parameters are bound: strings containing no spaces that name an output
        (``step.output``) become inputs when the pipeline is built; other values are params."""
        opts = {**self.options, "bindings": {**self.options.get("bindings", {}), **bindings}}
        if name:
            opts["name"] = name
        return StepFunction(self.fn, opts)

    def as_step(self) -> StepDef:
        o = self.options
        bindings: dict[str, Any] = dict(o.get("bindings", {}))
        inputs = dict(o.get("inputs", {}))
        params = dict(o.get("params", {}))
        for key, value in bindings.items():
            if isinstance(value, Input):
                inputs[key] = value.ref
            else:
                params[key] = value
        for pname, p in inspect.signature(self.fn).parameters.items():
            if pname in inputs or pname in params or p.default is not inspect.Parameter.empty:
                continue
            if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            inputs[pname] = pname  # an un-bound, un-defaulted parameter: the output of that name
        outputs = o.get("outputs") or {"result": "value"}
        if isinstance(outputs, str):
            outputs = {outputs: "value"}
        elif isinstance(outputs, list | tuple):
            outputs = {str(x): "value" for x in outputs}
        return StepDef(
            name=str(o.get("name") or self.fn.__name__),
            fn=self,
            params=params,
            inputs=inputs,
            outputs=dict(outputs),
            after=tuple(o.get("after", ())),
            retries=int(o.get("retries", 0)),
            retry_backoff_s=float(o.get("retry_backoff", 1.0)),
            timeout_s=o.get("timeout"),
            cache=bool(o.get("cache", True)),
        )


def _plain(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


@dataclass(frozen=True)
class Input:
    """Marks a bound value as a reference to another step's output: ``Input("train.model")``."""

    ref: str


def step(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    outputs: Mapping[str, str] | Sequence[str] | str | None = None,
    inputs: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    after: Sequence[str] = (),
    retries: int = 0,
    retry_backoff: float = 1.0,
    timeout: float | None = None,
    cache: bool = True,
) -> Any:
    """Make ``fn`` a pipeline step. Parameters without a default are inputs wired to the output
    of the same name (or as ``inputs`` maps them); the rest are params. ``fn`` returns its one
    output, or a dict of its outputs. Use bare (``@step``) or with options (``@step(retries=2)``).
    """
    options = {
        "name": name,
        "outputs": outputs,
        "inputs": dict(inputs or {}),
        "params": dict(params or {}),
        "after": tuple(after),
        "retries": retries,
        "retry_backoff": retry_backoff,
        "timeout": timeout,
        "cache": cache,
    }
    if fn is not None:
        return StepFunction(fn, options)
    return lambda f: StepFunction(f, options)


# --- shipyard.yaml ------------------------------------------------------------------------------
def step_from_dict(data: Mapping[str, Any], where: str) -> StepDef:
    """A step from its YAML mapping. Raises ConfigError naming the field."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a mapping with name: and use: or call:")
    unknown = sorted(set(data) - _STEP_KEYS)
    if unknown:
        raise ConfigError(f"{where} has unknown field(s) {unknown}; known: {sorted(_STEP_KEYS)}")
    name = data.get("name") or data.get("use")
    if not name:
        raise ConfigError(f"{where} needs a name:")
    for key in ("with", "inputs", "outputs"):
        if not isinstance(data.get(key) or {}, Mapping):
            raise ConfigError(f"{where} ({name}): {key}: must be a mapping")
    after = data.get("after") or ()
    try:
        return StepDef(
            name=str(name),
            uses=data.get("use"),
            call=data.get("call"),
            params=dict(data.get("with") or {}),
            inputs={str(k): str(v) for k, v in (data.get("inputs") or {}).items()},
            outputs={str(k): str(v) for k, v in (data.get("outputs") or {}).items()},
            after=(after,) if isinstance(after, str) else tuple(after),
            retries=int(data.get("retries", 0)),
            retry_backoff_s=float(data.get("retry_backoff", 1.0)),
            timeout_s=float(data["timeout"]) if data.get("timeout") is not None else None,
            cache=bool(data.get("cache", True)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where} ({name}): {exc}") from exc


def pipeline_from_dict(
    name: str, data: Mapping[str, Any], *, base_dir: Path | None = None, where: str = ""
) -> Pipeline:
    """A pipeline from its ``pipelines: NAME:`` mapping. Raises ConfigError / InvalidArgument."""
    where = where or f"pipelines.{name}"
    if not isinstance(data, Mapping) or not isinstance(data.get("steps"), list):
        raise ConfigError(f"{where} needs steps: (a list of steps)")
    unknown = sorted(set(data) - _PIPELINE_KEYS)
    if unknown:
        raise ConfigError(
            f"{where} has unknown field(s) {unknown}; known: {sorted(_PIPELINE_KEYS)}"
        )
    steps = [step_from_dict(s, f"{where}.steps[{i}]") for i, s in enumerate(data["steps"])]
    extra = {k: data[k] for k in ("schedule", "triggers") if k in data}
    return Pipeline(
        name,
        steps,
        executor=data.get("executor"),
        experiment=data.get("experiment"),
        description=str(data.get("description", "")),
        base_dir=base_dir,
        extra=extra,
    )


def load_pipelines(settings: Settings | None = None) -> dict[str, Pipeline]:
    """Every pipeline of the ``pipelines:`` section of ``shipyard.yaml``, by name.

    Raises ConfigError / InvalidArgument for a bad definition (before anything is recorded)."""
    from shipyard.config import load_settings

    settings = settings or load_settings()
    section = settings.extra.get("pipelines") or {}
    if not isinstance(section, Mapping):
        raise ConfigError("pipelines: in shipyard.yaml must map pipeline names to definitions")
    base = settings.config_file.parent.resolve() if settings.config_file else Path.cwd()
    return {
        str(name): pipeline_from_dict(str(name), body, base_dir=base)
        for name, body in section.items()
    }


def get_pipeline(name: str, settings: Settings | None = None) -> Pipeline:
    """The pipeline ``name`` of ``shipyard.yaml``. Raises NotFound listing the known ones."""
    from shipyard.errors import NotFound

    pipelines = load_pipelines(settings)
    if name not in pipelines:
        raise NotFound(
            f"no pipeline {name!r} in shipyard.yaml; known: {sorted(pipelines) or 'none'}"
        )
    return pipelines[name]


__all__ = [
    "OUTPUT_KINDS",
    "Input",
    "Pipeline",
    "StepDef",
    "StepFunction",
    "canonical_json",
    "code_hash",
    "get_pipeline",
    "import_callable",
    "load_pipelines",
    "pipeline_from_dict",
    "step",
    "step_from_dict",
]
