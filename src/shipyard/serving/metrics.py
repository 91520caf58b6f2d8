"""Prometheus metrics of the model server, per model version, in the app's own registry.

Every series carries ``model`` and ``version`` (``""`` when a request failed before a version
was chosen), so a canary or a shadow is measured apart from the primary; ``role`` says which
side of a traffic policy served it (``primary``, ``canary``, ``shadow``).

=========================================== =====================================================
``shipyard_serving_requests_total``         predict requests by endpoint, role and HTTP status
``shipyard_serving_request_duration_seconds`` time from request to response (histogram)
``shipyard_serving_rows_total``             rows predicted
``shipyard_serving_errors_total``           failed requests by HTTP status and error code
``shipyard_serving_batch_size``             requests grouped into one model call (histogram)
``shipyard_serving_batch_rows``             rows in one model call (histogram)
``shipyard_serving_model_info``             1 for each reference and the version serving it
``shipyard_serving_reloads_total``          hot promotions by outcome (``ok``/``failed``)
``shipyard_serving_shadow_rows_total``      shadow rows by whether they agree with the primary
``shipyard_serving_prediction_log_dropped`` prediction-log rows dropped (queue full)
=========================================== =====================================================

Each app builds its own :class:`ServingMetrics` (its own ``CollectorRegistry``), so several
servers in one process (tests) never share counters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)
CONTENT_TYPE = CONTENT_TYPE_LATEST
UNKNOWN_MODEL = "<unknown>"


class ServingMetrics:
    """The collectors of one model server app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "shipyard_serving_requests",
            "Predict requests handled, by model version, endpoint, role and HTTP status.",
            ["model", "version", "endpoint", "role", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "shipyard_serving_request_duration_seconds",
            "Time from receiving a predict request to its response, by model version.",
            ["model", "version", "role"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rows = Counter(
            "shipyard_serving_rows", "Rows predicted.", ["model", "version", "role"], registry=r
        )
        self.errors = Counter(
            "shipyard_serving_errors",
            "Failed predict requests, by HTTP status and error code.",
            ["model", "version", "status", "code"],
            registry=r,
        )
        self.batch_size = Histogram(
            "shipyard_serving_batch_size",
            "Requests grouped into one model call.",
            ["model", "version"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.batch_rows = Histogram(
            "shipyard_serving_batch_rows",
            "Rows in one model call.",
            ["model", "version"],
            buckets=ROW_BUCKETS,
            registry=r,
        )
        self.model_info = Gauge(
            "shipyard_serving_model_info",
            "1 for each served reference and the version serving it now.",
            ["model", "ref", "version"],
            registry=r,
        )
        self.reloads = Counter(
            "shipyard_serving_reloads",
            "Versions loaded for a reference (hot promotion), by outcome.",
            ["ref", "outcome"],
            registry=r,
        )
        self.shadow_rows = Counter(
            "shipyard_serving_shadow_rows",
            "Rows a shadow version predicted, by whether its prediction equals the primary's.",
            ["model", "version", "agree"],
            registry=r,
        )
        self._children: dict[tuple[Any, ...], Any] = {}
        self._serving: dict[str, tuple[str, str]] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def request(
        self,
        *,
        model: str,
        version: int | None,
        endpoint: str,
        role: str,
        status: int,
        seconds: float,
        rows: int = 0,
    ) -> None:
        """Count one finished predict request (any status)."""
        v = "" if version is None else str(version)
        self._child(self.requests, model, v, endpoint, role, str(status)).inc()
        self._child(self.latency, model, v, role).observe(seconds)
        if rows:
            self._child(self.rows, model, v, role).inc(rows)

    def error(self, *, model: str, version: int | None, status: int, code: str) -> None:
        """Count one failed request by status and code."""
        v = "" if version is None else str(version)
        self._child(self.errors, model, v, str(status), code).inc()

    def batch_hook(self, model: str, version: int) -> Callable[[int, int], None]:
        """A callback for the batcher: observe (requests, rows) of each model call."""
        size = self._child(self.batch_size, model, str(version))
        rows = self._child(self.batch_rows, model, str(version))

        def observe(requests: int, n_rows: int) -> None:
            size.observe(requests)
            rows.observe(n_rows)

        return observe

    def loaded(self, model: str, ref: str, version: int) -> None:
        """``ref`` is now served by ``version`` (the previous version's info series goes)."""
        previous = self._serving.get(ref)
        if previous is not None:
            self.model_info.remove(previous[0], ref, previous[1])
        self._serving[ref] = (model, str(version))
        self.model_info.labels(model, ref, str(version)).set(1)
        self.reloads.labels(ref, "ok").inc()

    def load_failed(self, ref: str) -> None:
        """A version of ``ref`` could not be loaded or warmed up."""
        self.reloads.labels(ref, "failed").inc()

    def shadow(self, *, model: str, version: int, agree: int, disagree: int) -> None:
        """Rows a shadow predicted, split by agreement with the primary."""
        if agree:
            self._child(self.shadow_rows, model, str(version), "true").inc(agree)
        if disagree:
            self._child(self.shadow_rows, model, str(version), "false").inc(disagree)

    def watch_dropped(self, dropped: Callable[[], float]) -> None:
        """Expose the prediction log's dropped-row counter."""
        gauge = Gauge(
            "shipyard_serving_prediction_log_dropped",
            "Prediction-log rows dropped because its queue was full.",
            registry=self.registry,
        )
        gauge.set_function(dropped)

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return bytes(generate_latest(self.registry))


__all__ = ["CONTENT_TYPE", "UNKNOWN_MODEL", "ServingMetrics"]
