"""The models a server holds: loaded in the background, called in batches, promoted hot.

* :class:`ModelRunner` calls one loaded version on a batch of validated requests
  (:class:`Job`) in a worker thread and splits the outputs back per request
  (:class:`Output`): predictions as JSON-ready values, class probabilities as an array. If a
  batch fails, each request is retried alone, so only the one that breaks the model gets an
  error.
* :class:`ModelPool` keeps every served reference (``churn@champion``) loaded. Loading happens
  in a background thread at startup (the server answers 503 for a model until it is ready);
  then the thread polls the registry every ``reload_interval_s`` seconds. When an alias moves,
  the new version is downloaded, loaded and warmed up on its input example *beside* the old
  one, then swapped in with one assignment: requests already running finish on the old version,
  new ones get the new one, and none waits on the load. A version that fails to load or to warm
  up is not swapped in; the old one keeps serving and ``GET /v1/models`` shows the error.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard._util import settle_memory
from shipyard.errors import InvalidArgument, ShipyardError
from shipyard.serving.batching import Dispatcher, InFlight, MicroBatcher, Unbatched
from shipyard.serving.requests import (
    FieldError,
    InputValidator,
    ModelInput,
    SchemaMismatch,
    concat_inputs,
    parse_json,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.registry.entities import ModelVersion
    from shipyard.registry.package import LoadedModel
    from shipyard.serving.metrics import ServingMetrics

log = logging.getLogger("shipyard.serving")

DEFAULT_RELOAD_INTERVAL_S = 5.0


class ModelError(ShipyardError):
    """The model itself raised (or returned something unusable) while predicting."""

    status = 500
    code = "MODEL_ERROR"


class ModelNotReady(ShipyardError):
    """The model is still loading (or failed to load); try again after ``/health/ready``."""

    status = 503
    code = "MODEL_NOT_READY"


# --------------------------------------------------------------------------- calling a model


@dataclass(frozen=True)
class Job:
    """One request's validated input, and whether it wants class probabilities."""

    input: ModelInput
    want_proba: bool = True


@dataclass(frozen=True)
class Output:
    """One request's outputs: ``predictions`` (one JSON-ready value a row) and, for a
    classifier asked for them, ``proba`` (rows x classes) with the ``classes`` as text.
    ``inputs`` holds the request's validated rows as Arrow when the runner keeps them for the
    prediction log (a zero-copy slice of one table built per batch, in the worker thread)."""

    predictions: list[Any]
    proba: np.ndarray[Any, Any] | None = None
    classes: tuple[str, ...] | None = None
    model_ms: float = 0.0
    inputs: pa.Table | None = None


class ModelRunner:
    """Calls one loaded model version on batches of jobs (from a worker thread).

    With ``keep_inputs`` each output also carries its rows as Arrow, for the prediction log.
    """

    def __init__(
        self, name: str, version: int, loaded: LoadedModel, *, keep_inputs: bool = False
    ) -> None:
        import pandas as pd

        self.name = name
        self.version = version
        self.loaded = loaded
        self.keep_inputs = keep_inputs
        self.has_proba = "predict_proba" in loaded.capabilities
        # a classifier whose prediction is its most probable class is called once, not twice
        self._labels = argmax_labels(loaded.native) if self.has_proba else None
        columns = None if loaded.signature is None else loaded.signature.columns
        # object dtype, not pandas 3's Arrow-backed strings: scikit-learn reads the names back
        # as a NumPy object array on every call, a fifth of a single-row predict_proba
        self._columns = None if columns is None else pd.Index(columns, dtype=object)
        # the same model without its recorded column names, for numeric batches as one array
        self._positional = None if columns is None else positional_model(loaded.native, columns)

    def __call__(self, jobs: list[Job]) -> list[Output | BaseException]:
        """One output (or error) per job, in order."""
        try:
            return list(self._run(jobs))
        except Exception as exc:
            if len(jobs) == 1:
                return [self._error(exc)]
        return [self._run_one(job) for job in jobs]

    def _run_one(self, job: Job) -> Output | BaseException:
        try:
            return self._run([job])[0]
        except Exception as exc:
            return self._error(exc)

    def _run(self, jobs: list[Job]) -> list[Output]:
        start = time.perf_counter()
        batch = concat_inputs([job.input for job in jobs])
        native, data = self._model_input(batch)
        want_proba = self.has_proba and any(job.want_proba for job in jobs)
        proba = classes = None
        if self._labels is not None:
            proba, classes = as_proba(native.predict_proba(data), native, batch.n_rows)
            predictions = as_rows(self._labels[np.argmax(proba, axis=1)], batch.n_rows)
            if not want_proba:
                proba = classes = None
        else:
            predictions = as_rows(native.predict(data), batch.n_rows)
            if want_proba:
                proba, classes = as_proba(native.predict_proba(data), native, batch.n_rows)
        model_ms = (time.perf_counter() - start) * 1000.0
        table = arrow_inputs(batch) if self.keep_inputs else None
        outputs, offset = [], 0
        for job in jobs:
            n = job.input.n_rows
            end = offset + n
            part = None if proba is None or not job.want_proba else proba[offset:end]
            rows = None if table is None else table.slice(offset, n)
            outputs.append(Output(predictions[offset:end], part, classes, model_ms, rows))
            offset = end
        return outputs

    def _model_input(self, batch: ModelInput) -> tuple[Any, Any]:
        """The model to call and what to call it on."""
        native = self.loaded.native
        if batch.tensor is not None:
            return native, batch.tensor
        if batch.native:
            arrays = list(batch.columns.values())
            if self._positional is not None and _one_numeric_dtype(arrays):
                return self._positional, np.column_stack(arrays)
            return native, self._frame(batch.columns)
        try:
            return native, self.loaded.prepare(batch.columns)
        except InvalidArgument as exc:
            raise SchemaMismatch([FieldError("body", str(exc))]) from exc

    def _frame(self, columns: dict[str, np.ndarray[Any, Any]]) -> Any:
        """A DataFrame of validated arrays: one 2-D block when they share a dtype (10x faster
        to build than column by column, and what scikit-learn converts fastest)."""
        import pandas as pd

        arrays = list(columns.values())
        if self._columns is not None and len({a.dtype for a in arrays}) == 1:
            return pd.DataFrame(np.column_stack(arrays), columns=self._columns, copy=False)
        return pd.DataFrame(columns)

    def _error(self, exc: Exception) -> BaseException:
        if isinstance(exc, ShipyardError):
            return exc
        error = ModelError(
            f"model {self.name}/{self.version} failed while predicting: "
            f"{type(exc).__name__}: {_short(str(exc))}"
        )
        error.__cause__ = exc
        return error


# scikit-learn classifiers whose ``predict`` is the class of highest ``predict_proba``: forests
# and calibrated classifiers compute it that way; logistic regression and histogram gradient
# boosting take the sign or argmax of the scores the probabilities are a monotone map of (so
# they can differ only on a row whose probabilities tie exactly, which goes to the first class).
_ARGMAX_CLASSIFIERS = frozenset(
    {
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.linear_model._logistic.LogisticRegressionCV",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.ExtraTreesClassifier",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.calibration.CalibratedClassifierCV",
    }
)


def argmax_labels(native: Any) -> np.ndarray[Any, Any] | None:
    """The model's ``classes_`` when its prediction can be read off ``predict_proba`` (one
    pass over the model instead of two: ``classes_[argmax(proba)]``), else None.

    True for the scikit-learn classifiers listed in ``_ARGMAX_CLASSIFIERS``, alone or at the
    end of a ``Pipeline``, with one output.
    """
    final = native
    steps = getattr(final, "steps", None)
    if type(final).__module__ == "sklearn.pipeline" and steps:
        final = steps[-1][1]
    kind = f"{type(final).__module__}.{type(final).__qualname__}"
    if kind not in _ARGMAX_CLASSIFIERS or getattr(final, "n_outputs_", 1) != 1:
        return None
    classes = getattr(native, "classes_", None)
    return None if classes is None else np.asarray(classes)


# scikit-learn steps that read their input by column name, or run the user's code on it
_NAMED_STEPS = frozenset({"ColumnTransformer", "FunctionTransformer", "FeatureUnion"})


def positional_model(native: Any, columns: Sequence[str]) -> Any | None:
    """A shallow copy of a scikit-learn model that takes its columns as one 2-D array, or None.

    A model fit on a DataFrame checks the column names of every input (through pandas and
    narwhals: half of a single-row ``predict_proba``) and warns when given an array. The server
    has already validated each request's columns against the signature, in the signature's
    order, so for a model whose recorded ``feature_names_in_`` are exactly that order the copy
    drops them and is called on ``np.column_stack`` of the columns: the same numbers reach the
    same coefficients. Only for a plain estimator or a ``Pipeline`` of them (no step that picks
    columns by name or runs arbitrary code: ``ColumnTransformer``, ``FunctionTransformer``,
    ``FeatureUnion``), and only used for batches whose columns share one numeric dtype.
    """
    import copy

    names = getattr(native, "feature_names_in_", None)
    if names is None or [str(n) for n in names] != list(columns):
        return None
    pipeline = type(native).__name__ == "Pipeline"
    steps = [est for _, est in native.steps] if pipeline else [native]
    for est in steps:
        if est in (None, "passthrough"):
            continue
        kind = type(est)
        if not kind.__module__.startswith("sklearn.") or kind.__name__ in _NAMED_STEPS:
            return None
        # set_output(transform="pandas"): the steps pass DataFrames named from the input's names
        output = getattr(est, "_sklearn_output_config", None) or {}
        if output.get("transform", "default") != "default":
            return None
    if not pipeline:
        return _without_names(native)
    clone = copy.copy(native)
    clone.steps = [(name, _without_names(est)) for name, est in native.steps]
    return clone


def _without_names(est: Any) -> Any:
    import copy

    if est in (None, "passthrough") or "feature_names_in_" not in vars(est):
        return est
    clone = copy.copy(est)
    del clone.feature_names_in_
    return clone


def _one_numeric_dtype(arrays: Sequence[np.ndarray[Any, Any]]) -> bool:
    first = arrays[0].dtype if arrays else None
    return first is not None and first.kind in "fiub" and all(a.dtype == first for a in arrays)


def arrow_inputs(batch: ModelInput) -> pa.Table | None:
    """The batch's validated rows as an Arrow table (None when a value defies Arrow)."""
    import pyarrow as pa

    try:
        if batch.tensor is not None:
            return pa.table({"input": pa.array(batch.tensor.tolist())})
        # column by column: pa.table(dict) converts the same arrays 2-3x slower
        arrays = [pa.array(values) for values in batch.columns.values()]
        return pa.Table.from_arrays(arrays, names=list(batch.columns))
    except (pa.ArrowException, TypeError, ValueError):
        return None


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def as_rows(output: Any, n: int) -> list[Any]:
    """A model's ``predict`` output as one JSON-ready value per row (records for a DataFrame).

    Raises ModelError when it is not array-like or has the wrong number of rows.
    """
    import pandas as pd

    if isinstance(output, pd.DataFrame):
        clean = output.astype(object).where(output.notna(), None)
        rows: list[Any] = clean.to_dict(orient="records")
    elif isinstance(output, pd.Series | np.ndarray):
        rows = _array_values(np.asarray(output))
    elif isinstance(output, list | tuple):
        rows = list(output)
    else:
        raise ModelError(
            f"predict returned a {type(output).__name__}; return an array, list, Series or "
            "DataFrame with one entry per input row"
        )
    if len(rows) != n:
        raise ModelError(f"predict returned {len(rows)} predictions for {n} input rows")
    return rows


def _array_values(arr: np.ndarray[Any, Any]) -> list[Any]:
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        values = arr.astype(object)
        values[~np.isfinite(arr)] = None
        return list(values.tolist())
    if arr.dtype.kind == "M":
        return list(np.datetime_as_string(arr).tolist())
    return list(arr.tolist())


def as_proba(output: Any, native: Any, n: int) -> tuple[np.ndarray[Any, Any], tuple[str, ...]]:
    """``predict_proba`` output as a (rows x classes) float array and the class names as text.

    Classes come from a DataFrame's columns, else the model's ``classes_``, else 0, 1, ….
    """
    import pandas as pd

    if isinstance(output, pd.DataFrame):
        classes: Sequence[Any] = list(output.columns)
        arr = output.to_numpy(dtype=np.float64)
    else:
        arr = np.asarray(output, dtype=np.float64)
        known = getattr(native, "classes_", None)
        classes = list(known) if known is not None else list(range(arr.shape[-1]))
    if arr.ndim != 2 or len(arr) != n or arr.shape[1] != len(classes):
        raise ModelError(
            f"predict_proba returned shape {arr.shape} for {n} rows and {len(classes)} classes"
        )
    return arr, tuple(str(c) for c in classes)


# --------------------------------------------------------------------------- served versions


@dataclass(frozen=True)
class BatchOptions:
    """How requests reach a model: micro-batched (the default) or one call each."""

    enabled: bool = True
    max_batch_size: int = 64
    max_wait_ms: float = 2.0


@dataclass(frozen=True)
class ServedVersion:
    """One loaded version behind a reference: what requests are validated against and sent to."""

    ref: str
    model_version: ModelVersion
    loaded: LoadedModel
    validator: InputValidator
    dispatcher: Dispatcher[Job, Output]
    runner: ModelRunner

    @property
    def name(self) -> str:
        return self.model_version.name

    @property
    def version(self) -> int:
        return self.model_version.version


@dataclass(frozen=True)
class ModelSource:
    """Where a served model comes from: the registry, or a model package folder.

    ``ref`` is how the server names it (``churn@champion``, ``churn/3``, or the folder);
    ``pinned`` is the fixed version (``NAME/VERSION``, or the version given to a folder);
    ``alias`` the alias followed (``latest`` for a bare name), None when pinned.
    """

    ref: str
    name: str
    pinned: int | None = None
    alias: str | None = None
    path: Path | None = None


def model_source(text: str, *, name: str | None = None, version: int | None = None) -> ModelSource:
    """Read ``churn@champion``, ``churn/3``, ``churn`` or the path of a model package folder.

    A folder (one holding ``shipyard-model.json``, as ``shipyard build`` puts in an image) is
    served without a registry, as model ``name`` (default: the folder's name) version
    ``version`` (default 1). Raises InvalidArgument for a bad reference or name.
    """
    from shipyard._util import check_name
    from shipyard.registry.package.model import METADATA_FILE
    from shipyard.registry.uri import parse_model_ref

    folder = Path(text).expanduser()
    if (folder / METADATA_FILE).is_file():
        label = check_name(name or folder.resolve().name, "model")
        if version is not None and version < 1:
            raise InvalidArgument(f"model version must be 1 or more, got {version}")
        return ModelSource(str(folder), label, version or 1, None, folder.resolve())
    if name is not None or version is not None:
        raise InvalidArgument(
            f"{text!r} is not a model package folder (no shipyard-model.json in it); a name and "
            "version apply to a folder only: for a registered model write NAME/VERSION"
        )
    ref = parse_model_ref(text)
    alias = None if ref.version is not None else ref.alias or "latest"
    return ModelSource(str(ref), ref.name, ref.version, alias)


@dataclass
class Slot:
    """One served source: the version serving now (None until loaded) and its last error."""

    source: ModelSource
    current: ServedVersion | None = None
    error: str | None = None
    failed_version: int | None = None
    loaded_at: float | None = None

    @property
    def ref(self) -> str:
        return self.source.ref

    @property
    def status(self) -> str:
        """``ready``, ``loading`` or ``failed`` (never loaded because of ``error``)."""
        if self.current is not None:
            return "ready"
        return "failed" if self.error else "loading"


Loader = Callable[[str], tuple["ModelVersion", "LoadedModel"]]
"""Load the version a ``NAME/VERSION`` reference names (with its registry entry)."""


def registry_loader(*, allow_pickle: bool = False, trusted: Sequence[str] = ()) -> Loader:
    """A :data:`Loader` over the configured registry (``shipyard.registry.fluent``)."""

    def load(ref: str) -> tuple[ModelVersion, LoadedModel]:
        from shipyard.registry import fluent

        mv = fluent.get_model_version(ref)
        return mv, fluent.load_model(ref, allow_pickle=allow_pickle, trusted=trusted)

    return load


def folder_loader(
    source: ModelSource, *, allow_pickle: bool = False, trusted: Sequence[str] = ()
) -> tuple[ModelVersion, LoadedModel]:
    """Load a package folder, described as the model version it is served as."""
    from shipyard.registry.entities import ModelVersion
    from shipyard.registry.package import load_model

    assert source.path is not None and source.pinned is not None  # a folder source
    loaded = load_model(source.path, allow_pickle=allow_pickle, trusted=trusted)
    meta = loaded.metadata
    mv = ModelVersion(
        name=source.name,
        version=source.pinned,
        run_id=None,
        source=str(source.path),
        flavor=meta.flavor,
        description="",
        user="",
        created_at=meta.created_at,
        signature=None if meta.signature is None else meta.signature.to_dict(),
        metrics=dict(meta.metrics),
    )
    return mv, loaded


def resolve_version(ref: str) -> int:
    """The version number ``ref`` names in the registry now."""
    from shipyard.registry import fluent

    return fluent.get_model_version(ref).version


@dataclass
class PoolOptions:
    """Settings of a :class:`ModelPool`."""

    batching: BatchOptions = field(default_factory=BatchOptions)
    reload_interval_s: float = DEFAULT_RELOAD_INTERVAL_S
    keep_inputs: bool = False
    allow_pickle: bool = False
    trusted: tuple[str, ...] = ()
    resolver: Callable[[str], int] = resolve_version


class ModelPool:
    """Every served reference, loaded in the background and promoted hot (see module doc)."""

    def __init__(
        self,
        sources: Sequence[ModelSource | str],
        *,
        options: PoolOptions | None = None,
        executor: Executor | None = None,
        metrics: ServingMetrics | None = None,
    ) -> None:
        self.options = options or PoolOptions()
        self._executor = executor
        self._metrics = metrics
        self.slots: dict[str, Slot] = {}
        for source in sources:
            src = model_source(source) if isinstance(source, str) else source
            self.slots.setdefault(src.ref, Slot(src))
        self.in_flight: dict[str, InFlight] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def in_flight_of(self, name: str) -> InFlight:
        """The in-flight counter shared by every version of model ``name``."""
        return self.in_flight.setdefault(name, InFlight())

    # ------------------------------------------------------------------ lifecycle

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Load every reference in a background thread, then keep them current."""
        self._loop = loop
        self._thread = threading.Thread(target=self._watch, name="shipyard-model-pool", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling (a load in progress finishes in the background)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def ready(self) -> bool:
        """True once every reference has a loaded version."""
        return all(slot.current is not None for slot in self.slots.values())

    def get(self, ref: str) -> ServedVersion:
        """The version serving ``ref`` now. Raises ModelNotReady while it is not loaded."""
        slot = self.slots[ref]
        current = slot.current
        if current is None:
            why = f": {slot.error}" if slot.error else "; retry when /health/ready says ready"
            raise ModelNotReady(f"model {ref} is {slot.status}{why}")
        return current

    # ------------------------------------------------------------------ background work

    def _watch(self) -> None:
        settled = False
        while not self._stop.is_set():
            swapped = False
            for slot in self.slots.values():
                if self._stop.is_set():
                    return
                swapped |= self.refresh(slot)
            if swapped or (self.ready and not settled):
                settled = settle_memory(first=not settled and self.ready)
            self._stop.wait(self.options.reload_interval_s)

    def refresh(self, slot: Slot) -> bool:
        """Load ``slot``'s reference if it is not loaded or its alias moved; True if swapped."""
        current = slot.current
        pinned = slot.source.pinned
        if current is not None and pinned is not None:
            return False
        try:
            version = pinned or self.options.resolver(slot.ref)
        except Exception as exc:  # the registry is unreachable, say: keep serving, retry later
            log.warning("checking %s in the registry failed: %s", slot.ref, exc)
            slot.error = f"{type(exc).__name__}: {exc}"
            return False
        if version == slot.failed_version or (current is not None and version == current.version):
            return False
        return self._load(slot, version)

    def _load(self, slot: Slot, version: int) -> bool:
        """Load ``version`` beside the serving one, warm it up, then swap it in."""
        try:
            mv, loaded = self._fetch(slot.source, version)
            served = self._serve(slot.ref, mv, loaded)
            warm_up(served)
        except Exception as exc:
            self._failed(slot, version, exc)
            return False
        self._swap(slot, served)
        return True

    def _fetch(self, source: ModelSource, version: int) -> tuple[ModelVersion, LoadedModel]:
        options = self.options
        if source.path is not None:
            return folder_loader(source, allow_pickle=options.allow_pickle, trusted=options.trusted)
        load = registry_loader(allow_pickle=options.allow_pickle, trusted=options.trusted)
        return load(f"{source.name}/{version}")

    def _serve(self, ref: str, mv: ModelVersion, loaded: LoadedModel) -> ServedVersion:
        runner = ModelRunner(mv.name, mv.version, loaded, keep_inputs=self.options.keep_inputs)
        return ServedVersion(
            ref=ref,
            model_version=mv,
            loaded=loaded,
            validator=InputValidator(loaded.signature),
            dispatcher=self._dispatcher(mv, runner),
            runner=runner,
        )

    def _dispatcher(self, mv: ModelVersion, runner: ModelRunner) -> Dispatcher[Job, Output]:
        batching = self.options.batching
        hook = None if self._metrics is None else self._metrics.batch_hook(mv.name, mv.version)
        if not batching.enabled:
            return Unbatched(runner, executor=self._executor, on_batch=hook)
        return MicroBatcher(
            runner,
            max_batch_size=batching.max_batch_size,
            max_wait_ms=batching.max_wait_ms,
            executor=self._executor,
            in_flight=self.in_flight_of(mv.name),
            on_batch=hook,
        )

    def _swap(self, slot: Slot, served: ServedVersion) -> None:
        old = slot.current
        slot.current = served  # one assignment: the next request sees the new version
        slot.error, slot.failed_version, slot.loaded_at = None, None, time.time()
        log.info("serving %s as version %d", slot.ref, served.version)
        if self._metrics is not None:
            self._metrics.loaded(served.name, slot.ref, served.version)
        if old is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(old.dispatcher.close)

    def _failed(self, slot: Slot, version: int, exc: Exception) -> None:
        slot.error = f"version {version} could not be served: {type(exc).__name__}: {exc}"
        slot.failed_version = version
        log.error("%s: %s", slot.ref, slot.error, exc_info=exc)
        if self._metrics is not None:
            self._metrics.load_failed(slot.ref)


def warm_up(served: ServedVersion) -> None:
    """Predict once on the version's input example (if it has one) before it takes traffic.

    Raises whatever validating or predicting raises, so a broken version is never swapped in.
    """
    example = served.loaded.input_example()
    if example is None:
        return
    job = Job(served.validator.validate(parse_json(example)))
    (result,) = served.runner([job])
    if isinstance(result, BaseException):
        raise result


__all__ = [
    "DEFAULT_RELOAD_INTERVAL_S",
    "BatchOptions",
    "Job",
    "Loader",
    "ModelError",
    "ModelNotReady",
    "ModelPool",
    "ModelRunner",
    "ModelSource",
    "Output",
    "PoolOptions",
    "ServedVersion",
    "Slot",
    "argmax_labels",
    "arrow_inputs",
    "as_proba",
    "as_rows",
    "folder_loader",
    "model_source",
    "registry_loader",
    "resolve_version",
    "warm_up",
]
