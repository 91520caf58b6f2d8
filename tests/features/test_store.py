"""The feature store through the SDK on a real local store: apply, training sets, online."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import shipyard
from shipyard.errors import InvalidArgument, NotFound
from shipyard.features import fluent as features

T0 = datetime(2026, 1, 1, tzinfo=UTC)

DEFINITIONS = """
entities:
  card: {join_keys: [card_id]}
views:
  card_stats:
    entities: [card]
    source: card_events
    timestamp: ts
    ttl: 2d
    features: {avg_amount: float64, txn_count: int64, country: string}
  card_spend_10m:
    entities: [card]
    timestamp: ts
    ttl: 10m
    features: {spend_10m: float64}
services:
  fraud:
    features: ["card_stats:avg_amount", "card_stats:txn_count", "card_spend_10m:spend_10m"]
    transforms:
      amount_ratio: "amount / avg_amount"
"""


def _events() -> pa.Table:
    hours = [0, 10, 30, 5, 70]
    return pa.table(
        {
            "card_id": [1, 1, 1, 2, 3],
            "ts": pa.array([T0 + timedelta(hours=h) for h in hours], pa.timestamp("us", "UTC")),
            "avg_amount": [10.0, 12.0, 20.0, 50.0, 7.0],
            "txn_count": [1, 2, 3, 1, 1],
            "country": ["fr", "fr", "de", "us", "fr"],
        }
    )


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    shipyard.ingest_dataset(_events(), name="card_events")
    path = tmp_path / "features.yaml"
    path.write_text(DEFINITIONS)
    result = features.apply_features(path)
    assert {(a.name, a.version, a.status) for a in result} == {
        ("card", 1, "created"),
        ("card_stats", 1, "created"),
        ("card_spend_10m", 1, "created"),
        ("fraud", 1, "created"),
    }
    return path


def test_apply_is_versioned_and_idempotent(applied: Path) -> None:
    again = features.apply_features(applied)
    assert {a.status for a in again} == {"unchanged"}
    applied.write_text(DEFINITIONS.replace("ttl: 2d", "ttl: 3d"))
    changed = {a.name: (a.version, a.status) for a in features.apply_features(applied)}
    assert changed["card_stats"] == (2, "updated") and changed["card"] == (1, "unchanged")
    stored = features._services().features.history("view", "card_stats")
    assert [d.version for d in stored] == [2, 1] and stored[0].spec["ttl"] == "259200s"
    kinds = {d.kind for d in features.list_feature_definitions()}
    assert kinds == {"entity", "view", "service"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("avg_amount: float64", "avg_amount: float64, missing_col: float64"),
            r"no column\(s\) \['missing_col'\]",
        ),
        (("txn_count: int64", "txn_count: string"), "declared string but source"),
        (
            ("entities: [card]\n    source", "entities: [person]\n    source"),
            "unknown entity 'person'",
        ),
        (("source: card_events", "source: nope"), "no dataset 'nope'"),
        (('"card_stats:txn_count"', '"card_stats:nope"'), "has no feature 'nope'"),
        (
            ("timestamp: ts\n    ttl: 2d", "timestamp: country\n    ttl: 2d"),
            "is not a feature",
        ),
        (
            ("txn_count: int64, country: string}", "txn_count: int64}\n    timestamp: country"),
            "not a timestamp or date",
        ),
        (("ttl: 2d", "ttl: soon"), "not a duration"),
        (("amount / avg_amount", "__import__('os')"), "transform 'amount_ratio'"),
    ],
)
def test_bad_definitions_are_refused_and_nothing_is_recorded(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    shipyard.ingest_dataset(_events(), name="card_events")
    path = tmp_path / "bad.yaml"
    path.write_text(DEFINITIONS.replace(*change))
    with pytest.raises(InvalidArgument, match=message):
        features.apply_features(path)
    assert features.list_feature_definitions() == []


def test_training_set_is_point_in_time_correct_and_keeps_every_row(applied: Path) -> None:
    entities = pa.table(
        {
            "card_id": [1, 1, 1, 2, 3, 4],
            "event_timestamp": pa.array(
                [T0 + timedelta(hours=h) for h in (9, 10, 29 + 48, 60, 69, 1)],
                pa.timestamp("us", "UTC"),
            ),
            "amount": [30.0, 24.0, 40.0, 100.0, 14.0, 1.0],
        }
    )
    with shipyard.start_run(experiment="fraud") as run:
        table = features.get_historical_features(entities, "fraud", save_as="fraud_training")
    rows = table.to_pylist()
    # card 1 at 77h: the 30h row is 47h old, inside the 2d TTL; card 2's only row is 55h old;
    # card 3's only row is in its future; card 4 has no history
    assert [r["avg_amount"] for r in rows] == [10.0, 12.0, 20.0, None, None, None]
    assert [r["amount_ratio"] for r in rows][:2] == [3.0, 2.0]
    assert all(r["spend_10m"] is None for r in rows)  # push-only view, nothing pushed yet
    inputs = {i.name: i for i in shipyard.get_run(run.run_id).inputs}
    source = shipyard.get_dataset("card_events")
    assert inputs["card_events"].digest == source.version
    assert inputs["view:card_stats"].source == "features:card_stats@1"
    saved = shipyard.get_dataset("fraud_training")
    assert saved.num_rows == 6 and saved.tags["lineage.card_stats"] == "card_stats@1"


def test_materialize_online_lookup_with_ttl_and_transforms(applied: Path) -> None:
    [result] = features.materialize_features(["card_stats"])
    assert result.rows == 3 and result.state.watermark_us is not None
    now = T0 + timedelta(hours=71)
    online = (
        features.feature_store()
        .get_online_features(
            [
                {"card_id": 1, "amount": 40.0},
                {"card_id": 2, "amount": 1.0},
                {"card_id": 9, "amount": 2.0},
            ],
            "fraud",
            now=now,
        )
        .to_pylist()
    )
    assert [r["card_stats__status"] for r in online] == ["present", "expired", "missing"]
    assert [r["avg_amount"] for r in online] == [20.0, None, None]
    assert online[0]["amount_ratio"] == 2.0
    assert online[0]["card_stats__event_timestamp"] == T0 + timedelta(hours=30)


def test_incremental_materialization_and_push(applied: Path) -> None:
    features.materialize_features()
    newer = _events().slice(0, 1)
    later_ts = T0 + timedelta(hours=80)  # newer than the watermark (70h): event-time incremental
    newer = newer.set_column(1, "ts", pa.array([later_ts], pa.timestamp("us", "UTC")))
    newer = newer.set_column(2, "avg_amount", pa.array([99.0]))
    shipyard.ingest_dataset(pa.concat_tables([_events(), newer]), name="card_events")
    [inc] = features.materialize_features(["card_stats"], incremental=True)
    assert inc.rows == 1
    assert inc.state.watermark_us == int(later_ts.timestamp() * 1_000_000)
    now = T0 + timedelta(hours=81)
    got = features.feature_store().get_online_features(
        [{"card_id": 1}], ["card_stats:avg_amount"], now=now
    )
    assert got.column("avg_amount").to_pylist() == [99.0]

    pushed = features.push_features(
        "card_spend_10m",
        [{"card_id": 1, "ts": now - timedelta(minutes=3), "spend_10m": 250.0}],
    )
    assert pushed == 1
    fresh = features.feature_store().get_online_features(
        [{"card_id": 1}], ["card_spend_10m:spend_10m"], now=now
    )
    assert fresh.column("spend_10m").to_pylist() == [250.0]
    later = features.feature_store().get_online_features(
        [{"card_id": 1}], ["card_spend_10m:spend_10m"], now=now + timedelta(minutes=20)
    )
    assert later.column("card_spend_10m__status").to_pylist() == ["expired"]
    # pushed rows are appended offline too: a training set sees them
    offline = features.get_historical_features(
        pa.table({"card_id": [1], "event_timestamp": pa.array([now], pa.timestamp("us", "UTC"))}),
        ["card_spend_10m:spend_10m"],
    )
    assert offline.column("spend_10m").to_pylist() == [250.0]


def test_skew_reports_every_corrupted_and_dropped_value(applied: Path) -> None:
    rows = 60
    table = pa.table(
        {
            "card_id": list(range(rows)),
            "ts": pa.array([T0] * rows, pa.timestamp("us", "UTC")),
            "avg_amount": [float(i) for i in range(rows)],
            "txn_count": list(range(rows)),
            "country": ["fr"] * rows,
        }
    )
    shipyard.ingest_dataset(table, name="card_events")
    features.materialize_features(["card_stats"])
    assert features.feature_skew("card_stats", sample=rows).ok
    store = features.feature_store()
    corrupted = table.filter(pa.compute.is_in(table.column("card_id"), pa.array([3, 17, 42])))
    corrupted = corrupted.set_column(2, "avg_amount", pa.array([-1.0, -1.0, -1.0]))
    store.online.write(
        "card_stats",
        corrupted,
        keys=("card_id",),
        timestamp="ts",
        features=("avg_amount", "txn_count", "country"),
    )
    store.online.delete_view("card_stats")
    keep = table.filter(
        pa.compute.invert(pa.compute.is_in(table.column("card_id"), pa.array([5, 8])))
    )
    keep = pa.concat_tables(
        [
            keep.filter(
                pa.compute.invert(pa.compute.is_in(keep.column("card_id"), pa.array([3, 17, 42])))
            ),
            corrupted,
        ]
    )
    store.online.write(
        "card_stats",
        keep,
        keys=("card_id",),
        timestamp="ts",
        features=("avg_amount", "txn_count", "country"),
    )
    report = features.feature_skew("card_stats", sample=rows)
    found = {(m.key["card_id"], m.reason) for m in report.mismatches}
    assert found == {
        (3, "value differs"),
        (17, "value differs"),
        (42, "value differs"),
        (5, "missing online"),
        (8, "missing online"),
    }


def test_bad_requests(applied: Path) -> None:
    with pytest.raises(NotFound, match="unknown feature view 'nope'"):
        features.get_historical_features(pa.table({"card_id": [1]}), ["nope:x"])
    with pytest.raises(InvalidArgument, match="event-time column 'event_timestamp'"):
        features.get_historical_features(pa.table({"card_id": [1]}), ["card_stats:avg_amount"])
    with pytest.raises(InvalidArgument, match=r"key column\(s\) \['card_id'\]"):
        features.get_online_features([{"id": 1}], ["card_stats:avg_amount"])
    with pytest.raises(InvalidArgument, match="must look like view:feature"):
        features.get_online_features([{"card_id": 1}], ["card_stats.avg_amount"])
    with pytest.raises(InvalidArgument, match=r"no column\(s\) \['spend_10m'\]"):
        features.push_features("card_spend_10m", [{"card_id": 1, "ts": T0}])
    with pytest.raises(NotFound, match="no service 'nope'"):
        features.get_online_features([{"card_id": 1}], "nope")


PUSH_ONLY = """
entities:
  card: {join_keys: [card_id]}
views:
  seen:
    entities: [card]
    timestamp: ts
    features: {amount: float64, last_login: timestamp}
"""


def test_pushes_of_other_key_types_and_naive_times_stay_one_consistent_view(
    tmp_path: Path,
) -> None:
    """An int32 key after an int64 one, naive feature times after aware ones: training sets,
    materialization and the skew check still work, and feature times are UTC everywhere."""
    path = tmp_path / "push.yaml"
    path.write_text(PUSH_ONLY)
    features.apply_features(path)
    aware = datetime(2025, 12, 31, 8, 0, tzinfo=UTC)
    features.push_features("seen", [{"card_id": 1, "ts": T0, "amount": 1.0, "last_login": aware}])
    features.push_features(
        "seen",
        pa.table(
            {
                "card_id": pa.array([2], pa.int32()),
                "ts": pa.array([T0], pa.timestamp("us", "UTC")),
                "amount": [2.0],
                "last_login": pa.array([datetime(2026, 1, 1, 0, 30)], pa.timestamp("us")),
            }
        ),
    )
    entities = pa.table(
        {
            "card_id": [1, 2],
            "event_timestamp": pa.array([T0 + timedelta(hours=1)] * 2, pa.timestamp("us", "UTC")),
        }
    )
    rows = features.get_historical_features(entities, ["seen:amount", "seen:last_login"])
    assert rows.column("amount").to_pylist() == [1.0, 2.0]
    assert rows.column("last_login").to_pylist() == [aware, datetime(2026, 1, 1, 0, 30, tzinfo=UTC)]
    assert rows.schema.field("last_login").type == pa.timestamp("us", tz="UTC")
    [done] = features.materialize_features(["seen"])
    assert done.rows == 2
    assert features.feature_skew("seen").ok


def test_a_new_services_object_never_gets_the_store_of_one_that_is_gone() -> None:
    """Stores are cached per services object by id(); CPython reuses the id of a collected
    object, so the cache must check the object, not only its id."""
    import dataclasses
    import gc

    from shipyard.tracking.fluent import services

    base = services()
    for _ in range(50):
        old = dataclasses.replace(base)
        key, old_store = id(old), features.feature_store_for(old)
        del old
        gc.collect()
        assert key not in features._stores  # forgotten with its services object
        new = dataclasses.replace(base)  # often at the same address, so with the same id
        assert features.feature_store_for(new) is not old_store
        features.close_feature_store(new)
