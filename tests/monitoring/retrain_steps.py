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
