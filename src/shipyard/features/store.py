"""``FeatureStore``: apply definitions, build point-in-time training sets, materialize, push,
serve online features and check online/offline skew.

Everything reads definitions from the feature catalog and data from dataset versions, so the
same code runs against a local store or a team server; the online store is chosen by
``SHIPYARD_ONLINE_STORE_URI`` (SQLite by default, or Redis).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from shipyard.errors import InvalidArgument, NotFound
from shipyard.features.catalog import Applied, FeatureCatalog, Materialization
from shipyard.features.definitions import (
    Definition,
    Entity,
    FeatureService,
    FeatureView,
    spec_hash,
)
from shipyard.features.offline_store import ARROW_TYPES, OfflineStore, conform
from shipyard.features.resolve import Request, load_view, output_names, resolve, view_keys

if TYPE_CHECKING:
    from shipyard.features.online import OnlineStore

Progress = Callable[[int], None]
STATUS = "__status"
DEFINITIONS_TTL_S = 5.0
EVENT_TS = "__event_timestamp"


@dataclass(frozen=True)
class MaterializeResult:
    """One view's materialization: rows written and the new watermark."""

    view: str
    rows: int
    state: Materialization


@dataclass(frozen=True)
class Mismatch:
    """An entity whose online value differs from a fresh offline computation."""

    key: dict[str, Any]
    feature: str
    offline: Any
    online: Any
    reason: str


@dataclass(frozen=True)
class SkewReport:
    """``checked`` sampled entities of ``view``; every mismatch found."""

    view: str
    checked: int
    mismatches: tuple[Mismatch, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.mismatches


class FeatureStore:
    """The feature store over a catalog, the dataset store and an online store."""

    def __init__(
        self,
        catalog: FeatureCatalog,
        offline: OfflineStore,
        online: Callable[[], OnlineStore],
    ) -> None:
        self.catalog = catalog
        self.offline = offline
        self._online_factory = online
        self._online: OnlineStore | None = None
        self._requests: dict[Any, tuple[float, Request]] = {}

    def _online_request(self, features: Sequence[str] | str) -> Request:
        """``resolve`` for online lookups, cached for ``DEFINITIONS_TTL_S``: a model server
        answering thousands of requests a second should not re-read the definitions each time;
        a newly applied definition is picked up within seconds."""
        import time

        key = features if isinstance(features, str) else tuple(features)
        now = time.monotonic()
        hit = self._requests.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        request = resolve(self.catalog, features)
        if len(self._requests) > 256:
            self._requests.clear()
        self._requests[key] = (now + DEFINITIONS_TTL_S, request)
        return request

    @property
    def online(self) -> OnlineStore:
        """The online store, opened on first use."""
        if self._online is None:
            self._online = self._online_factory()
        return self._online

    def close(self) -> None:
        if self._online is not None:
            self._online.close()
            self._online = None

    # definitions -------------------------------------------------------------------------------
    def apply(self, definitions: Sequence[Definition]) -> list[Applied]:
        """Check every definition (names, references, source columns and types) and record
        the changed ones as new versions, all or nothing."""
        if not definitions:
            raise InvalidArgument("nothing to apply: declare entities, views or services")
        seen: dict[tuple[str, str], Definition] = {}
        for d in definitions:
            if (d.kind, d.name) in seen:
                raise InvalidArgument(f"{d.kind} {d.name!r} is declared twice")
            seen[(d.kind, d.name)] = d
        entities = {n: d for (k, n), d in seen.items() if isinstance(d, Entity)}
        views = {n: d for (k, n), d in seen.items() if isinstance(d, FeatureView)}
        for view in views.values():
            self._check_view(view, entities)
        for d in seen.values():
            if isinstance(d, FeatureService):
                self._check_service(d, views)
        applied = self.catalog.apply(
            [(d.kind, d.name, d.to_dict(), spec_hash(d)) for d in definitions]
        )
        for view in views.values():  # lay the offline rows out now, not at the first join
            if view.source is not None:
                keys = tuple(
                    dict.fromkeys(
                        k for e in view.entities for k in self._entity(e, entities).join_keys
                    )
                )
                self.offline.rows(view, keys)
        return applied

    def _entity(self, name: str, pending: Mapping[str, Entity]) -> Entity:
        if name in pending:
            return pending[name]
        try:
            stored = self.catalog.get_definition("entity", name)
        except NotFound as exc:
            raise InvalidArgument(f"unknown entity {name!r}: declare it under entities:") from exc
        return Entity.from_dict(stored.name, stored.spec)

    def _check_view(self, view: FeatureView, entities: Mapping[str, Entity]) -> None:
        keys = tuple(
            dict.fromkeys(k for e in view.entities for k in self._entity(e, entities).join_keys)
        )
        if view.source is None:
            return
        try:
            version = self.offline.datasets.get(view.source)
        except NotFound as exc:
            raise InvalidArgument(f"view {view.name!r}: source {view.source!r}: {exc}") from exc
        schema = dict(version.schema)
        columns = [*keys, view.timestamp, *view.feature_names]
        missing = [c for c in columns if c not in schema]
        if missing:
            raise InvalidArgument(
                f"view {view.name!r}: source {version.ref} has no column(s) {missing}; its columns "
                f"are {list(schema)}"
            )
        if not _is_time(schema[view.timestamp]):
            raise InvalidArgument(
                f"view {view.name!r}: timestamp column {view.timestamp!r} is "
                f"{schema[view.timestamp]}, not a timestamp or date; convert it when ingesting"
            )
        for f in view.features:
            if not _fits(schema[f.name], f.dtype):
                raise InvalidArgument(
                    f"view {view.name!r}: feature {f.name!r} is declared {f.dtype} but source "
                    f"{version.ref} has {schema[f.name]}"
                )

    def _check_service(self, service: FeatureService, views: Mapping[str, FeatureView]) -> None:
        for ref in service.features:
            name, feature = ref.split(":")
            view = views.get(name)
            if view is None:
                try:
                    view, _ = load_view(self.catalog, name)
                except NotFound as exc:
                    raise InvalidArgument(
                        f"service {service.name!r}: unknown view {name!r}"
                    ) from exc
            if feature != "*" and feature not in view.feature_names:
                raise InvalidArgument(
                    f"service {service.name!r}: view {name!r} has no feature {feature!r}; "
                    f"its features are {list(view.feature_names)}"
                )

    # offline -----------------------------------------------------------------------------------
    def get_historical_features(
        self,
        entities: Any,
        features: Sequence[str] | str,
        *,
        timestamp: str = "event_timestamp",
        full_feature_names: bool = False,
    ) -> tuple[pa.Table, dict[str, str]]:
        """Each entity row with the latest feature values at or before its ``timestamp`` and
        within each view's TTL; every row comes back, in order. Returns the table and its
        lineage (``view`` → ``view@version`` and the source dataset versions)."""
        from shipyard.features.offline.join import ViewFrame, point_in_time_join

        table = _as_table(entities, "entity frame")
        request = resolve(self.catalog, features)
        names = output_names(request, full_feature_names=full_feature_names)
        missing = [k for k in (*request.keys, timestamp) if k not in table.column_names]
        if missing:
            raise InvalidArgument(
                f"the entity frame has no column(s) {missing}; it needs the join keys "
                f"{list(request.keys)} and the event-time column {timestamp!r} (timestamp=...)"
            )
        frames, lineage = [], {}
        for vr in request.views:
            rows = self.offline.rows(vr.view, vr.keys)
            lineage[vr.view.name] = f"{vr.view.name}@{vr.version}"
            if rows.source is not None:
                lineage[f"{vr.view.name}.source"] = rows.source.uri
            frames.append(
                ViewFrame(
                    name=vr.view.name,
                    keys=vr.keys,
                    timestamp=vr.view.timestamp,
                    features=vr.features,
                    ttl=vr.view.ttl,
                    table=rows.table,
                    output_names=tuple(names[(vr.view.name, f)] for f in vr.features),
                    sorted=rows.sorted,
                )
            )
        joined = point_in_time_join(table, timestamp, frames)
        return _apply_transforms(joined, request), lineage

    def get_features_as_of(
        self, features: Sequence[str] | str, as_of: datetime | None = None
    ) -> pa.Table:
        """Every entity's latest values at or before ``as_of`` (now by default) within the
        TTL, without an entity frame. All views asked must share their join keys."""
        from shipyard.features.offline.join import ViewFrame, latest_as_of

        request = resolve(self.catalog, features)
        keysets = {vr.keys for vr in request.views}
        if len(keysets) > 1:
            raise InvalidArgument(
                f"views with different join keys {sorted(keysets)} cannot be listed together; "
                "ask for each entity's views separately"
            )
        when = as_of or datetime.now(UTC)
        names = output_names(request, full_feature_names=False)
        result = None
        for vr in request.views:
            rows = self.offline.rows(vr.view, vr.keys)
            frame = ViewFrame(
                vr.view.name,
                vr.keys,
                vr.view.timestamp,
                vr.features,
                vr.view.ttl,
                rows.table,
                tuple(names[(vr.view.name, f)] for f in vr.features),
                rows.sorted,
            )
            latest = latest_as_of(frame, when).drop_columns([vr.view.timestamp])
            result = latest if result is None else _outer_join(result, latest, list(vr.keys))
        assert result is not None
        return _apply_transforms(result, request)

    # online ------------------------------------------------------------------------------------
    def materialize(
        self,
        views: Sequence[str] | None = None,
        *,
        incremental: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> list[MaterializeResult]:
        """Write each online view's latest values per entity to the online store; with
        ``incremental``, only rows newer than the last materialization's watermark. The
        watermark moves only after every row is written, so a failed run is simply re-run."""
        from shipyard.features.offline.join import ViewFrame, latest_as_of

        names = (
            list(views)
            if views
            else [
                d.name for d in self.catalog.list_definitions("view") if d.spec.get("online", True)
            ]
        )
        results = []
        for name in names:
            view, _ = load_view(self.catalog, name)
            keys = view_keys(self.catalog, view)
            rows = self.offline.rows(view, keys, lay_out=False)
            table = rows.table
            state = self.catalog.get_materialization(name)
            if incremental and state is not None and state.watermark_us is not None:
                import pyarrow.compute as pc

                ts = table.column(view.timestamp).cast(pa.int64())
                table = table.filter(pc.greater(ts, state.watermark_us))
            frame = ViewFrame(  # filtering keeps the sorted layout
                name, keys, view.timestamp, view.feature_names, None, table, None, rows.sorted
            )
            latest = latest_as_of(frame, None)
            written = self.online.write(
                name,
                latest,
                keys=keys,
                timestamp=view.timestamp,
                features=view.feature_names,
                progress=_view_progress(progress, name, latest.num_rows),
            )
            watermark = _max_us(table, view.timestamp)
            if state is not None and state.watermark_us is not None:
                watermark = max(watermark or state.watermark_us, state.watermark_us)
            new_state = self.catalog.set_materialization(
                name, watermark_us=watermark, rows=written, online_store=self.online.url
            )
            results.append(MaterializeResult(name, written, new_state))
        return results

    def push(self, view_name: str, rows: Any) -> int:
        """Write fresh rows straight to the online store and append them offline."""
        view, _ = load_view(self.catalog, view_name)
        keys = view_keys(self.catalog, view)
        table = conform(
            _as_table(rows, f"rows pushed to {view_name!r}"),
            view,
            keys,
            what=f"rows pushed to {view_name!r}",
        )
        if table.num_rows == 0:
            return 0
        self.offline.append_pushed(view, table)
        if view.online:
            self.online.write(
                view_name, table, keys=keys, timestamp=view.timestamp, features=view.feature_names
            )
        return int(table.num_rows)

    def get_online_features(
        self,
        entities: Any,
        features: Sequence[str] | str,
        *,
        now: datetime | None = None,
        full_feature_names: bool = False,
    ) -> pa.Table:
        """Feature values of many entities in one call: per view, the values (null when
        missing or expired), ``<view>__event_timestamp`` and ``<view>__status`` (present,
        missing, expired: the TTL is enforced here), then request-time transforms."""
        from shipyard.features.online import statuses

        table = _as_table(entities, "entities")
        request = self._online_request(features)
        names = output_names(request, full_feature_names=full_feature_names)
        missing = [k for k in request.keys if k not in table.column_names]
        if missing:
            raise InvalidArgument(
                f"the entities have no key column(s) {missing}; pass {list(request.keys)}"
            )
        when = now or datetime.now(UTC)
        out = table
        for vr in request.views:
            found = self.online.read(
                vr.view.name, table.select(list(vr.keys)), keys=vr.keys, features=vr.features
            )
            status = statuses(found.column("event_timestamp"), vr.view.ttl, when)
            import pyarrow.compute as pc

            live = pc.equal(status, "present")
            all_live = pc.all(live).as_py() is not False  # the common case: nothing to blank
            for feature in vr.features:
                values = found.column(feature)
                if not all_live:
                    values = pc.if_else(live, values, pa.nulls(len(found), values.type))
                out = out.append_column(names[(vr.view.name, feature)], values)
            out = out.append_column(f"{vr.view.name}{EVENT_TS}", found.column("event_timestamp"))
            out = out.append_column(f"{vr.view.name}{STATUS}", status)
        return _apply_transforms(out, request)

    def skew(self, view_name: str, *, sample: int = 100, seed: int = 0) -> SkewReport:
        """Compare online values of up to ``sample`` entities with a fresh offline computation
        of what materialization would write; report every missing or differing value."""
        from shipyard.features.offline.join import ViewFrame, latest_as_of

        view, _ = load_view(self.catalog, view_name)
        keys = view_keys(self.catalog, view)
        rows = self.offline.rows(view, keys)
        expected = latest_as_of(
            ViewFrame(
                view_name,
                keys,
                view.timestamp,
                view.feature_names,
                None,
                rows.table,
                None,
                rows.sorted,
            ),
            None,
        )
        if expected.num_rows > sample:
            picks = sorted(random.Random(seed).sample(range(expected.num_rows), sample))
            expected = expected.take(pa.array(picks, pa.int64()))
        found = self.online.read(
            view_name, expected.select(list(keys)), keys=keys, features=view.feature_names
        )
        mismatches = []
        exp_rows, got_rows = expected.to_pylist(), found.to_pylist()
        for want, got in zip(exp_rows, got_rows, strict=True):
            key = {k: want[k] for k in keys}
            if got["event_timestamp"] is None:
                mismatches.append(Mismatch(key, "*", want[view.timestamp], None, "missing online"))
                continue
            if got["event_timestamp"] != want[view.timestamp]:
                mismatches.append(
                    Mismatch(
                        key,
                        view.timestamp,
                        want[view.timestamp],
                        got["event_timestamp"],
                        "event time differs",
                    )
                )
            for feature in view.feature_names:
                if not _same(want[feature], got[feature]):
                    mismatches.append(
                        Mismatch(key, feature, want[feature], got[feature], "value differs")
                    )
        return SkewReport(view_name, len(exp_rows), tuple(mismatches))


def _view_progress(
    progress: Callable[[str, int, int], None] | None, view: str, total: int
) -> Progress | None:
    """``progress(view, done, total)`` as the online store's ``progress(done)``."""
    if progress is None:
        return None
    progress(view, 0, total)
    return lambda done: progress(view, done, total)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    return bool(a == b)


def _is_time(arrow_type: str) -> bool:
    return arrow_type.startswith(("timestamp", "date"))


def _fits(arrow_type: str, dtype: str) -> bool:
    if dtype == "float64":
        return arrow_type in ("double", "float", "halffloat") or arrow_type.startswith(
            ("int", "uint")
        )
    if dtype == "int64":
        return arrow_type.startswith(("int", "uint"))
    if dtype == "string":
        return arrow_type in ("string", "large_string") or arrow_type.startswith("dictionary")
    if dtype == "bool":
        return arrow_type == "bool"
    return _is_time(arrow_type)


def _as_table(data: Any, what: str) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, list) and all(isinstance(r, Mapping) for r in data):
        return pa.Table.from_pylist(data)
    if hasattr(data, "columns") and hasattr(data, "dtypes"):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise InvalidArgument(
        f"{what} must be a pandas DataFrame, a pyarrow Table or a list of dicts, "
        f"not {type(data).__name__}"
    )


def _apply_transforms(table: pa.Table, request: Request) -> pa.Table:
    if not request.transforms:
        return table
    from shipyard.data.preprocess import parse_expression

    frame = table.to_pandas()
    for name, expression in request.transforms.items():
        expr = parse_expression(expression)
        absent = [c for c in expr.columns if c not in frame.columns]
        if absent:
            raise InvalidArgument(
                f"request-time feature {name!r} = {expression!r} needs column(s) {absent}: pass "
                "them with the entities (request fields) or ask for those features"
            )
        frame[name] = expr.evaluate(frame)
        table = table.append_column(name, pa.array(frame[name], from_pandas=True))
    return table


def _outer_join(left: pa.Table, right: pa.Table, keys: list[str]) -> pa.Table:
    return left.join(right, keys=keys, join_type="full outer")


def _max_us(table: pa.Table, column: str) -> int | None:
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return None
    value = pc.max(table.column(column).cast(pa.int64())).as_py()
    return None if value is None else int(value)


__all__ = ["ARROW_TYPES", "FeatureStore", "MaterializeResult", "Mismatch", "SkewReport"]
