"""Labels matched by entity key and time: a model served behind a feature service logs the
entity keys of each request, and a label belongs to the newest prediction of its entity at or
before the label's time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression

import shipyard
from shipyard.errors import InvalidArgument
from shipyard.server.testing import serve_in_thread
from shipyard.serving.app import ServeOptions, create_app
from shipyard.serving.predictions import read_predictions
from shipyard.tracking.fluent import services
from tests.serving.conftest import wait_ready

FEATURES = """
entities:
  customer: {join_keys: [customer_id]}
views:
  customer_stats:
    entities: [customer]
    source: customer_events
    timestamp: ts
    ttl: 7d
    features: {tenure: float64, monthly: float64}
services:
  churn-fs:
    features: ["customer_stats:tenure", "customer_stats:monthly"]
"""


def _predict(http: httpx.Client, customers: list[int]) -> list[str]:
    answer = http.post(
        "/v1/models/churn/predict", json=[{"customer_id": c, "channel": "web"} for c in customers]
    )
    assert answer.status_code == 200, answer.text
    ids: list[str] = answer.json()["prediction_ids"]
    return ids


def test_labels_by_entity_key_and_time(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    customers = list(range(20))
    events = pa.table(
        {
            "customer_id": customers,
            "ts": pa.array([now - timedelta(hours=1)] * 20, pa.timestamp("us", "UTC")),
            "tenure": [float(1 + 3 * c) for c in customers],
            "monthly": [50.0 + c for c in customers],
        }
    )
    shipyard.ingest_dataset(events, name="customer_events")
    (tmp_path / "features.yaml").write_text(FEATURES)
    shipyard.apply_features(tmp_path / "features.yaml")
    shipyard.materialize_features()
    X = events.select(["tenure", "monthly"]).to_pandas()
    model = LogisticRegression().fit(X, (X["tenure"] < 30).astype(int))
    shipyard.register_model("churn", model=model, input_example=X, alias="champion")

    root = Path(services().settings.home) / "predictions"
    options = ServeOptions(feature_service="churn-fs", prediction_log_root=str(root))
    app = create_app(["churn@champion"], options)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        wait_ready(http)
        first = _predict(http, [1, 2, 3])
        time.sleep(0.05)
        between = datetime.now(UTC)
        time.sleep(0.05)
        second = _predict(http, [1, 2])
    logged = read_predictions(root, "churn")
    assert {"customer_id", "channel", "tenure", "monthly"} <= set(logged.column_names)
    assert sorted(logged.column("customer_id").to_pylist()) == [1, 1, 2, 2, 3]

    late = datetime.now(UTC) + timedelta(minutes=5)
    receipt = shipyard.log_feedback(
        "churn",
        {"customer_id": [1, 3, 2], "ts": [between, late, late], "label": [1, 0, 1]},
        keys=["customer_id"],
    )
    assert receipt.stored == 3
    stored = services().monitoring.feedback("churn").to_pydict()
    matched = dict(zip(stored["prediction_id"], stored["label_text"], strict=True))
    # customer 1 at `between`: its first prediction; 3 and 2 later: their newest ones
    assert matched == {first[0]: "1", first[2]: "0", second[1]: "1"}

    too_early = now - timedelta(days=1)
    with pytest.raises(InvalidArgument, match=r"1 of 2 label\(s\).*customer_id=5 at"):
        shipyard.log_feedback(
            "churn",
            {"customer_id": [1, 5], "ts": [late, too_early], "label": [0, 1]},
            keys=["customer_id"],
        )
    assert services().monitoring.feedback("churn").num_rows == 3  # nothing half-stored
    with pytest.raises(InvalidArgument, match="has no column"):
        shipyard.log_feedback(
            "churn", {"account": [1], "ts": [late], "label": [1]}, keys=["account"]
        )
    with pytest.raises(InvalidArgument, match="must hold times"):
        shipyard.log_feedback(
            "churn", {"customer_id": [1], "ts": ["yesterday"], "label": [1]}, keys=["customer_id"]
        )
    with pytest.raises(InvalidArgument, match="one type of value"):
        shipyard.log_feedback(
            "churn",
            {"customer_id": [1, 2], "ts": [late, "x"], "label": [1, 1]},
            keys=["customer_id"],
        )
    text = shipyard.log_feedback(  # ISO text with an offset is a time too
        "churn", {"customer_id": [2], "ts": [late.isoformat()], "label": [0]}, keys=["customer_id"]
    )
    assert (text.stored, text.replaced) == (1, 1)
