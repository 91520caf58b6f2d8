"""The monitoring SDK: send ground truth, declare and run monitors, read history and alerts.

>>> import shipyard
>>> shipyard.run_monitor  # doctest: +ELLIPSIS
<function run_monitor at ...>
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shipyard.monitoring.checks import CheckOutcome
from shipyard.monitoring.entities import Alert, Check, FeedbackReceipt, Retraining
from shipyard.monitoring.monitors import Monitor, find_monitor, monitors_from_config

_declared: dict[str, Monitor] = {}


def log_feedback(
    model: str,
    labels: Any,
    *,
    label: str = "label",
    id_column: str = "prediction_id",
    keys: Sequence[str] = (),
    ts: str = "ts",
    allow_unknown: bool = False,
) -> FeedbackReceipt:
    """Store ground truth for predictions of ``model``.

    ``labels`` is an Arrow table, a DataFrame, records or columns holding ``label`` and either
    ``id_column`` (the prediction id the server answered with) or the entity ``keys`` plus a
    time ``ts`` (the label belongs to the newest prediction of that entity at or before it).
    Every label must match a logged prediction, else nothing is stored and InvalidArgument says
    how many did not, with examples; ``allow_unknown`` stores the rest (ids not logged yet are
    kept until their predictions arrive). A label sent again replaces the earlier one.
    """
    from shipyard.monitoring.feedback import normalize_labels
    from shipyard.tracking.fluent import services

    table = normalize_labels(labels, label=label, id_column=id_column, keys=keys, ts=ts)
    return services().monitoring.record_feedback(
        model, table, keys=tuple(keys), allow_unknown=allow_unknown
    )


def add_monitor(monitor: Monitor) -> Monitor:
    """Declare a monitor in Python (it then runs by name like one from shipyard.yaml, whose
    monitor of the same name it replaces in this process)."""
    if not isinstance(monitor, Monitor):
        from shipyard.errors import InvalidArgument

        raise InvalidArgument(f"add_monitor takes a Monitor, not {type(monitor).__name__}")
    _declared[monitor.name] = monitor
    return monitor


def list_monitors() -> dict[str, Monitor]:
    """Every monitor: those of ``monitors:`` in shipyard.yaml and those added in Python."""
    from shipyard.tracking.fluent import services

    settings = services().settings
    base = settings.config_file.parent if settings.config_file else Path.cwd()
    return {**monitors_from_config(settings.extra, base_dir=base), **_declared}


def get_monitor(name: str) -> Monitor:
    """The monitor ``name``. Raises NotFound listing the monitors there are."""
    return find_monitor(name, list_monitors())


def run_monitor(
    monitor: str | Monitor,
    *,
    now: dt.datetime | None = None,
    reports_dir: str | Path | None = None,
) -> CheckOutcome:
    """Run a monitor's checks once (drift, data quality, performance, health), store them as
    history, write the HTML/JSON report and send the alerts whose rules hold. The scheduler
    calls this for each due monitor. Raises NotFound and InvalidArgument before storing
    anything."""
    from shipyard.monitoring.checks import run_check
    from shipyard.tracking.fluent import services

    chosen = monitor if isinstance(monitor, Monitor) else get_monitor(monitor)
    folder = None if reports_dir is None else Path(reports_dir)
    svc = services()
    outcome = run_check(chosen, svc, now=now, reports_dir=folder)
    if chosen.retrain:
        from dataclasses import replace

        from shipyard.monitoring.retrain import RetrainPolicy, new_labels_since_last, retrain

        policy = RetrainPolicy.from_dict(chosen.retrain, target=chosen.target)
        fresh = 0
        if "new_labels" in policy.on:
            fresh = new_labels_since_last(
                svc, outcome.check.model, svc.monitoring.feedback(outcome.check.model)
            )
        reason = policy.triggered_by(outcome, fresh)
        if reason is not None:
            retraining = retrain(chosen, svc, trigger=reason, now=now)
            outcome = replace(outcome, retraining=retraining)
    return outcome


def retrain_model(monitor: str | Monitor, *, reason: str = "manual") -> Retraining:
    """Run a monitor's retraining policy now: train, gate on fresh labels, promote only if the
    gate passes. Returns the recorded retraining (``outcome`` promoted, refused or failed)."""
    from shipyard.monitoring.retrain import retrain
    from shipyard.tracking.fluent import services

    chosen = monitor if isinstance(monitor, Monitor) else get_monitor(monitor)
    return retrain(chosen, services(), trigger=reason)


def monitor_history(
    monitor: str | None = None, *, model: str | None = None, limit: int = 100
) -> list[Check]:
    """Stored checks, newest first (of one monitor and/or model)."""
    from shipyard.tracking.fluent import services

    return services().monitoring.list_checks(monitor=monitor, model=model, limit=limit)


def get_check(check_id: int) -> Check:
    """One stored check. Raises NotFound."""
    from shipyard.tracking.fluent import services

    return services().monitoring.get_check(check_id)


def list_alerts(
    monitor: str | None = None,
    *,
    state: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
) -> list[Alert]:
    """Alerts (sent, suppressed or failed), newest first; ``state`` keeps one of those,
    ``since`` (naive means UTC) those raised at or after it. Raises InvalidArgument for an
    unknown state."""
    from shipyard.tracking.fluent import services

    after = None
    if since is not None:
        aware = since if since.tzinfo is not None else since.replace(tzinfo=dt.UTC)
        after = int(aware.timestamp() * 1000)
    return services().monitoring.list_alerts(monitor=monitor, state=state, since=after, limit=limit)


def list_retrainings(model: str | None = None, *, limit: int = 100) -> list[Retraining]:
    """Runs of retraining policies with their steps and reasons, newest first."""
    from shipyard.tracking.fluent import services

    return services().monitoring.list_retrainings(model=model, limit=limit)
