"""Monitors, alerts and feedback storage: an input never logged, dotted monitor names, a
string for columns:, backoff_s, the cool-down past many suppressed alerts, concurrent label
uploads, unmatched entity-key labels and over-long prediction ids."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.linear_model import LinearRegression

import shipyard
from shipyard.client import Services, connect_local
from shipyard.errors import InvalidArgument
from shipyard.monitoring.alerts import AlertPolicy, evaluate
from shipyard.monitoring.entities import FeedbackReceipt
from shipyard.monitoring.feedback import normalize_labels
from shipyard.monitoring.monitors import Monitor, Window
from shipyard.monitoring.sql import SqlMonitoring
from shipyard.serving.predictions import PredictionLog, default_root
from shipyard.store import Database
from shipyard.tracking.fluent import services
from tests.server.conftest import store_settings

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _regression_model(n: int = 200) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    y = 3 * x["x"].to_numpy() + rng.normal(scale=0.5, size=n)
    shipyard.ingest_dataset(x.assign(y=y), name="reg-data")
    model = LinearRegression().fit(x, y)
    shipyard.register_model("reg", model=model, input_example=x, alias="champion")
    return x, y, model.predict(x)


def test_an_input_null_in_the_whole_window_is_skipped_not_fatal() -> None:
    x, y, predicted = _regression_model()
    rows = [{"x": r["x"], "z": None} for r in x.to_dict("records")]  # z never logged
    ids = [f"r{i}" for i in range(len(rows))]
    with PredictionLog(default_root(services().settings)) as plog:
        plog.log("reg", 1, rows, {"prediction": predicted}, ids, latency_ms=1.5, ts=T0)
    shipyard.log_feedback("reg", {"prediction_id": ids, "label": y.tolist()})
    monitor = Monitor("reg-live", "reg@champion", Window(rows=200), reference="reg-data")
    out = shipyard.run_monitor(monitor, now=T0 + dt.timedelta(minutes=1))
    by_name = {c["column"]: c for c in out.check.details["drift"]["columns"]}
    assert by_name["z"]["skipped"] == "every value of 'z' is null in the current data"
    assert out.metrics["drift_share"] == 0.0 and out.metrics["labelled"] == 200
    assert out.metrics["mae"] is not None and out.metrics["mae"] < 1.0
    assert len(shipyard.monitor_history("reg-live")) == 1


def test_monitor_names_with_a_dot_keep_every_report() -> None:
    x, _, predicted = _regression_model(30)
    with PredictionLog(default_root(services().settings)) as plog:
        plog.log("reg", 1, x.to_dict("records"), {"prediction": predicted},
                 [f"r{i}" for i in range(30)], latency_ms=1.0, ts=T0)  # fmt: skip
    monitor = Monitor("reg.live", "reg@champion", Window(rows=30), drift=False)
    first = shipyard.run_monitor(monitor, now=T0 + dt.timedelta(minutes=1))
    second = shipyard.run_monitor(monitor, now=T0 + dt.timedelta(minutes=2))
    assert first.check.report != second.check.report
    folder = Path(first.check.report).parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "reg.live-20260301T120100000000.html",
        "reg.live-20260301T120100000000.json",
        "reg.live-20260301T120200000000.html",
        "reg.live-20260301T120200000000.json",
    ]


def test_columns_given_as_one_string_is_one_column() -> None:
    data = {"model": "m@champion", "window": {"rows": 10}, "columns": "tenure"}
    assert Monitor.from_dict("m-live", data).columns == ("tenure",)
    assert Monitor("m-live", "m@champion", columns="tenure").columns == ("tenure",)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="columns must be a list"):
        Monitor.from_dict("m-live", {**data, "columns": 3})


@pytest.mark.parametrize("bad", [-1, -0.5, "soon", True, float("nan")])
def test_backoff_must_be_a_number_of_seconds_at_least_zero(bad: object) -> None:
    with pytest.raises(InvalidArgument, match="backoff_s must be a number of seconds >= 0"):
        AlertPolicy.from_dict({"rules": ["rows > 1"], "backoff_s": bad})
    assert AlertPolicy.from_dict({"backoff_s": 0}).backoff_s == 0.0


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Services]:
    svc = connect_local(store_settings(tmp_path / "store"))
    yield svc
    svc.close()


def test_cooldown_holds_past_many_suppressed_alerts(local: Services) -> None:
    policy = AlertPolicy.from_dict({"rules": ["rows > 0"], "channels": ["log"], "cooldown": "1h"})
    states = []
    for _ in range(45):
        check = local.monitoring.record_check(
            monitor="mon", model="m", version=1, status="alert", window=(None, None), rows=5,
            labelled=0, metrics={"rows": 5.0}, details={}, report="",
            started_at=int(time.time() * 1000),
        )  # fmt: skip
        states.append(evaluate(local.monitoring, policy, check)[0].state)
    assert states == ["sent"] + ["suppressed"] * 44


@pytest.fixture
def feedback_store(db_url: str, tmp_path: Path) -> Iterator[tuple[SqlMonitoring, str, Path]]:
    root = tmp_path / "predictions"
    with PredictionLog(root) as plog:
        plog.log("m", 1, [{"customer_id": i, "x": float(i)} for i in range(4)],
                 {"prediction": [0, 1, 0, 1]}, [f"id{i}" for i in range(4)], latency_ms=1.0,
                 ts=T0)  # fmt: skip
    db = Database(db_url)
    yield SqlMonitoring(db, root), db_url, root
    db.dispose()


def _upload_at_once(url: str, root: Path, ids: list[str]) -> list[FeedbackReceipt]:
    """Two stores (two connection pools) upload labels for the same ids at the same moment."""
    dbs = [Database(url), Database(url)]
    stores = [SqlMonitoring(d, root) for d in dbs]
    for s in stores:  # connect first: two SQLite connections opening at once can collide on
        s.feedback("race")  # PRAGMA journal_mode, a separate matter
    barrier = threading.Barrier(2)
    receipts: list[FeedbackReceipt] = []
    errors: list[Exception] = []

    def upload(s: SqlMonitoring, label: int) -> None:
        barrier.wait()
        try:
            table = pa.table({"prediction_id": ids, "label": [label] * len(ids)})
            receipts.append(s.record_feedback("race", table))
        except Exception as exc:  # the test asserts there is none
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(s, k)) for k, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for d in dbs:
        d.dispose()
    assert errors == []
    return receipts


def test_concurrent_uploads_of_the_same_ids_both_land(
    feedback_store: tuple[SqlMonitoring, str, Path],
) -> None:
    store, url, root = feedback_store
    n = 2_000
    ids = [f"r{i}" for i in range(n)]
    with PredictionLog(root) as plog:
        plog.log("race", 1, [{"x": 1.0}] * n, {"prediction": [0] * n}, ids, latency_ms=1.0)
    for _trial in range(3):
        receipts = _upload_at_once(url, root, ids)
        assert store.feedback("race").num_rows == n
        assert sorted(r.stored for r in receipts) == [n, n]
        assert sum(r.replaced for r in receipts) >= n  # the later one replaced the earlier


def test_unmatched_entity_labels_are_reported(
    feedback_store: tuple[SqlMonitoring, str, Path],
) -> None:
    store = feedback_store[0]
    labels = normalize_labels(
        {"customer_id": [0, 1, 99], "ts": ["2026-03-01T13:00"] * 3, "label": [1, 1, 0]},
        keys=["customer_id"],
    )
    receipt = store.record_feedback("m", labels, keys=["customer_id"], allow_unknown=True)
    assert (receipt.stored, receipt.replaced, receipt.unmatched) == (2, 0, 1)


def test_prediction_ids_longer_than_64_characters_are_refused(
    feedback_store: tuple[SqlMonitoring, str, Path],
) -> None:
    store = feedback_store[0]
    long_id = "x" * 80
    with pytest.raises(InvalidArgument, match=r"1 'prediction_id' value\(s\) are longer than 64"):
        store.record_feedback(
            "m", pa.table({"prediction_id": [long_id, "id0"], "label": [1, 0]}),
            allow_unknown=True,
        )  # fmt: skip
    assert store.feedback("m").num_rows == 0
    with pytest.raises(InvalidArgument, match=r"'id' value\(s\) are longer than 64.*xxxx"):
        normalize_labels({"id": [long_id], "label": [1]}, id_column="id")
    assert normalize_labels({"id": ["y" * 64], "label": [1]}, id_column="id").num_rows == 1
