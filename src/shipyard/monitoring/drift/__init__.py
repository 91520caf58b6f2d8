"""Drift: is the current data distributed like the reference? Per column and for the dataset.

>>> import pandas as pd
>>> from shipyard.monitoring.drift import compute_drift
>>> ref = pd.DataFrame({"x": [float(i % 10) for i in range(200)]})
>>> compute_drift(ref, ref.assign(x=ref.x + 5)).dataset_drift
True
"""

from shipyard.monitoring.drift.config import DEFAULT_THRESHOLDS, TESTS, ColumnConfig, DriftConfig
from shipyard.monitoring.drift.engine import compute_drift
from shipyard.monitoring.drift.entities import ColumnDrift, Distribution, DriftReport
from shipyard.monitoring.drift.inputs import ParquetColumns

__all__ = [
    "DEFAULT_THRESHOLDS",
    "TESTS",
    "ColumnConfig",
    "ColumnDrift",
    "Distribution",
    "DriftConfig",
    "DriftReport",
    "ParquetColumns",
    "compute_drift",
]
