"""Rebuild ``data/shipyard-0001.db``: a database at the first migration, with rows in every table.

Kept in the repository so the upgrade test runs on a file made by an old version, not on one the
current code makes. Run only when the fixture needs to change:
``python tests/store/make_fixture_db.py``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from shipyard.store.migrate import upgrade

ROWS = {
    "experiments": [
        "(1, 'Default', 1700000000000, 1700000000000, NULL)",
        "(2, 'churn', 1700000000001, 1700000000001, NULL)",
    ],
    "experiment_tags": ["(2, 'team', 'growth')"],
    "runs": [
        "('a' || printf('%031d', 1), 2, 'rf', 'FINISHED', NULL, 'ana', 1700000001000, "
        "1700000002000, 1700000002000, NULL)",
        "('b' || printf('%031d', 2), 2, 'gbm', 'FAILED', NULL, 'ana', 1700000003000, "
        "1700000004000, 1700000004000, NULL)",
    ],
    "params": ["('a' || printf('%031d', 1), 'n_estimators', '200')"],
    "tags": ["('a' || printf('%031d', 1), 'shipyard.git.commit', 'abc123')"],
    "metrics": [
        "(1, 'a' || printf('%031d', 1), 'auc', 0.84, 0, 1700000001500)",
        "(2, 'a' || printf('%031d', 1), 'auc', NULL, 1, 1700000001600)",
    ],
    "latest_metrics": ["('a' || printf('%031d', 1), 'auc', NULL, 1, 1700000001600)"],
    "run_inputs": [
        "('a' || printf('%031d', 1), 'wa_churn', 'ff', 'churn.csv', 'training', 7043, NULL, "
        "1700000001000)"
    ],
    "artifacts": [
        "('run:' || 'a' || printf('%031d', 1), 'model/model.skops', "
        "'00' || printf('%062d', 7), 42, 1700000001700)"
    ],
}


def build(path: Path) -> None:
    path.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine, "0001")
    with engine.begin() as conn:
        for table, rows in ROWS.items():
            for row in rows:
                conn.execute(text(f"INSERT INTO {table} VALUES {row}"))
    engine.dispose()


if __name__ == "__main__":
    build(Path(__file__).with_name("data") / "shipyard-0001.db")
