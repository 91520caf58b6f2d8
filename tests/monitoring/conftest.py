"""A churn-like model trained on a stored dataset (lineage), served by a real model server
whose prediction log monitoring reads; a real HTTP receiver for webhooks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import shipyard
from shipyard.registry.entities import ModelVersion
from tests.serving.conftest import running

FEATURES = ["tenure", "monthly", "contract"]


def churn_frame(n: int, *, seed: int = 0, shift: bool = False) -> pd.DataFrame:
    """Customers with a churn label; ``shift`` raises prices and moves contracts to monthly
    and changes who churns (the model's rule no longer holds)."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, n).astype(float)
    monthly = rng.normal(65.0, 15.0, n) + (30.0 if shift else 0.0)
    p_month = 0.85 if shift else 0.4
    contract = rng.choice(
        ["month", "year", "two_year"], n, p=[p_month, (1 - p_month) / 2, (1 - p_month) / 2]
    )
    score = 1.5 * (contract == "month") - 0.05 * tenure + 0.03 * (monthly - 65.0)
    if shift:  # after the price rise the loyal long-tenure customers leave too
        score = 0.04 * tenure - 1.5 * (contract == "month") - 0.5
    churn = (score + rng.normal(0, 0.5, n) > 0).astype(int)
    return pd.DataFrame(
        {"customer_id": np.arange(n), "tenure": tenure, "monthly": monthly,
         "contract": contract, "churn": churn}
    )  # fmt: skip


def make_model() -> Pipeline:
    prep = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["contract"]),
            ("num", StandardScaler(), ["tenure", "monthly"]),
        ]
    )
    return Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=1000))])


@pytest.fixture
def churn_model() -> ModelVersion:
    """``churn/1`` (alias champion), trained on dataset ``churn-data`` inside a run."""
    return churn_model_on()


def churn_model_on(seed: int = 1, *, shift: bool = False, alias: str = "champion") -> ModelVersion:
    """Train and register the next ``churn`` version on a new ``churn-data`` version, in the
    store the SDK is configured for."""
    frame = churn_frame(2000, seed=seed, shift=shift)
    shipyard.ingest_dataset(frame, name="churn-data")
    with shipyard.start_run(experiment="churn"):
        table = shipyard.load_dataset("churn-data").to_pandas()
        model = make_model().fit(table[FEATURES], table["churn"])
        shipyard.log_model(model, "model", input_example=table[FEATURES].head(20))
        run = shipyard.active_run()
        assert run is not None
        return shipyard.register_model("churn", run_id=run.run_id, alias=alias)


def serve_predictions(
    frame: pd.DataFrame,
    ref: str = "churn@champion",
    *,
    batch: int = 200,
    columns: Sequence[str] = FEATURES,
    **options: Any,
) -> list[str]:
    """Send ``frame``'s ``columns`` to a real model server with the prediction log on; return
    the prediction ids in row order (the log is flushed when the server stops)."""
    ids: list[str] = []
    with running([ref], log_predictions=True, **options) as client:
        for start in range(0, len(frame), batch):
            part = frame.iloc[start : start + batch][list(columns)]
            answer = client.post(
                "/v1/models/churn/predict", json={"dataframe_records": part.to_dict("records")}
            )
            assert answer.status_code == 200, answer.text
            ids.extend(answer.json()["prediction_ids"])
    return ids


@dataclass
class Receiver:
    """A local HTTP server that records JSON bodies; ``fail`` answers 500, ``delay_s`` stalls."""

    url: str
    bodies: list[Any] = field(default_factory=list)
    hits: int = 0
    fail: bool = False
    delay_s: float = 0.0


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    receiver = Receiver(url="")
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver.hits += 1
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if receiver.delay_s:
                stop.wait(receiver.delay_s)
            status = 500 if receiver.fail else 200
            if not receiver.fail:
                receiver.bodies.append(json.loads(body))
            try:
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")
            except OSError:
                pass  # the client gave up (timeout)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def labels_for(ids: Sequence[str], frame: pd.DataFrame) -> dict[str, list[Any]]:
    return {"prediction_id": list(ids), "label": frame["churn"].tolist()}


def post_json(url: str, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, timeout=30)
