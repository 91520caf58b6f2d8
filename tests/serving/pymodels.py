"""Custom models for the serving tests, saved as code by the python flavor (this whole file).

Kept self-contained: the saved copy is imported again on its own by the model server.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shipyard.registry.package import PythonModel


class RiskLabeler(PythonModel):
    """Pre-processing (normalise the plan text, derive a usage ratio), a linear score, and
    post-processing into labels ``high``/``low`` with probabilities keyed by label."""

    def __init__(self, *, weight: float = 2.0, bias: float = -1.0) -> None:
        self.weight = weight
        self.bias = bias

    def _score(self, data: pd.DataFrame) -> np.ndarray[Any, Any]:
        plan = data["plan"].astype(str).str.strip().str.lower()
        ratio = data["used"].to_numpy(dtype=float) / data["seats"].to_numpy(dtype=float)
        bump = np.where(plan == "pro", 0.5, 0.0)
        z = self.weight * ratio + bump + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def predict(self, data: pd.DataFrame) -> pd.Series:
        high = self._score(data) >= 0.5
        return pd.Series(np.where(high, "high", "low"))

    def predict_proba(self, data: pd.DataFrame) -> pd.DataFrame:
        p = self._score(data)
        return pd.DataFrame({"high": p, "low": 1.0 - p})


class Exploding(PythonModel):
    """Raises for any row whose ``x`` is negative (a model bug only some inputs trigger)."""

    def predict(self, data: pd.DataFrame) -> np.ndarray[Any, Any]:
        x = data["x"].to_numpy(dtype=float)
        if (x < 0).any():
            raise ValueError("negative x breaks this model")
        with np.errstate(over="ignore"):  # x near the float64 maximum doubles to inf
            return x * 2.0


class SlowToLoad(PythonModel):
    """Sleeps in ``load_context`` (a big model), then doubles ``x``."""

    def __init__(self, *, delay: float = 1.0) -> None:
        self.delay = delay

    def load_context(self, artifacts: Path) -> None:
        time.sleep(self.delay)

    def predict(self, data: pd.DataFrame) -> np.ndarray[Any, Any]:
        return np.asarray(data["x"].to_numpy(dtype=float) * 2.0)


class BrokenOnLoad(PythonModel):
    """Cannot be loaded: its ``load_context`` raises."""

    def load_context(self, artifacts: Path) -> None:
        raise RuntimeError("the weights file is corrupt")

    def predict(self, data: pd.DataFrame) -> np.ndarray[Any, Any]:
        return np.zeros(len(data))


class Constant(PythonModel):
    """Predicts ``value`` for every row (tells versions apart in promotion tests)."""

    def __init__(self, *, value: float = 1.0) -> None:
        self.value = value

    def predict(self, data: pd.DataFrame) -> np.ndarray[Any, Any]:
        return np.full(len(data), self.value)
