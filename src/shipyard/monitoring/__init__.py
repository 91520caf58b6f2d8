"""Monitoring: drift, data quality, performance with delayed labels, health, alerts, retraining.

See ``docs/monitoring.md``. The SDK is :mod:`shipyard.monitoring.fluent` (re-exported by
``shipyard``): ``log_feedback``, ``run_monitor``, ``monitor_history``, ``list_alerts``;
``shipyard.monitoring.run_monitor`` is what the scheduler calls for each due monitor.
"""

from __future__ import annotations

from typing import Any


def run_monitor(monitor: Any, **kwargs: Any) -> Any:
    """:func:`shipyard.monitoring.fluent.run_monitor` (imported on first use)."""
    from shipyard.monitoring.fluent import run_monitor as run

    return run(monitor, **kwargs)


__all__ = ["run_monitor"]
