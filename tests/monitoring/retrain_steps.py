"""The training step the retraining tests' pipeline calls (importable by worker processes)."""

from __future__ import annotations

import shipyard
from tests.monitoring.conftest import FEATURES, churn_frame, make_model


def train_churn(seed: int = 11, shift: bool = True, worse: bool = False) -> str:
    """Train ``churn`` on fresh (shifted) data and register it; ``worse`` learns the labels
    upside down, a deliberately bad challenger."""
    frame = churn_frame(2000, seed=seed, shift=shift)
    y = 1 - frame["churn"] if worse else frame["churn"]
    model = make_model().fit(frame[FEATURES], y)
    mv = shipyard.register_model("churn", model=model, input_example=frame[FEATURES].head(20))
    return f"{mv.name}/{mv.version}"


class _Broken(shipyard.PythonModel):
    """A challenger whose code raises a plain exception when it predicts."""

    def predict(self, data: object) -> object:
        raise ZeroDivisionError("the challenger divides by zero")


def register_broken() -> str:
    """Register a ``churn`` version that raises in ``predict`` (a bug in the user's code)."""
    frame = churn_frame(50, seed=5, shift=True)
    mv = shipyard.register_model("churn", model=_Broken(), input_example=frame[FEATURES].head(5))
    return f"{mv.name}/{mv.version}"
