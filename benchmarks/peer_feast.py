"""Feast's side of the feature store figures, run by the Feast venv's interpreter (``peers.py``).

Every worker builds a throw-away Feast repository in its own temp folder:
``feature_store.yaml`` with ``provider: local``, the SQLite online store
(``<repo>/online.db``), the registry in ``<repo>/registry.db`` and the offline store asked for
(``file``, which Feast runs on Dask, or ``duckdb``, through ibis); one ``Entity`` (one int64 join
key) and one ``FeatureView`` over a ``FileSource`` on the figure's Parquet file, with float64
``Field``\\ s and the figure's TTL, registered with ``FeatureStore.apply``. Nothing here is
timed but the call the figure names:

- ``historical``: ``get_historical_features(entity_df, refs).to_df()``
  (``bench_historical_features``);
- ``materialize``: ``FeatureStore.materialize(start, end)`` into SQLite (``bench_materialize``);
- ``online``: ``get_online_features(refs, entity_rows).to_dict()`` after a materialize
  (``bench_online_lookup``).

Each reports the same fields as Shipyard's worker of that figure, checks its own result, and
records what Feast gets wrong instead of failing on it (entity rows the file offline store drops).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _harness as h

# Feast's import chain warns (pandas/ibis deprecations); the figures are not about that.
warnings.filterwarnings("ignore")
DISTRIBUTIONS = ("feast", "pandas", "pyarrow", "numpy", "dask", "duckdb", "ibis-framework")


def versions() -> dict[str, str | None]:
    """Installed versions of Feast and what it computes with."""
    found: dict[str, str | None] = {}
    for dist in DISTRIBUTIONS:
        try:
            found[dist] = md.version(dist)
        except md.PackageNotFoundError:
            found[dist] = None
    return found


@dataclass(frozen=True)
class View:
    """What the Feast repo declares: one entity with one int64 key, one view over a file."""

    source: Path
    key: str
    timestamp: str
    features: tuple[str, ...]
    ttl: dt.timedelta
    name: str = "user_stats"
    entity: str = "user"

    @property
    def refs(self) -> list[str]:
        return [f"{self.name}:{f}" for f in self.features]


FEATURE_STORE_YAML = """\
project: bench
registry: {repo}/registry.db
provider: local
online_store:
  type: sqlite
  path: {repo}/online.db
offline_store:
  type: {offline}
entity_key_serialization_version: 3
"""


def open_store(view: View, *, offline: str = "file", repo: Path | None = None) -> Any:
    """A Feast ``FeatureStore`` in a fresh repo (``repo`` or a new temp folder) with ``view``
    applied; ``offline`` is the offline store type (``file`` or ``duckdb``)."""
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64

    repo = repo or Path(tempfile.mkdtemp(prefix="feast-repo-", dir=os.getcwd()))
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "feature_store.yaml").write_text(FEATURE_STORE_YAML.format(repo=repo, offline=offline))
    entity = Entity(name=view.entity, join_keys=[view.key], value_type=ValueType.INT64)
    feature_view = FeatureView(
        name=view.name,
        entities=[entity],
        ttl=view.ttl,
        schema=[Field(name=f, dtype=Float64) for f in view.features],
        source=FileSource(path=str(view.source), timestamp_field=view.timestamp),
        online=True,
    )
    store = FeatureStore(repo_path=str(repo))
    store.apply([entity, feature_view])
    return store


# -- historical retrieval (bench_historical_features) --------------------------------------------


def historical(args: h.Json) -> h.Json:
    """``get_historical_features(...).to_df()`` on ``raw.parquet`` (ingestion order, as a user
    would point a FileSource at it) with the offline store ``args["offline"]``.

    The entity frame is ``entities.parquet`` as pandas plus a row number ``rid``, so the result
    can be put back into entity order (untimed) for the digest; rows Feast does not return are
    nulls there, and counted in ``returned_rows``/``dropped_rows``.
    """
    import bench_historical_features as bh

    folder = Path(args["folder"])
    view = View(folder / "raw.parquet", "user_id", "event_timestamp", bh.FEATURES,
                dt.timedelta(days=bh.TTL_DAYS))  # fmt: skip
    store = open_store(view, offline=args["offline"])
    frame = bh.entity_frame(args["folder"])
    refs = view.refs

    def run() -> Any:
        return store.get_historical_features(entity_df=frame, features=refs).to_df()

    first, first_memory, times, out, memory = bh.cold_and_warm(run, args["reps"])
    returned = len(out)
    table = _in_entity_order(out, len(frame), bh.FEATURES)
    del out
    result = bh._result(times, first, memory, table, entity_rows=len(frame),
                        versions=versions(), offline_store=args["offline"])  # fmt: skip
    result.update(
        first_memory=first_memory,
        returned_rows=returned,
        dropped_rows=len(frame) - returned,
        entity_input="pandas DataFrame (user_id, event_timestamp, rid)",
        output="pandas DataFrame (to_df)",
        entity_timestamp_dtype=str(frame["event_timestamp"].dtype),
    )
    return result


def _in_entity_order(frame: Any, rows: int, features: tuple[str, ...]) -> Any:
    """Feast's result as an Arrow table with one row per entity row, in entity order (by
    ``rid``), nulls for rows it did not return. Raises (fails the worker) on duplicate rows."""
    import numpy as np
    import pyarrow as pa

    rid = frame["rid"].to_numpy()
    if len(np.unique(rid)) != len(rid):
        h.fail(f"Feast returned {len(rid) - len(np.unique(rid))} entity rows more than once")
    columns: dict[str, Any] = {}
    for name in features:
        values = np.full(rows, np.nan)
        values[rid] = frame[name].to_numpy(dtype=float, na_value=np.nan)
        present = np.zeros(rows, dtype=bool)
        present[rid] = ~np.isnan(values[rid])
        columns[name] = pa.array(values, mask=~present)
    return pa.table(columns)


# -- materialization (bench_materialize) ---------------------------------------------------------


def materialize(args: h.Json) -> h.Json:
    """``materialize(start, end)`` of ``raw.parquet`` into a fresh SQLite online store, then a
    check (untimed) that every user is there with its latest values."""
    import bench_historical_features as bh
    import bench_materialize as bm

    folder = Path(args["folder"])
    view = View(folder / "raw.parquet", "user_id", "event_timestamp", bh.FEATURES,
                dt.timedelta(days=bh.TTL_DAYS))  # fmt: skip
    store = open_store(view)
    start, end = bm.window()
    seconds, memory = bm.measure_once(lambda: store.materialize(start, end))
    expected = bm.expected_latest(folder, args["check"])
    keys = expected.column("user_id").to_pylist()
    got = store.get_online_features(features=view.refs, entity_rows=[{"user_id": k} for k in keys])
    values = got.to_dict()
    stored = _online_rows(store)
    bm.check_values(values, expected, stored, args["users"], what="Feast's online store")
    return {
        "value": seconds,
        **memory,
        "entities_stored": stored,
        "checked": len(keys),
        "window": [start.isoformat(), end.isoformat()],
        "versions": versions(),
    }


def _online_rows(store: Any) -> int:
    """Distinct entities in Feast's SQLite online table (it stores one row per feature)."""
    import sqlite3

    path = Path(store.config.online_store.path)
    with sqlite3.connect(path) as con:
        (table,) = con.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchone()
        (count,) = con.execute(f'SELECT count(DISTINCT entity_key) FROM "{table}"').fetchone()
    return int(count)


# -- online lookups (bench_online_lookup) -------------------------------------------------------


def online(args: h.Json) -> h.Json:
    """Write the figure's table to Parquet, ``materialize`` it (timed as ``write_s``), then
    ``LOOKUPS`` calls of ``get_online_features(...).to_dict()`` per size, each checked."""
    import bench_online_lookup as bo
    import pyarrow.parquet as pq

    table = bo._table(args["entities"], args["seed"])
    source = Path.cwd() / "features.parquet"
    pq.write_table(table, source)
    view = View(source, "entity_id", "ts", bo.FEATURE_NAMES, dt.timedelta(days=bo.TTL_DAYS),
                name=bo.VIEW, entity="entity")  # fmt: skip
    store = open_store(view)
    t0 = time.perf_counter()
    store.materialize(*bo.window())
    write_s = time.perf_counter() - t0
    refs = view.refs
    found = bo._all_lookups(
        bo._rows,
        lambda rows: store.get_online_features(features=refs, entity_rows=rows).to_dict(),
        lambda values: list(values["f3"]),
        table,
        args,
    )
    result: h.Json = {"backend": "feast", "write_s": write_s, "entities": table.num_rows, **found}
    result["versions"] = versions()
    result["call"] = "FeatureStore.get_online_features(features, entity_rows=[dict]).to_dict()"
    return result


if __name__ == "__main__":  # a quick look: python peer_feast.py prints the versions
    print(versions(), file=sys.stderr)
