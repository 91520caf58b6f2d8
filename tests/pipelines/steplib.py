"""Step functions the pipeline tests run (importable by worker processes)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import shipyard
from shipyard.pipelines import step


@step(outputs="numbers")
def make_numbers(n: int = 5) -> list[int]:
    return list(range(n))


@step(outputs={"total": "value", "metrics": "metrics"})
def total(numbers: list[int], scale: float = 1.0) -> dict[str, Any]:
    shipyard.log_param("scale", scale)
    s = sum(numbers) * scale
    return {"total": s, "metrics": {"total": s}}


@step(outputs="report")
def report(total: float) -> str:
    return f"total={total}"


def add(a: int, b: int = 0) -> int:
    return a + b


def flaky(marker: str, fail_times: int = 1) -> str:
    """Fails ``fail_times`` times (counted in a file), then succeeds."""
    path = Path(marker)
    seen = int(path.read_text()) if path.exists() else 0
    path.write_text(str(seen + 1))
    if seen < fail_times:
        raise RuntimeError(f"flaky failure #{seen + 1}")
    return "ok"


def die_once(marker: str) -> str:
    """Kills its own worker process the first time (SIGKILL, as the OOM killer would)."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


def die_always() -> str:
    os.kill(os.getpid(), signal.SIGKILL)
    return "unreachable"


def sleepy(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def boom(numbers: list[int]) -> int:
    raise ValueError("boom: bad numbers")


def trivial(i: int = 0, x: Any = None) -> int:
    return i


def curve_trial(params: dict[str, Any], report: Any, train: Any = None) -> float:
    """A trial whose reports climb to ``quality``: bad qualities are visibly bad early."""
    q = float(params["quality"])
    for i in range(5):
        report(i, q * (i + 1) / 5)
    return q


def trivial_trial(params: dict[str, Any], report: Any, train: Any = None) -> float:
    return float(params["x"])


def make_table(n: int = 400, seed: int = 0) -> Any:
    """A seeded classification table (returned as a DataFrame: the runner stores it)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["label"] = np.where(frame["a"] + 0.5 * frame["b"] > 0, "yes", "no")
    return frame
