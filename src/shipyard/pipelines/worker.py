"""What runs on an executor's worker: one attempt of one step, as a tracked run.

The task carries everything the worker needs (store URLs, the step, its inputs and params), so
the same function runs in a local process pool and on a Dask worker. Errors come back as data
(type, message, traceback tail), never as pickled exceptions.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidArgument
from shipyard.pipelines.definitions import StepDef, canonical_json
from shipyard.pipelines.entities import StepTimeout
from shipyard.pipelines.steps import StepContext

TRACEBACK_LINES = 30


@dataclass(frozen=True)
class StepTask:
    """One attempt of one step, ready to send to a worker."""

    pipeline: str
    step: StepDef
    inputs: Mapping[str, Any]
    settings: Mapping[str, str]
    experiment_id: int
    parent_run_id: str | None
    base_dir: str
    search_path: tuple[str, ...] = ()
    executor: str = "local"
    attempt: int = 1
    tags: Mapping[str, str] = field(default_factory=dict)


class PortableFn:
    """A step function that travels to worker processes: by reference when its module can be
    imported there, else by value (cloudpickle: functions of ``__main__``, closures)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.__signature__ = inspect.signature(fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        import pickle

        try:
            return (PortableFn, (pickle.loads(pickle.dumps(self.fn)),))
        except (pickle.PicklingError, AttributeError, TypeError):
            import cloudpickle  # type: ignore[import-untyped]

            return (_from_cloudpickle, (cloudpickle.dumps(self.fn),))


def _from_cloudpickle(data: bytes) -> PortableFn:
    import cloudpickle  # type: ignore[import-untyped]

    return PortableFn(cloudpickle.loads(data))


_configured: list[tuple[tuple[str, str], ...]] = []


def configure_worker(settings: Mapping[str, str]) -> None:
    """Point this process's SDK at the pipeline's stores (once per distinct configuration)."""
    from shipyard.tracking import fluent

    key = tuple(sorted(settings.items()))
    if _configured and _configured[-1] == key:
        return
    options = dict(settings)
    config = options.pop("config", "")
    if config and Path(config).is_file():  # not on this machine: the worker's own, if any
        os.environ["SHIPYARD_CONFIG"] = config
    fluent.configure(**options)
    _configured[:] = [key]


def execute(task: StepTask, pool: Any = None) -> dict[str, Any]:
    """Run ``task`` as a tracked run nested under the pipeline's run.

    Returns ``{"run_id", "outputs"}`` or ``{"run_id", "error": {type, message, traceback}}``.
    """
    from shipyard.tracking import fluent

    if pool is None:
        configure_worker(task.settings)
    tags = {
        "shipyard.pipeline": task.pipeline,
        "shipyard.pipeline.step": task.step.name,
        "shipyard.pipeline.cached": "false",
        "shipyard.pipeline.attempt": str(task.attempt),
        **task.tags,
    }
    run = fluent.start_run(
        task.experiment_id, name=task.step.name, tags=tags, parent_run_id=task.parent_run_id
    )
    ctx = StepContext(
        pipeline=task.pipeline,
        step=task.step.name,
        run_id=run.run_id,
        inputs=dict(task.inputs),
        params=dict(task.step.params),
        base_dir=Path(task.base_dir),
        executor=task.executor,
        attempt=task.attempt,
        pool=pool,
    )
    try:
        with _deadline(task.step.timeout_s, task.step.name):
            raw = _call(task, ctx)
        outputs = normalize_outputs(task.step, raw, ctx)
    except BaseException as exc:
        fluent.end_run("FAILED", run_id=run.run_id)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return {"run_id": run.run_id, "error": error_record(exc)}
    fluent.end_run("FINISHED", run_id=run.run_id)
    return {"run_id": run.run_id, "outputs": outputs}


def error_record(exc: BaseException) -> dict[str, str]:
    tb = "".join(traceback.format_exception(exc))
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "\n".join(tb.rstrip().splitlines()[-TRACEBACK_LINES:]),
    }


def _call(task: StepTask, ctx: StepContext) -> Any:
    step = task.step
    fn = step.target(task.search_path)
    if step.uses is not None:
        return fn(ctx)
    kwargs = {**step.params, **task.inputs}
    params = inspect.signature(fn).parameters
    for name in ("ctx", "context"):
        if name in params and name not in kwargs:
            kwargs[name] = ctx
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            raise InvalidArgument(
                f"step {step.name!r}: {step.kind} takes no argument(s) {unknown}; "
                f"it takes {list(params)}"
            )
    return fn(**kwargs)


@contextlib.contextmanager
def _deadline(seconds: float | None, step: str) -> Iterator[None]:
    """Raise StepTimeout in the step after ``seconds`` (main thread only; elsewhere the
    pipeline's driver enforces the timeout by abandoning the attempt)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expire(signum: int, frame: Any) -> None:
        raise StepTimeout(f"step {step!r} ran longer than its timeout of {seconds:g}s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def normalize_outputs(step: StepDef, raw: Any, ctx: StepContext) -> dict[str, Any]:
    """The step's return value as ``{output: JSON value}``: tables declared ``dataset`` become
    dataset versions (their ref), models their ``name/version``, metrics are logged."""
    names = list(step.outputs)
    if len(names) == 1 and not (isinstance(raw, Mapping) and set(raw) == set(names)):
        raw = {names[0]: raw}
    if raw is None and not names:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidArgument(
            f"step {step.name!r} must return a dict with its outputs {names}, got "
            f"{type(raw).__name__}"
        )
    missing = [n for n in names if n not in raw]
    if missing:
        raise InvalidArgument(
            f"step {step.name!r} did not return output(s) {missing}; it returned {sorted(raw)}"
        )
    return {n: _one_output(step, n, step.outputs[n], raw[n], ctx) for n in names}


def _one_output(step: StepDef, name: str, kind: str, value: Any, ctx: StepContext) -> Any:
    from shipyard.tracking import fluent

    if kind == "dataset" and not isinstance(value, str):
        from shipyard.data.fluent import ingest_dataset

        value = ingest_dataset(value, name=f"{ctx.pipeline}.{name}").version.ref
    elif kind == "model" and not isinstance(value, str):
        if hasattr(value, "name") and hasattr(value, "version"):
            value = f"{value.name}/{value.version}"
        else:
            raise InvalidArgument(
                f"step {step.name!r} output {name!r} is a model: return its ref "
                "('name/version') or the ModelVersion register_model gave"
            )
    elif kind == "metrics":
        if not isinstance(value, Mapping):
            raise InvalidArgument(f"step {step.name!r} output {name!r} must be a dict of numbers")
        value = {str(k): float(v) for k, v in value.items()}
        if ctx.run_id:
            fluent.log_metrics(value, run_id=ctx.run_id)
    try:
        canonical_json_strict(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"step {step.name!r} output {name!r} ({type(value).__name__}) cannot be stored as "
            "JSON; declare it `dataset` (a table) or return a reference"
        ) from exc
    return value


def canonical_json_strict(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, allow_nan=True)


__all__ = ["StepTask", "canonical_json", "error_record", "execute", "normalize_outputs"]
