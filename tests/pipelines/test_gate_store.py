"""The gate-result store on SQLite and PostgreSQL: record (with the version's tags, in one
transaction), list, get, and refusals that record nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shipyard.errors import InvalidArgument, NotFound
from shipyard.pipelines.gates.entities import Check
from shipyard.pipelines.gates.sql import SqlGates
from shipyard.registry.sql import SqlRegistry
from shipyard.store import Database


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


def _version(db: Database) -> None:
    """``m/1`` and ``m/2``: real packages registered through the SDK on the same database."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import shipyard

    shipyard.configure(tracking_uri=db.url)
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    model = LogisticRegression().fit(frame, [0, 0, 1, 1])
    for _ in range(2):
        shipyard.register_model("m", model=model, input_example=frame)


CHECKS = [
    Check("roc_auc >= champion", "metric", True, "ok", {"candidate": 0.9, "champion": 0.8}),
    Check("latency", "latency", False, "p99 80 ms (budget 50 ms)", {"p99_ms": 80.0}),
]


def test_record_tags_the_version_and_lists(db: Database) -> None:
    _version(db)
    gates = SqlGates(db)
    first = gates.record("m", 2, champion_version=1, passed=False, dataset="d@1",
                         checks=CHECKS, config={"metrics": ["roc_auc >= champion"]})  # fmt: skip
    second = gates.record("m", 2, champion_version=1, passed=True, dataset=None,
                          checks=CHECKS[:1], config={})  # fmt: skip
    assert gates.get(first.id) == first and first.failed == (CHECKS[1],)
    assert [r.id for r in gates.list(model="m")] == [second.id, first.id]
    assert gates.list(model="m", version=1) == [] and len(gates.list(limit=1)) == 1
    tags = SqlRegistry(db).get_version("m", 2).tags
    assert tags["shipyard.gate"] == "passed" and tags["shipyard.gate_id"] == str(second.id)


def test_refusals_record_nothing(db: Database) -> None:
    _version(db)
    gates = SqlGates(db)
    with pytest.raises(NotFound, match="m/7"):
        gates.record("m", 7, champion_version=None, passed=True, dataset=None, checks=CHECKS,
                     config={})  # fmt: skip
    with pytest.raises(InvalidArgument):
        gates.record("m", 1, champion_version=None, passed=True, dataset=None, checks=[],
                     config={})  # fmt: skip
    with pytest.raises(NotFound):
        gates.get(1)
    assert gates.list() == [] and "shipyard.gate" not in SqlRegistry(db).get_version("m", 1).tags
