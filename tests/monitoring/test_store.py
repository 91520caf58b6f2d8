"""The monitoring store on SQLite and PostgreSQL: feedback, checks, alerts, retrainings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from shipyard.errors import InvalidArgument, NotFound
from shipyard.monitoring.entities import Delivery
from shipyard.monitoring.sql import SqlMonitoring
from shipyard.serving.predictions import PredictionLog
from shipyard.store import Database


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[SqlMonitoring]:
    root = tmp_path / "predictions"
    with PredictionLog(root) as plog:
        plog.log("m", 1, [{"x": i} for i in range(6)], {"prediction": [0, 1] * 3},
                 [f"id{i}" for i in range(6)], latency_ms=1.0)  # fmt: skip
    db = Database(db_url)
    yield SqlMonitoring(db, root)
    db.dispose()


def test_feedback_round_trip_and_replacement(store: SqlMonitoring) -> None:
    first = store.record_feedback(
        "m", pa.table({"prediction_id": ["id0", "id1", "id1"], "label": [1.5, 0.0, 1.0]})
    )
    assert (first.stored, first.replaced) == (2, 0)  # the last label of id1 wins
    again = store.record_feedback("m", pa.table({"prediction_id": ["id1"], "label": ["yes"]}))
    assert (again.stored, again.replaced) == (1, 1)
    got = store.feedback("m").sort_by("prediction_id").to_pydict()
    assert got["prediction_id"] == ["id0", "id1"]
    assert got["label_text"] == ["1.5", "yes"] and got["label_number"] == [1.5, None]
    with pytest.raises(InvalidArgument, match=r"1 of 2 label\(s\)"):
        store.record_feedback("m", pa.table({"prediction_id": ["id2", "zz"], "label": [1, 1]}))
    assert store.feedback("m").num_rows == 2
    assert store.feedback("other").num_rows == 0
    with pytest.raises(InvalidArgument, match="no labels"):
        store.record_feedback("m", pa.table({"prediction_id": pa.array([], pa.string()),
                                             "label": pa.array([], pa.int64())}))  # fmt: skip


def test_checks_alerts_and_retrainings(store: SqlMonitoring) -> None:
    def check(n: int) -> int:
        return store.record_check(
            monitor="mon", model="m", version=1, status="ok", window=(1, 2), rows=n,
            labelled=0, metrics={"rows": float(n), "roc_auc": float("nan")},
            details={"d": [1.0, float("inf")]}, report="r.html", started_at=n,
        ).id  # fmt: skip

    ids = [check(n) for n in (10, 20, 30)]
    listed = store.list_checks(monitor="mon")
    assert [c.id for c in listed] == ids[::-1]
    assert listed[0].metrics == {"rows": 30.0, "roc_auc": None}  # NaN stored as null
    assert listed[0].details == {"d": [1.0, None]}
    assert [c.id for c in store.list_checks(limit=1)] == [ids[-1]]
    assert store.get_check(ids[0]).rows == 10
    with pytest.raises(NotFound):
        store.get_check(999)
    with pytest.raises(InvalidArgument, match="status"):
        store.record_check(monitor="mon", model="m", version=None, status="weird",
                           window=(None, None), rows=0, labelled=0, metrics={}, details={},
                           report="", started_at=0)  # fmt: skip
    alert = store.record_alert(
        monitor="mon", check_id=ids[0], rule="rows > 5", metric="rows", value=10.0,
        threshold=5.0, state="failed", message="m",
        deliveries=[Delivery("ops", False, 3, "HTTPStatusError: 500")],
    )  # fmt: skip
    assert store.list_alerts(rule="rows > 5") == [alert]
    assert store.list_alerts(monitor="other") == []
    assert store.list_alerts(state="failed", since=alert.created_at) == [alert]
    assert store.list_alerts(state="sent") == []
    assert store.list_alerts(since=alert.created_at + 1) == []
    rec = store.record_retraining(
        monitor="mon", model="m", trigger="alert", outcome="refused", champion=1,
        challenger=2, steps=[{"step": "gated", "reason": "failed"}],
    )  # fmt: skip
    assert store.list_retrainings(model="m") == [rec]
    with pytest.raises(InvalidArgument, match="limit"):
        store.list_alerts(limit=0)
