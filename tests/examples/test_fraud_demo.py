"""The fraud example on 5,000 synthetic transactions, end to end, so it cannot rot; and its
generator's documented promises (seeded, imbalanced, time-ordered, fraud in bursts)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pyarrow.compute as pc
import pytest

import shipyard
from shipyard.serving.predictions import read_predictions

FOLDER = Path(__file__).parents[2] / "examples" / "fraud"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"fraud_example_{name}", FOLDER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_fraud_example_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    assert load("fraud").main(["--transactions", "5000"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "5,000 transactions on 125 cards" in out and "35 fraudulent (0.70%)" in out
    assert "registered fraud/1 as fraud@champion" in out and "pushed a burst" in out

    [run_id] = shipyard.search_runs("fraud")["run_id"]
    metrics = shipyard.get_run(run_id).metrics
    assert metrics["pr_auc"] > 5 * metrics["base_rate"]  # far better than guessing
    training = shipyard.get_dataset("fraud_training")
    assert training.num_rows == 5000
    assert training.tags["lineage.card_spend_10m"] == "card_spend_10m@1"
    [deployment] = shipyard.list_deployments()
    assert (deployment.ref, deployment.feature_service) == ("fraud@champion", "fraud")

    # the server looked the features up: the log keeps each request's full vector
    home = Path(shipyard.load_settings().home)
    logged = read_predictions(home / "predictions", "fraud").to_pandas()
    usual, bigger, burst, unknown = (logged.iloc[i] for i in range(4))
    assert len(logged) == 4 and (logged["status"] == "ok").all()
    assert usual["amount_ratio"] == pytest.approx(1.0, abs=0.01)
    assert burst["spend_10m"] > 0 and burst["new_category"] == 1 and burst["is_night"] == 1
    assert usual["spend_10m"] != usual["spend_10m"]  # no push for that card: expired, null
    assert unknown["avg_amount"] != unknown["avg_amount"]  # a card the store never saw
    assert burst["proba_1"] > 0.5 > usual["proba_1"] and burst["proba_1"] > bigger["proba_1"]


def test_the_generator_is_seeded_imbalanced_and_recent() -> None:
    data = load("data")
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    first = data.generate(2000, seed=3, now=now)
    again = data.generate(2000, seed=3, now=now)
    assert first.transactions.equals(again.transactions) and first.cards.equals(again.cards)
    txns = first.transactions
    assert txns.num_rows == 2000 and pc.sum(txns.column("is_fraud")).as_py() == 14
    ts = txns.column("ts")
    assert pc.all(pc.greater_equal(ts.chunk(0)[1:], ts.chunk(0)[:-1])).as_py()  # time-ordered
    assert pc.max(ts).as_py() <= now - timedelta(hours=1)
    assert pc.min(ts).as_py() >= now - timedelta(days=61)
    frame = txns.to_pandas()
    assert (frame["ts"].dt.hour == frame["hour"]).all()
    fraud = frame[frame["is_fraud"] == 1]
    assert fraud["amount"].median() > 2 * frame["amount"].median()
    assert set(frame["card_id"]) <= set(first.cards.column("card_id").to_pylist())


@pytest.mark.parametrize(
    ("n", "rate", "needle"), [(50, 0.007, "at least 100"), (1000, 0.5, "fraud_rate")]
)
def test_the_generator_refuses_unusable_sizes(n: int, rate: float, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        load("data").generate(n, fraud_rate=rate)
