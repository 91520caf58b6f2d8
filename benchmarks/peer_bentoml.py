"""BentoML's side of ``bench_model_server.py``: the service ``bentoml serve`` runs.

Run with the BentoML peer venv (``benchmarks/.peers/bentoml``, see ``peers.py``)::

    BENCH_BC_MODEL=/tmp/x/bc.joblib bentoml serve peer_bentoml:BreastCancer --working-dir benchmarks

``BENCH_BC_MODEL`` is what the benchmark's ``prepare_bentoml`` worker saved with joblib:
``{"model": LogisticRegression, "columns": [30 names]}``, the model fit (with this venv's
scikit-learn) on the NumPy array of the data, so predicting on an array raises no
feature-name warning. One worker (``workers=1``), as on every
side. Two APIs, so the figure can use BentoML's fastest input form:

- ``POST /predict`` ``{"rows": [[30 floats], ...]}``: a NumPy array (BentoML validates it with
  its pydantic-based IO descriptors and builds the array); returns the labels. The figure uses
  this one by default: the two forms measured the same within noise, and this one does the
  least work per row (see benchmarks/README.md).
- ``POST /predict_records`` ``{"records": [{"mean radius": …, …}, ...]}``: named fields as a
  list of dicts, turned into an array in the training column order.

This module is imported only by BentoML's server process, never by the benchmark itself.
"""

from __future__ import annotations

import os

import bentoml
import joblib
import numpy as np


@bentoml.service(workers=1)
class BreastCancer:
    """The breast-cancer LogisticRegression, loaded once per worker."""

    def __init__(self) -> None:
        saved = joblib.load(os.environ["BENCH_BC_MODEL"])
        self.model = saved["model"]
        self.columns: list[str] = saved["columns"]

    @bentoml.api
    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Labels for rows of the 30 features, in the training column order."""
        return np.asarray(self.model.predict(np.asarray(rows, dtype=np.float64)))

    @bentoml.api
    def predict_records(self, records: list[dict[str, float]]) -> list[int]:
        """Labels for named rows."""
        values = np.array([[r[c] for c in self.columns] for r in records], dtype=np.float64)
        return [int(v) for v in self.model.predict(values)]
