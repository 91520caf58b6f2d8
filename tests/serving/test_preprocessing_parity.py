"""Preprocessing cannot skew: a Pipeline(Preprocessor, model) gives the model server exactly the
predictions the same package gives in batch, row by row, NAs and unseen categories included."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import shipyard
from shipyard.data.preprocess import Preprocessor
from shipyard.server.testing import serve_in_thread
from shipyard.serving.app import ServeOptions, create_app
from tests.serving.conftest import wait_ready

CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn"


def test_served_predictions_equal_batch_predictions(tmp_path: Path) -> None:
    df = pd.read_csv(CHURN / "data" / "wa_churn.csv").sample(800, random_state=3)
    y = (df.pop("churn") == "Yes").astype(int)
    model = Pipeline(
        [
            ("prep", Preprocessor.from_yaml(CHURN / "preprocessing.yaml")),
            ("clf", LogisticRegression(max_iter=2000)),
        ]
    ).fit(df, y)
    shipyard.register_model("churn", model=model, input_example=df, alias="champion")
    batch = shipyard.load_model("churn@champion").predict_proba(df)[:, 1]

    rows = df.head(40).copy()
    rows.loc[rows.index[0], "total_charges"] = np.nan  # imputed the same way at the server
    rows.loc[rows.index[1], "payment_method"] = "Bitcoin"  # unseen: all-zero one-hot
    expected = shipyard.load_model("churn@champion").predict_proba(rows)[:, 1]
    assert np.allclose(expected[2:], batch[2:40], rtol=0, atol=1e-12)
    records = rows.astype(object).where(rows.notna(), None).to_dict(orient="records")
    options = ServeOptions(prediction_log_root=str(tmp_path / "log"))
    app = create_app(["churn@champion"], options)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        wait_ready(http)
        one_by_one = [
            http.post("/v1/models/churn/predict", json=[r]).json()["probabilities"][0]["1"]
            for r in records
        ]
        together = http.post("/v1/models/churn/predict", json=records).json()
    served = np.array(one_by_one)
    assert np.allclose(served, expected, rtol=0, atol=1e-12)
    assert np.allclose([p["1"] for p in together["probabilities"]], expected, rtol=0, atol=1e-12)
