"""Real models in a temporary store, and real model servers on 127.0.0.1 to call them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import shipyard
from shipyard.registry.entities import ModelVersion
from shipyard.server.testing import serve_in_thread
from shipyard.serving.app import ServeOptions, create_app

READY_TIMEOUT_S = 30.0


@pytest.fixture(scope="session")
def cancer() -> tuple[pd.DataFrame, pd.Series]:
    """The breast-cancer data: 30 float columns, a binary target."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="session")
def cancer_model(cancer: tuple[pd.DataFrame, pd.Series]) -> Pipeline:
    X, y = cancer
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)


@pytest.fixture
def bc(cancer: tuple[pd.DataFrame, pd.Series], cancer_model: Pipeline) -> ModelVersion:
    """``bc/1`` (alias ``champion``): the breast-cancer classifier."""
    X, _ = cancer
    return shipyard.register_model("bc", model=cancer_model, input_example=X, alias="champion")


def plans_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    plan = pd.Categorical(
        rng.choice(["basic", "pro", "team"], n), categories=["basic", "pro", "team"]
    )
    return pd.DataFrame({"plan": plan, "seats": rng.integers(1, 50, n), "used": rng.random(n) * 10})


@pytest.fixture
def plans() -> ModelVersion:
    """``plans/1`` (alias ``champion``): a pipeline over a categorical column."""
    X = plans_frame()
    y = (X["used"] > 5).astype(int)
    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])],
                    remainder="passthrough",
                ),
            ),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    ).fit(X, y)
    return shipyard.register_model("plans", model=pipe, input_example=X, alias="champion")


def register_python(
    name: str, model: Any, example: pd.DataFrame, alias: str = "champion"
) -> ModelVersion:
    """Register a PythonModel instance (saved as code) under ``name`` with ``alias``."""
    return shipyard.register_model(name, model=model, input_example=example, alias=alias)


@contextmanager
def running(refs: Sequence[str], *, wait: bool = True, **options: Any) -> Iterator[httpx.Client]:
    """A real model server for ``refs`` on 127.0.0.1; yields a client (after it is ready)."""
    options.setdefault("log_predictions", False)
    app = create_app(refs, ServeOptions(**options))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        if wait:
            wait_ready(client)
        yield client


def wait_ready(client: httpx.Client, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll ``/health/ready`` until 200. Fails the test with the last answer otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/health/ready")
        if response.status_code == 200:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"model server not ready after {timeout}s: {response.text}")
        time.sleep(0.02)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0.0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


Poll = Callable[[], bool]


def eventually(check: Poll, timeout: float = 10.0) -> bool:
    """True as soon as ``check()`` is, False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()
