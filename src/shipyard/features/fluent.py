"""The feature store SDK: apply definitions, training sets, materialize, push, online lookup.

Definitions, training sets and skew checks run in this process over the configured services
(a local store or a team server). Online lookups, pushes and materialization use the online
store named by ``SHIPYARD_ONLINE_STORE_URI``; against a team server they go through its REST
API, so they reach the server's online store.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.features.catalog import Applied, StoredDefinition
from shipyard.features.definitions import Definition, definitions_from_config, definitions_from_yaml
from shipyard.features.store import FeatureStore, MaterializeResult, SkewReport

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.client import Services

_lock = threading.Lock()
# by id(services), with a weak reference that proves the entry is that object's: an id is
# reused once its object is gone, and a new services object must not get the old one's store
_stores: dict[int, tuple[weakref.ref[Services], FeatureStore]] = {}


def feature_store_for(services: Services) -> FeatureStore:
    """The :class:`FeatureStore` over ``services`` (one per services object, reused)."""
    from shipyard.data.datasets import DatasetStore
    from shipyard.features.offline_store import OfflineStore
    from shipyard.features.online import online_store_from_url

    key = id(services)
    with _lock:
        entry = _stores.get(key)
        if entry is not None and entry[0]() is services:
            return entry[1]
        settings = services.settings
        offline = OfflineStore(
            DatasetStore(services.datasets, services.artifacts),
            Path(settings.home) / "features",
        )
        store = FeatureStore(
            services.features, offline, lambda: online_store_from_url(settings.online_store_uri)
        )
        _stores[key] = (weakref.ref(services, functools.partial(_forget, key)), store)
        return store


def _forget(key: int, ref: weakref.ref[Services]) -> None:
    """Drop the entry of a services object that is gone (no lock: a GC callback may run while
    this thread holds it; dict operations are atomic)."""
    entry = _stores.get(key)
    if entry is not None and entry[0] is ref:
        _stores.pop(key, None)


def close_feature_store(services: Services) -> None:
    """Close the online store opened for ``services`` (the server calls it on shutdown)."""
    with _lock:
        entry = _stores.get(id(services))
        if entry is None or entry[0]() is not services:
            return
        del _stores[id(services)]
    entry[1].close()


def _services() -> Services:
    from shipyard.tracking.fluent import services

    return services()


def feature_store() -> FeatureStore:
    """The feature store of the SDK's configured services."""
    return feature_store_for(_services())


def _remote() -> Any:
    svc = _services()
    if not svc.settings.is_remote:
        return None
    from shipyard.client.http.features import HttpFeatureServing

    return HttpFeatureServing.of(svc)


def apply_features(definitions: Sequence[Definition] | str | Path | None = None) -> list[Applied]:
    """Check and record definitions: a list, a YAML file (its ``features:`` section or the
    file itself) or, by default, the ``features:`` section of ``shipyard.yaml``."""
    from shipyard.errors import InvalidArgument

    if definitions is None:
        section = _services().settings.extra.get("features")
        if section is None:
            raise InvalidArgument(
                "shipyard.yaml has no features: section; declare entities, views and services "
                "there or pass a file"
            )
        defs = definitions_from_config(section)
    elif isinstance(definitions, str | Path):
        defs = definitions_from_yaml(str(definitions))
    else:
        defs = list(definitions)
    return feature_store().apply(defs)


def list_feature_definitions(kind: str | None = None) -> list[StoredDefinition]:
    """The newest version of every entity, view and service (or of one ``kind``)."""
    return _services().features.list_definitions(kind)


def get_historical_features(
    entities: Any,
    features: Sequence[str] | str,
    *,
    timestamp: str = "event_timestamp",
    full_feature_names: bool = False,
    save_as: str | None = None,
) -> pa.Table:
    """A point-in-time correct training set: each entity row gets the latest values at or
    before its ``timestamp`` and within each view's TTL, never later ones; every row comes
    back. ``features`` is a list of ``view:feature`` or a feature service's name.

    Inside a run, the run records each view version and source dataset version it used. With
    ``save_as``, the table is also stored as a dataset version tagged with that lineage.
    """
    from shipyard.tracking import fluent

    table, lineage = feature_store().get_historical_features(
        entities, features, timestamp=timestamp, full_feature_names=full_feature_names
    )
    active = fluent.active_run()
    if active is not None:
        _log_lineage(lineage, active.run_id)
    if save_as is not None:
        from shipyard.data.fluent import ingest_dataset

        tags = {f"lineage.{k}": v for k, v in lineage.items()}
        ingest_dataset(table, name=save_as, tags=tags, description="training set")
    return table


def _log_lineage(lineage: dict[str, str], run_id: str) -> None:
    """Record the view versions and source dataset versions a training set was built from."""
    from shipyard._util import now_ms
    from shipyard.tracking import fluent
    from shipyard.tracking.entities import DatasetInput

    inputs = []
    for key, value in lineage.items():
        if key.endswith(".source"):
            name, _, version = value.removeprefix("dataset:").partition("@")
            inputs.append(DatasetInput(name, version, value, "features", logged_at=now_ms()))
        else:
            version = value.rpartition("@")[2]
            source = f"features:{value}"
            inputs.append(
                DatasetInput(f"view:{key}", f"v{version}", source, "features", logged_at=now_ms())
            )
    for info in inputs:
        fluent.log_input(info, run_id=run_id)


def get_features_as_of(features: Sequence[str] | str, as_of: datetime | None = None) -> pa.Table:
    """Every entity's latest values as of a time, without an entity frame."""
    return feature_store().get_features_as_of(features, as_of)


def materialize_features(
    views: Sequence[str] | None = None,
    *,
    incremental: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[MaterializeResult]:
    """Load each online view's latest values into the online store (only new rows with
    ``incremental``)."""
    remote = _remote()
    if remote is not None:
        return remote.materialize(views, incremental=incremental)  # type: ignore[no-any-return]
    return feature_store().materialize(views, incremental=incremental, progress=progress)


def push_features(view: str, rows: Any) -> int:
    """Write fresh rows of ``view`` to the online store now, and append them offline."""
    remote = _remote()
    if remote is not None:
        return remote.push(view, rows)  # type: ignore[no-any-return]
    return feature_store().push(view, rows)


def get_online_features(
    entities: Any,
    features: Sequence[str] | str,
    *,
    full_feature_names: bool = False,
    now: datetime | None = None,
) -> pa.Table:
    """Values of many entities in one call, with each view's event time and status
    (present, missing, expired), then request-time transforms. ``now`` (default: the current
    time) is when TTLs are judged, for replaying history."""
    remote = _remote()
    if remote is not None:
        return remote.get_online_features(  # type: ignore[no-any-return]
            entities, features, full_feature_names=full_feature_names, now=now
        )
    return feature_store().get_online_features(
        entities, features, full_feature_names=full_feature_names, now=now
    )


def feature_skew(view: str, *, sample: int = 100) -> SkewReport:
    """Online values of a sample of entities against a fresh offline computation."""
    remote = _remote()
    if remote is not None:
        return remote.skew(view, sample=sample)  # type: ignore[no-any-return]
    return feature_store().skew(view, sample=sample)
