"""Run a monitor once: drift, data quality, performance and health over its window.

:func:`run_check` reads the window from the prediction log, compares its inputs with the
reference (the drift engine of :mod:`shipyard.monitoring.drift`), runs the validation suite
on them (:mod:`shipyard.data.validation`), scores the labelled predictions, measures latency,
throughput and errors, writes an HTML and a JSON report, stores the check as history and then
evaluates the alert rules. Its metrics are what alert rules name.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from shipyard._util import now_ms
from shipyard.errors import InvalidArgument, NotFound
from shipyard.monitoring import performance as perf
from shipyard.monitoring.alerts import evaluate
from shipyard.monitoring.entities import Alert, Check, Retraining
from shipyard.monitoring.monitors import Monitor
from shipyard.monitoring.service import MonitorServices as Services
from shipyard.monitoring.window import input_columns, join_labels, read_window

if TYPE_CHECKING:
    from shipyard.monitoring.drift.entities import DriftReport
    from shipyard.registry.entities import ModelVersion

log = logging.getLogger(__name__)
LABEL = "__label__"


@dataclass(frozen=True)
class CheckOutcome:
    """A check as stored, the alerts it raised, and the drift report behind it (None when
    drift was off or the window empty)."""

    check: Check
    alerts: tuple[Alert, ...] = ()
    drift: DriftReport | None = None
    retraining: Retraining | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> int:
        """The stored check's id."""
        return self.check.id

    @property
    def metrics(self) -> Mapping[str, float | None]:
        return self.check.metrics


def run_check(
    monitor: Monitor,
    services: Services,
    *,
    now: dt.datetime | None = None,
    reports_dir: Path | None = None,
) -> CheckOutcome:
    """Run ``monitor`` once over its window ending at ``now`` (default: the current time).

    Raises NotFound (the model, or a reference dataset) and InvalidArgument (a reference that
    shares no column with the logged inputs, a suite that cannot be read) before anything is
    stored; channel failures never raise (they are recorded on the alert).
    """
    started = now_ms()
    when = _utc(now)
    version = _model_version(services, monitor.model)
    from shipyard.registry.uri import parse_model_ref

    root = log_root(monitor, services)
    pinned = parse_model_ref(monitor.model).version  # NAME/VERSION: that version's rows only
    window = read_window(root, version.name, monitor.window, version=pinned, now=when)
    bounds = _bounds(window, monitor, when)
    metrics: dict[str, float | None] = {"rows": float(window.num_rows)}
    details: dict[str, Any] = {
        "window": monitor.window.describe(),
        "versions": sorted(set(window.column("version").to_pylist())) if window.num_rows else [],
    }
    drift = None
    if window.num_rows == 0:
        metrics.update(labelled=0.0, label_share=None)
    else:
        drift = _drift(monitor, services, version, window, metrics, details)
        _quality(monitor, window, metrics, details)
        _performance(monitor, services, version.name, window, metrics, details)
        metrics.update(perf.health_metrics(window, monitor.window.seconds))
    if monitor.server:
        _server(monitor, services, metrics, details)
    holds = any(r.holds(metrics) for r in monitor.alerts.rules)
    status = "alert" if holds else ("ok" if window.num_rows else "empty")
    report = _reports(monitor, services, reports_dir, when, metrics, details, drift)
    check = services.monitoring.record_check(
        monitor=monitor.name,
        model=version.name,
        version=version.version,
        status=status,
        window=bounds,
        rows=window.num_rows,
        labelled=int(metrics.get("labelled") or 0),
        metrics=metrics,
        details=details,
        report=str(report),
        started_at=started,
    )
    alerts = evaluate(services.monitoring, monitor.alerts, check)
    return CheckOutcome(check, tuple(alerts), drift)


def _utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)


def _model_version(services: Services, ref: str) -> ModelVersion:
    from shipyard.registry.uri import resolve_ref

    return resolve_ref(services.registry, ref)


def log_root(monitor: Monitor, services: Services) -> Path:
    """The prediction log the monitor reads: its ``predictions:`` folder, else the home's."""
    if monitor.predictions:
        return monitor.path(monitor.predictions)
    from shipyard.serving.predictions import default_root

    return default_root(services.settings)


def _bounds(window: pa.Table, monitor: Monitor, when: dt.datetime) -> tuple[int | None, int | None]:
    end = int(when.timestamp() * 1000)
    if monitor.window.seconds is not None:
        return end - int(monitor.window.seconds * 1000), end
    if window.num_rows == 0:
        return None, None
    import pyarrow.compute as pc

    first = pc.min(window.column("ts")).as_py()
    last = pc.max(window.column("ts")).as_py()
    return int(first.timestamp() * 1000), int(last.timestamp() * 1000)


# --------------------------------------------------------------------------- reference and drift


def reference_table(
    monitor: Monitor, services: Services, version: ModelVersion
) -> tuple[pa.Table, str]:
    """The monitor's reference and its ``NAME@VERSION``: its ``reference`` dataset, else the
    dataset the model version was trained on (the ``training`` input of its run). Raises
    NotFound."""
    from shipyard.data.datasets.store import DatasetStore

    ref = monitor.reference
    if ref is None:
        ref = training_dataset(services, version)
    table, found = DatasetStore(services.datasets, services.artifacts).load(ref)
    return table, str(found.ref)


def training_dataset(services: Services, version: ModelVersion) -> str:
    """``NAME@VERSION`` of the dataset ``version``'s run (or the nearest run above it) read
    for training. Raises NotFound."""
    if version.run_id is None:
        raise NotFound(
            f"model {version.name}/{version.version} has no run, so no training dataset is "
            "known; give the monitor a reference: dataset"
        )
    run_id: str | None = version.run_id
    inputs: list[Any] = []
    while not inputs and run_id is not None:  # a nested run: a run above it read the data
        run = services.tracking.get_run(run_id)
        inputs = [i for i in run.inputs if i.context == "training"] or list(run.inputs)
        run_id = run.parent_run_id
    if not inputs:
        raise NotFound(
            f"run {version.run_id} of model {version.name}/{version.version} recorded no dataset "
            "input; load the training data with shipyard.load_dataset inside the run, or give "
            "the monitor a reference: dataset"
        )
    return f"{inputs[0].name}@{inputs[0].digest}"


def _drift(
    monitor: Monitor,
    services: Services,
    version: ModelVersion,
    window: pa.Table,
    metrics: dict[str, float | None],
    details: dict[str, Any],
) -> DriftReport | None:
    if monitor.drift is False:
        return None
    from shipyard.monitoring.drift import compute_drift
    from shipyard.monitoring.drift.config import DriftConfig

    reference, reference_ref = reference_table(monitor, services, version)
    logged = input_columns(window)
    shared = [c for c in logged if c in reference.column_names and c != monitor.target]
    columns = list(monitor.columns) if monitor.columns is not None else shared
    missing = [c for c in columns if c not in shared]
    if missing or not columns:
        raise InvalidArgument(
            f"monitor {monitor.name!r}: drift column(s) {missing or '(none)'} are not both in "
            f"the reference ({reference.column_names}) and the logged inputs ({logged})"
        )
    config = DriftConfig.from_dict(monitor.drift if isinstance(monitor.drift, Mapping) else None)
    report = compute_drift(reference.select(columns), window.select(columns), config=config)
    metrics["drift_share"] = report.share_drifted
    metrics["drifted_features"] = float(len(report.drifted_columns))
    for col in report.columns:
        metrics[f"drift_score.{col.column}"] = col.effect_size
    details["drift"] = report.to_dict()
    details["reference"] = reference_ref
    details["reference_rows"] = reference.num_rows
    _prediction_drift(monitor, reference, window, config, metrics, details)
    return report


def _prediction_drift(
    monitor: Monitor,
    reference: pa.Table,
    window: pa.Table,
    config: Any,
    metrics: dict[str, float | None],
    details: dict[str, Any],
) -> None:
    """The served predictions against the reference's labels (the target column)."""
    target = monitor.target
    if target is None or target not in reference.column_names:
        return
    if perf.PREDICTION not in window.column_names:
        return
    from shipyard.monitoring.drift import compute_drift

    current = window.column(perf.PREDICTION)
    expected = reference.column(target)
    if current.type != expected.type:
        try:
            expected = expected.cast(current.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            current = current.cast(pa.string())
            expected = expected.cast(pa.string())
    report = compute_drift(
        pa.table({perf.PREDICTION: expected}), pa.table({perf.PREDICTION: current}), config=config
    )
    col = report.columns[0]
    metrics["prediction_drift"] = col.effect_size
    details["prediction_drift"] = col.to_dict()


# --------------------------------------------------------------------------- quality


def _quality(
    monitor: Monitor, window: pa.Table, metrics: dict[str, float | None], details: dict[str, Any]
) -> None:
    if not monitor.suite:
        return
    from shipyard.data.validation import Suite, report_dict, validate

    suite = Suite.from_yaml(monitor.path(monitor.suite))
    report = validate(window.select(input_columns(window)), suite)
    failed = [r for r in report.results if not r.passed and r.severity == "error"]
    metrics["quality_failed"] = float(len(failed))
    details["quality"] = report_dict(report)


# --------------------------------------------------------------------------- performance


def _performance(
    monitor: Monitor,
    services: Services,
    model: str,
    window: pa.Table,
    metrics: dict[str, float | None],
    details: dict[str, Any],
) -> None:
    labels = services.monitoring.feedback(model)
    labelled = join_labels(window, labels, LABEL)
    n = labelled.num_rows
    metrics["labelled"] = float(n)
    metrics["label_share"] = n / window.num_rows
    spec = monitor.performance
    task = perf.task_of(window, spec.task)
    details["performance"] = {"task": task, "labelled": n, "min_labels": spec.min_labels}
    if n < spec.min_labels:
        details["performance"]["skipped"] = f"{n} label(s), fewer than min_labels"
        return
    if task == "classification":
        notes: dict[str, Any] = {}
        scores = perf.classification_metrics(labelled, LABEL, positive=spec.positive, notes=notes)
        metrics.update(scores)
        details["performance"].update(notes)
    else:
        metrics.update(perf.regression_metrics(labelled, LABEL))


def _server(
    monitor: Monitor, services: Services, metrics: dict[str, float | None], details: dict[str, Any]
) -> None:
    from shipyard.monitoring.server_health import server_health
    from shipyard.registry.uri import parse_model_ref

    assert monitor.server is not None  # checked by the caller
    last = services.monitoring.list_checks(monitor=monitor.name, limit=1)
    previous = (last[0].details.get("server") or {}).get("counters") if last else None
    figures, info = server_health(monitor.server, parse_model_ref(monitor.model).name, previous)
    metrics.update(figures)
    details["server"] = info


# --------------------------------------------------------------------------- reports


def _reports(
    monitor: Monitor,
    services: Services,
    reports_dir: Path | None,
    when: dt.datetime,
    metrics: Mapping[str, float | None],
    details: Mapping[str, Any],
    drift: DriftReport | None,
) -> Path:
    from shipyard.monitoring.check_report import write_check_report

    folder = reports_dir or Path(services.settings.home) / "reports" / "monitors" / monitor.name
    history = services.monitoring.list_checks(monitor=monitor.name, limit=200)
    stem = folder / f"{monitor.name}-{when.strftime('%Y%m%dT%H%M%S%f')}"
    return write_check_report(
        stem,
        monitor=monitor,
        when=when,
        metrics=metrics,
        details=details,
        drift=drift,
        history=history,
    )
