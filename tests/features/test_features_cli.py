"""``shipyard features …`` in-process through Typer's CliRunner, on a real SQLite store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from tests.features.test_store import DEFINITIONS, T0, _events

runner = CliRunner()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def _setup(tmp_path: Path) -> Path:
    shipyard.ingest_dataset(_events(), name="card_events")
    path = tmp_path / "features.yaml"
    path.write_text(DEFINITIONS)
    return path


def test_apply_list_show_materialize_online_push_training_set(tmp_path: Path) -> None:
    path = _setup(tmp_path)
    assert "created" in invoke("features", "apply", str(path))
    assert "unchanged" in invoke("features", "apply", str(path))
    listed = invoke("features", "list")
    assert "card_stats" in listed and "3 features" in listed and "push only" in listed
    assert '"ttl": "172800s"' in invoke("features", "show", "card_stats")
    out = invoke("features", "materialize")
    assert "card_stats: 3 entities written" in out
    online = invoke(
        "features", "online", "-f", "card_stats:avg_amount", "-e", "card_id=1", "-e", "card_id=9"
    )
    assert "card_stats__status" in online and "missing" in online
    rows = tmp_path / "push.csv"
    rows.write_text(f"card_id,ts,spend_10m\n1,{T0.isoformat()},12.5\n")
    assert "pushed 1 rows" in invoke("features", "push", "card_spend_10m", str(rows))
    entities = tmp_path / "entities.parquet"
    pq.write_table(
        pa.table(
            {
                "card_id": [1, 2],
                "event_timestamp": pa.array(
                    [T0 + timedelta(hours=31)] * 2, pa.timestamp("us", "UTC")
                ),
                "amount": [40.0, 5.0],
            }
        ),
        entities,
    )
    out_file = tmp_path / "train.parquet"
    invoke(
        "features", "training-set", "--entities", str(entities), "-s", "fraud",
        "-o", str(out_file), "--save-as", "fraud_train",
    )  # fmt: skip
    assert pq.read_table(out_file).column("avg_amount").to_pylist() == [20.0, 50.0]
    assert shipyard.get_dataset("fraud_train").num_rows == 2
    assert "online matches offline" in invoke("features", "skew", "card_stats")


def test_errors(tmp_path: Path) -> None:
    path = _setup(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFINITIONS.replace("source: card_events", "source: nope"))
    assert "no dataset 'nope'" in invoke("features", "apply", str(bad), code=1)
    assert "does not exist" in invoke("features", "apply", str(tmp_path / "x.yaml"), code=1)
    assert "no features: section" in invoke("features", "apply", code=1)
    invoke("features", "apply", str(path))
    assert "no view 'nope'" in invoke("features", "show", "nope", code=1)
    assert "key=value" in invoke("features", "online", "-s", "fraud", "-e", "card_id", code=2)
    assert "no view 'nope'" in invoke("features", "skew", "nope", code=1)
    invoke("features", "materialize", "card_stats")
    from shipyard.features import fluent

    fluent.feature_store().online.delete_view("card_stats")  # the online store lost its values
    assert "missing online" in invoke("features", "skew", "card_stats", code=1)
