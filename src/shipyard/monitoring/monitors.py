"""Monitor definitions: what to watch, over which window, against what, and when to alert.

Declared under ``monitors:`` in ``shipyard.yaml`` (or in Python as :class:`Monitor`)::

    monitors:
      churn-live:
        model: churn@champion          # NAME@ALIAS, NAME/VERSION or NAME
        window: 24h                    # a time window (s, m, h, d, w) or {rows: 5000}
        reference: churn-data@3f2a…    # a dataset; default: the model's training dataset
        target: churn                  # the label column of the reference (prediction drift)
        columns: [tenure, monthly_charges]    # default: every input the log and reference share
        drift: {drift_share: 0.3, columns: {tenure: {threshold: 0.2}}}   # drift settings
        suite: suite.yaml              # a validation suite run on the window's inputs
        performance: {task: classification, positive: "Yes", min_labels: 50}
        alerts:
          rules: ["drift_share > 0.3", "roc_auc < 0.75", "p99_latency_ms > 50"]
          channels: [{type: webhook, url: http://127.0.0.1:9000/hook}, {type: log}]
          cooldown: 1h
        server: http://127.0.0.1:8000  # the model server: requests and errors from its /metrics
        schedule: "*/15 * * * *"       # run by `shipyard scheduler` / `shipyard monitor watch`
        retrain: {pipeline: churn-train, gate: {metric: roc_auc, margin: 0.01}}

>>> m = Monitor.from_dict("m", {"model": "churn@champion", "window": {"rows": 500}})
>>> (m.window.rows, m.window.seconds, m.alerts.rules)
(500, None, ())
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard._util import check_name
from shipyard.errors import InvalidArgument, NotFound
from shipyard.monitoring.alerts import AlertPolicy, parse_duration
from shipyard.monitoring.performance import TASKS

FIELDS = (
    "model",
    "window",
    "reference",
    "target",
    "columns",
    "drift",
    "suite",
    "performance",
    "alerts",
    "schedule",
    "retrain",
    "predictions",
    "server",
    "description",
)


@dataclass(frozen=True)
class Window:
    """The last ``rows`` predictions, or those of the last ``seconds`` (exactly one is set)."""

    rows: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if (self.rows is None) == (self.seconds is None):
            raise InvalidArgument("a window is either a number of rows or a duration, not both")
        if self.rows is not None and (isinstance(self.rows, bool) or self.rows < 1):
            raise InvalidArgument(f"a window of rows needs at least 1 row, got {self.rows!r}")
        if self.seconds is not None and not self.seconds > 0:
            raise InvalidArgument(f"a time window must be longer than 0 s, got {self.seconds!r}")

    @classmethod
    def parse(cls, value: Any) -> Window:
        """From ``{rows: N}``, ``{last: 24h}``, an int (rows) or a duration text (``24h``)."""
        if isinstance(value, Window):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(rows=value)
        if isinstance(value, str):
            text = value.strip()
            if text.endswith("rows"):
                return cls(rows=_whole(text.removesuffix("rows").strip()))
            return cls(seconds=parse_duration(text, "window"))
        if isinstance(value, Mapping) and len(value) == 1:
            ((key, inner),) = value.items()
            if key == "rows":
                return cls(rows=_whole(inner))
            if key in ("last", "time"):
                return cls(seconds=parse_duration(inner, "window"))
        raise InvalidArgument(
            f"window {value!r} is not a window; write {{rows: 5000}}, {{last: 24h}} or 24h"
        )

    def describe(self) -> str:
        return f"last {self.rows:,} predictions" if self.rows else f"last {self.seconds:g} s"


def _whole(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"a window of rows needs a whole number, not {value!r}") from exc
    return number


@dataclass(frozen=True)
class Performance:
    """How labelled predictions are scored: the ``task`` (``auto`` guesses from the outputs),
    the ``positive`` class of a binary task and the fewest labels worth scoring."""

    task: str = "auto"
    positive: Any = None
    min_labels: int = 10

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Performance:
        data = data or {}
        unknown = sorted(set(data) - {"task", "positive", "min_labels"})
        if unknown:
            raise InvalidArgument(f"unknown performance field(s) {unknown}")
        task = str(data.get("task", "auto"))
        if task not in TASKS:
            raise InvalidArgument(f"performance task {task!r} is not one of {list(TASKS)}")
        min_labels = data.get("min_labels", 10)
        if isinstance(min_labels, bool) or not isinstance(min_labels, int) or min_labels < 1:
            raise InvalidArgument(f"min_labels must be a whole number >= 1, got {min_labels!r}")
        return cls(task, data.get("positive"), min_labels)


@dataclass(frozen=True)
class Monitor:
    """One monitor: see the module docstring for each field. ``drift`` is a drift settings
    mapping (``None``: defaults; ``False`` turns drift off)."""

    name: str
    model: str
    window: Window = field(default_factory=lambda: Window(seconds=86400.0))
    reference: str | None = None
    target: str | None = None
    columns: tuple[str, ...] | None = None
    drift: Mapping[str, Any] | bool | None = None
    suite: str | None = None
    performance: Performance = field(default_factory=Performance)
    alerts: AlertPolicy = field(default_factory=AlertPolicy)
    schedule: str | None = None
    retrain: Mapping[str, Any] | None = None
    predictions: str | None = None
    server: str | None = None
    description: str = ""
    base_dir: Path | None = None

    def __post_init__(self) -> None:
        check_name(self.name, "monitor")
        if isinstance(self.columns, str):  # one column, not its letters
            object.__setattr__(self, "columns", (self.columns,))
        from shipyard.registry.uri import parse_model_ref

        parse_model_ref(self.model)

    @classmethod
    def from_dict(
        cls, name: str, data: Mapping[str, Any], *, base_dir: Path | None = None
    ) -> Monitor:
        """The monitor ``name`` described by ``data`` (a ``monitors:`` entry). Raises
        InvalidArgument naming the bad field (an unknown metric in a rule included)."""
        if not isinstance(data, Mapping):
            raise InvalidArgument(f"monitor {name!r} must be a mapping of settings, not {data!r}")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise InvalidArgument(
                f"monitor {name!r}: unknown field(s) {unknown}; fields are {list(FIELDS)}"
            )
        if "model" not in data:
            raise InvalidArgument(f"monitor {name!r} needs model: (like churn@champion)")
        columns = data.get("columns")
        if isinstance(columns, str):  # columns: tenure is one column, not its letters
            columns = [columns]
        elif columns is not None and not isinstance(columns, Sequence):
            raise InvalidArgument(
                f"monitor {name!r}: columns must be a list of column names, not {columns!r}"
            )
        drift = data.get("drift")
        if drift not in (None, False) and not isinstance(drift, Mapping):
            raise InvalidArgument(f"monitor {name!r}: drift must be a mapping or false")
        if isinstance(drift, Mapping):
            from shipyard.monitoring.drift.config import DriftConfig

            DriftConfig.from_dict(drift)  # fail at load, not at the first check
        if data.get("retrain") is not None:
            from shipyard.monitoring.retrain import RetrainPolicy

            try:
                RetrainPolicy.from_dict(data["retrain"], target=data.get("target"))
            except InvalidArgument as exc:
                raise InvalidArgument(f"monitor {name!r}: {exc}") from exc
        try:
            return cls(
                name=name,
                model=str(data["model"]),
                window=Window.parse(data.get("window", "24h")),
                reference=data.get("reference"),
                target=data.get("target"),
                columns=None if columns is None else tuple(str(c) for c in columns),
                drift=drift,
                suite=data.get("suite"),
                performance=Performance.from_dict(data.get("performance")),
                alerts=AlertPolicy.from_dict(data.get("alerts")),
                schedule=data.get("schedule"),
                retrain=data.get("retrain"),
                predictions=data.get("predictions"),
                server=_server_url(data.get("server")),
                description=str(data.get("description", "")),
                base_dir=base_dir,
            )
        except InvalidArgument as exc:
            raise InvalidArgument(f"monitor {name!r}: {exc}") from exc

    def path(self, value: str) -> Path:
        """``value`` as a path, relative to the folder of the file that declared the monitor."""
        path = Path(value)
        return path if path.is_absolute() or self.base_dir is None else self.base_dir / path


def _server_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise InvalidArgument(f"server must be the model server's http(s):// URL, not {value!r}")
    return value


def monitors_from_config(
    extra: Mapping[str, Any], *, base_dir: Path | None = None
) -> dict[str, Monitor]:
    """Every monitor of a ``monitors:`` section (``extra`` is the rest of shipyard.yaml)."""
    section = extra.get("monitors") or {}
    if not isinstance(section, Mapping):
        raise InvalidArgument("monitors: in shipyard.yaml must map each monitor name to settings")
    return {
        str(name): Monitor.from_dict(str(name), spec, base_dir=base_dir)
        for name, spec in section.items()
    }


def find_monitor(name: str, monitors: Mapping[str, Monitor]) -> Monitor:
    """``monitors[name]``. Raises NotFound listing the names there are."""
    try:
        return monitors[name]
    except KeyError:
        known = sorted(monitors) or "none (add a monitors: section to shipyard.yaml)"
        raise NotFound(f"no monitor {name!r}; monitors are {known}") from None
