"""The tracking SDK: ``shipyard.start_run`` and the ``log_*`` functions on the active run.

Example::

    import shipyard
    with shipyard.start_run(experiment="churn", name="rf") as run:
        shipyard.log_params({"n_estimators": 200})
        shipyard.log_metric("auc", 0.84)
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from shipyard._util import now_ms
from shipyard.artifacts.entities import ArtifactInfo
from shipyard.artifacts.owners import run_owner
from shipyard.client import Services, connect
from shipyard.config import Settings, load_settings
from shipyard.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NotFound,
    ShipyardError,
    StoreUnavailable,
)
from shipyard.tracking.buffer import MetricBuffer
from shipyard.tracking.context import system_tags
from shipyard.tracking.entities import (
    DatasetInput,
    Experiment,
    Metric,
    Run,
    RunStatus,
)
from shipyard.tracking.validation import check_metric, check_param, check_tag

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_EXPERIMENT = "Default"


class _State:
    """The process's connection, metric buffer and stack of active runs."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.settings: Settings | None = None
        self.services: Services | None = None
        self.buffer: MetricBuffer | None = None
        self.stack: list[ActiveRun] = []
        self.experiment_ids: dict[str, int] = {}

    def get_services(self) -> Services:
        if self.services is None:
            with self.lock:
                if self.services is None:
                    self.settings = self.settings or load_settings()
                    self.services = connect(self.settings)
        return self.services

    def get_buffer(self) -> MetricBuffer:
        if self.buffer is None:
            with self.lock:
                if self.buffer is None:
                    settings = self.get_services().settings
                    self.buffer = MetricBuffer(
                        lambda: self.get_services().tracking,
                        flush_interval_ms=settings.flush_interval_ms,
                        heartbeat_interval_s=settings.heartbeat_interval_s,
                    )
        return self.buffer

    def reset(self, settings: Settings | None = None) -> None:
        """Flush and drop the connection; the next call reconnects with ``settings``."""
        with self.lock:
            if self.buffer is not None:
                self.buffer.close()
            if self.services is not None:
                self.services.close()
            self.settings = settings
            self.services = None
            self.buffer = None
            self.stack.clear()
            self.experiment_ids.clear()


_state = _State()


def configure(**settings: Any) -> Settings:
    """Point the SDK at other stores, e.g. ``configure(tracking_uri="http://ml:5000")``.

    Accepts the names of ``shipyard config`` (``home``, ``tracking_uri``, ``artifact_uri`` …);
    anything not given is resolved from the environment and ``shipyard.yaml`` as usual.
    Pending metrics are flushed to the previous store first.
    """
    resolved = load_settings(**settings)
    _state.reset(resolved)
    return resolved


def services() -> Services:
    """The services the SDK talks to (local store or team server)."""
    return _state.get_services()


class ActiveRun:
    """A run being recorded; a context manager that ends it.

    Ends FINISHED on a normal exit, FAILED on an exception, KILLED on KeyboardInterrupt.
    """

    def __init__(self, run: Run) -> None:
        self._run = run

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def experiment_id(self) -> int:
        return self._run.experiment_id

    @property
    def name(self) -> str:
        return self._run.name

    @property
    def info(self) -> Run:
        """The run as stored now (flushes pending metrics first)."""
        return get_run(self.run_id)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        end_run(status, run_id=self.run_id)

    def __repr__(self) -> str:
        return f"<ActiveRun {self.name} {self.run_id}>"


def _experiment_id(ref: str | int | None) -> int:
    """The id of experiment ``ref`` (created if a name is new), remembered for this process."""
    if isinstance(ref, int):
        return ref
    name = ref or DEFAULT_EXPERIMENT
    cached = _state.experiment_ids.get(name)
    if cached is not None:
        return cached
    tracking = services().tracking
    try:
        exp = tracking.get_experiment(name)
    except NotFound:
        try:
            exp = tracking.create_experiment(name)
        except AlreadyExists:
            exp = tracking.get_experiment(name)
    _state.experiment_ids[name] = exp.experiment_id
    return exp.experiment_id


def start_run(
    experiment: str | int | None = None,
    name: str | None = None,
    tags: Mapping[str, Any] | None = None,
    *,
    nested: bool = False,
    parent_run_id: str | None = None,
) -> ActiveRun:
    """Start a run in ``experiment`` (created if missing; ``Default`` if not given).

    Inside another active run pass ``nested=True`` to make a child run. Records the git commit,
    command, Python and package versions and host as ``shipyard.*`` tags. Returns an
    :class:`ActiveRun`; use it in a ``with`` block or call :func:`end_run`.
    Raises Conflict when a run is active and ``nested`` is False.
    """
    with _state.lock:
        parent = _state.stack[-1] if _state.stack else None
        if parent is not None and not nested and parent_run_id is None:
            raise Conflict(
                f"run {parent.run_id} is already active; end it first, or pass nested=True "
                "to start a child run"
            )
        if experiment is None and parent is not None:
            experiment = parent.experiment_id
        all_tags = {**system_tags(), **{k: str(v) for k, v in (tags or {}).items()}}
        parent_id = parent_run_id or (parent.run_id if parent else None)
        try:
            run = services().tracking.create_run(
                _experiment_id(experiment), name=name, tags=all_tags, parent_run_id=parent_id
            )
        except (NotFound, Conflict):
            if not _state.experiment_ids:
                raise
            _state.experiment_ids.clear()  # deleted or recreated elsewhere: look it up again
            run = services().tracking.create_run(
                _experiment_id(experiment), name=name, tags=all_tags, parent_run_id=parent_id
            )
        active = ActiveRun(run)
        _state.stack.append(active)
    _state.get_buffer().track(run.run_id)
    return active


def active_run() -> ActiveRun | None:
    """The innermost active run, or None."""
    return _state.stack[-1] if _state.stack else None


def _run_id(run_id: str | None = None) -> str:
    if run_id:
        return run_id
    run = active_run()
    if run is None:
        raise InvalidArgument(
            "no active run: call this inside `with shipyard.start_run(...)`, or pass run_id="
        )
    return run.run_id


def end_run(status: RunStatus | str = RunStatus.FINISHED, *, run_id: str | None = None) -> None:
    """End the active run (or ``run_id``): what it still has buffered and its final status and
    end time are stored together, in one transaction (one request to a server)."""
    rid = _run_id(run_id)
    buffer = _state.get_buffer()
    batch = buffer.take(rid)
    tracking = services().tracking
    final = RunStatus(status)
    try:
        try:
            tracking.end_run(
                rid,
                final,
                end_time=now_ms(),
                metrics=batch.metrics,
                params=batch.params,
                tags=batch.tags,
            )
        except StoreUnavailable:
            buffer.give_back(rid, batch)  # stored at exit if the store comes back
            raise
        except ShipyardError:
            if not (batch.params or batch.tags):
                raise
            tracking.end_run(rid, final, end_time=now_ms(), metrics=batch.metrics)
            raise
        buffer.raise_error(rid)
    finally:
        with _state.lock:
            _state.stack[:] = [r for r in _state.stack if r.run_id != rid]


def flush(run_id: str | None = None) -> None:
    """Store every buffered metric point now (normally done in the background)."""
    _state.get_buffer().flush(run_id)


# logging --------------------------------------------------------------------------------------
def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    *,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    """Record one point of a metric; buffered and stored in the background in batches.

    NaN and +/-inf are accepted (NaN reads back as NaN and never matches a search filter).
    Raises InvalidArgument for a bad key or a value that is not a number.
    """
    log_metrics({key: value}, step=step, timestamp=timestamp, run_id=run_id)


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    *,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    """Record several metrics at the same step (see :func:`log_metric`)."""
    rid = _run_id(run_id)
    ts = timestamp or now_ms()
    points = [check_metric(key, value, step or 0, ts) for key, value in metrics.items()]
    _state.get_buffer().add(rid, points)


def log_param(key: str, value: Any, *, run_id: str | None = None) -> None:
    """Record a parameter (stored as a string). Params cannot change once logged (Conflict)."""
    log_params({key: value}, run_id=run_id)


def log_params(params: Mapping[str, Any], *, run_id: str | None = None) -> None:
    """Record several parameters (stored as text; lists and dicts as JSON).

    Raises InvalidArgument (bad key, value over 6,000 characters) and Conflict (a param logged
    before with another value) at the call; for a run of this process the write itself is
    batched with its metrics.
    """
    rid = _run_id(run_id)
    checked = {str(k): check_param(k, v) for k, v in params.items()}
    buffer = _state.get_buffer()
    if buffer.is_tracked(rid):
        buffer.add_params(rid, checked)
    else:
        services().tracking.log_batch(rid, params=checked)


def set_tag(key: str, value: Any, *, run_id: str | None = None) -> None:
    """Set a tag (tags, unlike params, may be overwritten)."""
    set_tags({key: value}, run_id=run_id)


def set_tags(tags: Mapping[str, Any], *, run_id: str | None = None) -> None:
    """Set several tags; batched like params for a run of this process."""
    rid = _run_id(run_id)
    checked = {str(k): check_tag(k, v) for k, v in tags.items()}
    buffer = _state.get_buffer()
    if buffer.is_tracked(rid):
        buffer.add_tags(rid, checked)
    else:
        services().tracking.log_batch(rid, tags=checked)


# artifacts ------------------------------------------------------------------------------------
def log_artifact(
    local_path: str | Path, artifact_path: str | None = None, *, run_id: str | None = None
) -> list[ArtifactInfo]:
    """Store a file under ``artifact_path`` of the run (content-addressed, checksummed)."""
    path = Path(local_path)
    if not path.is_file():
        raise InvalidArgument(f"{path} is not a file; use log_artifacts for a folder")
    return services().artifacts.upload(run_owner(_run_id(run_id)), path, artifact_path or "")


def log_artifacts(
    local_dir: str | Path, artifact_path: str | None = None, *, run_id: str | None = None
) -> list[ArtifactInfo]:
    """Store every file under a folder, keeping its layout, below ``artifact_path``."""
    path = Path(local_dir)
    if not path.is_dir():
        raise InvalidArgument(f"{path} is not a folder; use log_artifact for a file")
    return services().artifacts.upload(run_owner(_run_id(run_id)), path, artifact_path or "")


def _log_file(artifact_file: str, write: Any, run_id: str | None) -> list[ArtifactInfo]:
    name = Path(artifact_file)
    if not name.name or name.is_absolute():
        raise InvalidArgument(f"artifact_file {artifact_file!r} must be a relative file path")
    with tempfile.TemporaryDirectory(prefix="shipyard-") as tmp:
        local = Path(tmp) / name.name
        write(local)
        parent = name.parent.as_posix()
        return log_artifact(local, "" if parent == "." else parent, run_id=run_id)


def log_dict(
    data: Mapping[str, Any] | Sequence[Any], artifact_file: str, *, run_id: str | None = None
) -> list[ArtifactInfo]:
    """Store a dict or list as JSON (or YAML when the file ends in .yaml/.yml)."""

    def write(path: Path) -> None:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            path.write_text(yaml.safe_dump(data, sort_keys=False))
        else:
            path.write_text(json.dumps(data, indent=2, default=str))

    return _log_file(artifact_file, write, run_id)


def log_text(text: str, artifact_file: str, *, run_id: str | None = None) -> list[ArtifactInfo]:
    """Store a string as a text file."""
    return _log_file(artifact_file, lambda p: p.write_text(text), run_id)


def log_figure(figure: Any, artifact_file: str, *, run_id: str | None = None) -> list[ArtifactInfo]:
    """Store a matplotlib figure (format from the file suffix: .png, .svg, .pdf)."""
    if not hasattr(figure, "savefig"):
        raise InvalidArgument(f"log_figure needs a matplotlib Figure, got {type(figure).__name__}")
    return _log_file(artifact_file, lambda p: figure.savefig(p, bbox_inches="tight"), run_id)


def list_artifacts(run_id: str, path: str = "", *, recursive: bool = False) -> list[ArtifactInfo]:
    """Files and folders directly under ``path`` of a run (every file with ``recursive``)."""
    return services().artifacts.list(run_owner(run_id), path, recursive=recursive)


def download_artifacts(run_id: str, path: str = "", dst: str | Path | None = None) -> Path:
    """Copy a run's artifact file or folder to ``dst`` (a new temp folder if None), verified."""
    target = Path(dst) if dst is not None else Path(tempfile.mkdtemp(prefix="shipyard-"))
    target.mkdir(parents=True, exist_ok=True)
    return services().artifacts.download(run_owner(run_id), path, target)


# lineage --------------------------------------------------------------------------------------
def log_input(
    dataset: Any,
    *,
    name: str | None = None,
    context: str = "training",
    run_id: str | None = None,
) -> DatasetInput:
    """Record that the run read ``dataset``: a pandas DataFrame, a file path or a DatasetInput.

    A DataFrame is identified by a SHA-256 of its content, a file by the SHA-256 of its bytes;
    the schema and row count are kept, so ``shipyard runs show`` tells what a run trained on.
    """
    from shipyard.tracking.lineage import describe_dataset

    info = describe_dataset(dataset, name=name, context=context)
    services().tracking.log_inputs(_run_id(run_id), [info])
    return info


# reading --------------------------------------------------------------------------------------
def get_run(run_id: str) -> Run:
    """A run with its params, latest metrics, tags and inputs. Raises NotFound."""
    if _state.buffer is not None:
        _state.buffer.flush(run_id)
    return services().tracking.get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Every point of one metric of a run, by step."""
    if _state.buffer is not None:
        _state.buffer.flush(run_id)
    return services().tracking.get_metric_history(run_id, key)


def get_experiment(ref: str | int) -> Experiment:
    return services().tracking.get_experiment(ref)


def create_experiment(name: str, *, tags: Mapping[str, str] | None = None) -> Experiment:
    return services().tracking.create_experiment(name, tags=tags)


def list_experiments(*, deleted: bool = False) -> list[Experiment]:
    return services().tracking.list_experiments(deleted=deleted)


def rename_experiment(ref: str | int, new_name: str) -> Experiment:
    """Rename an experiment given by id or name. Raises NotFound, AlreadyExists."""
    tracking = services().tracking
    _state.experiment_ids.clear()
    return tracking.rename_experiment(tracking.get_experiment(ref).experiment_id, new_name)


def delete_experiment(ref: str | int) -> None:
    """Delete an experiment (its runs leave searches); ``restore_experiment`` undoes it."""
    tracking = services().tracking
    _state.experiment_ids.clear()
    tracking.delete_experiment(tracking.get_experiment(ref).experiment_id)


def restore_experiment(ref: str | int) -> None:
    tracking = services().tracking
    tracking.restore_experiment(tracking.get_experiment(ref).experiment_id)


def search_runs(
    experiment: str | int | Sequence[str | int] | None = None,
    filter: str = "",
    order_by: Sequence[str] = (),
    max_results: int = 1000,
    page_token: str | None = None,
    *,
    deleted: bool = False,
) -> pd.DataFrame:
    """Runs matching a filter as a DataFrame, one row per run.

    Columns: ``run_id``, ``experiment_id``, ``name``, ``status``, ``user``, ``start_time``,
    ``end_time`` (UTC datetimes), ``parent_run_id``, then ``metrics.*``, ``params.*``, ``tags.*``.
    The token for the next page, if any, is in ``df.attrs["next_page_token"]``.
    Raises FilterSyntaxError (pointing at the position) and NotFound for an unknown experiment.

    Example::

        shipyard.search_runs("churn", "metrics.auc > 0.8 and params.model = 'rf'",
                             order_by=["metrics.auc DESC"], max_results=10)
    """
    from shipyard.tracking.frame import runs_to_frame

    tracking = services().tracking
    if experiment is None:
        ids = [e.experiment_id for e in tracking.list_experiments()]
    else:
        refs = [experiment] if isinstance(experiment, (str, int)) else list(experiment)
        ids = [tracking.get_experiment(r).experiment_id for r in refs]
    if _state.buffer is not None:
        _state.buffer.flush()
    page = tracking.search_runs(
        ids,
        filter=filter,
        order_by=order_by,
        max_results=max_results,
        page_token=page_token,
        deleted=deleted,
    )
    df = runs_to_frame(page.runs)
    df.attrs["next_page_token"] = page.next_page_token
    return df


def delete_run(run_id: str) -> None:
    services().tracking.delete_run(run_id)


def restore_run(run_id: str) -> None:
    services().tracking.restore_run(run_id)
