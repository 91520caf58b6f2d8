"""A model served with a feature service: requests carry entity keys, the server looks the
features up online, predicts on exactly the vector a training set would give, and logs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
from sklearn.ensemble import HistGradientBoostingClassifier

import shipyard
from shipyard.server.testing import serve_in_thread
from shipyard.serving.app import ServeOptions, create_app
from shipyard.serving.predictions import read_predictions
from tests.serving.conftest import wait_ready

FEATURES = """
entities:
  card: {join_keys: [card_id]}
views:
  card_stats:
    entities: [card]
    source: card_events
    timestamp: ts
    ttl: 7d
    features: {avg_amount: float64, txn_count: int64}
services:
  fraud:
    features: ["card_stats:avg_amount", "card_stats:txn_count"]
    transforms:
      amount_ratio: "amount / avg_amount"
"""
COLUMNS = ["amount", "avg_amount", "txn_count", "amount_ratio"]


def test_requests_with_entity_keys_get_features_looked_up(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    cards = list(range(40))
    events = pa.table(
        {
            "card_id": cards,
            "ts": pa.array([now - timedelta(hours=1)] * 40, pa.timestamp("us", "UTC")),
            "avg_amount": [10.0 + i for i in cards],
            "txn_count": [i % 7 for i in cards],
        }
    )
    shipyard.ingest_dataset(events, name="card_events")
    (tmp_path / "features.yaml").write_text(FEATURES)
    shipyard.apply_features(tmp_path / "features.yaml")
    shipyard.materialize_features()

    entities = pa.table(
        {
            "card_id": cards,
            "event_timestamp": pa.array([now] * 40, pa.timestamp("us", "UTC")),
            "amount": [float(5 * i % 90) for i in cards],
        }
    )
    train = shipyard.get_historical_features(entities, "fraud").to_pandas()
    X = train[COLUMNS]
    y = (X["amount_ratio"] > 1.5).astype(int)
    model = HistGradientBoostingClassifier(max_iter=20).fit(X, y)
    shipyard.register_model("fraud", model=model, input_example=X, alias="champion")

    log_root = tmp_path / "predictions"
    options = ServeOptions(feature_service="fraud", prediction_log_root=str(log_root))
    app = create_app(["fraud@champion"], options)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        wait_ready(http)
        request = [{"card_id": 3, "amount": 40.0}, {"card_id": 30, "amount": 20.0}]
        answer = http.post("/v1/models/fraud/predict", json=request)
        assert answer.status_code == 200, answer.text
        online = shipyard.get_online_features(request, "fraud").to_pandas()
        assert answer.json()["predictions"] == model.predict(online[COLUMNS]).tolist()
        bad = http.post("/v1/models/fraud/predict", json=[{"amount": 1.0}])
        assert bad.status_code == 400 and "card_id" in bad.text
    logged = read_predictions(log_root, "fraud").to_pandas()
    assert sorted(logged["avg_amount"].tolist()) == [13.0, 40.0]  # the looked-up vector is kept
