"""The feature catalog and online serving over a team server's REST API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipyard.client.http._transport import API, HttpTransport, parse, segment
from shipyard.features.catalog import Applied, Materialization, StoredDefinition
from shipyard.server import schemas as sc

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.client import Services
    from shipyard.features.store import MaterializeResult, SkewReport

BASE = f"{API}/features"


class HttpFeatureCatalog:
    """:class:`~shipyard.features.catalog.FeatureCatalog` over a team server."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def apply(self, specs: Sequence[tuple[str, str, Mapping[str, Any], str]]) -> list[Applied]:
        """Record definitions (idempotent: equal specs change nothing)."""
        body = {
            "definitions": [
                {"kind": k, "name": n, "spec": dict(s), "spec_hash": h} for k, n, s, h in specs
            ]
        }
        data = self._http.call("POST", f"{BASE}/definitions", body=body, idempotent=True)
        return [Applied(**a.model_dump()) for a in parse(sc.AppliedList, data).applied]

    def list_definitions(self, kind: str | None = None) -> list[StoredDefinition]:
        params = {} if kind is None else {"kind": kind}
        data = self._http.call("GET", f"{BASE}/definitions", params=params, idempotent=True)
        return [d.to_entity() for d in parse(sc.DefinitionList, data).definitions]

    def get_definition(self, kind: str, name: str, version: int | None = None) -> StoredDefinition:
        params = {} if version is None else {"version": version}
        path = f"{BASE}/definitions/{segment(kind)}/{segment(name)}"
        data = self._http.call("GET", path, params=params, idempotent=True)
        return parse(sc.DefinitionOut, data).to_entity()

    def history(self, kind: str, name: str) -> list[StoredDefinition]:
        path = f"{BASE}/definitions/{segment(kind)}/{segment(name)}/history"
        data = self._http.call("GET", path, idempotent=True)
        return [d.to_entity() for d in parse(sc.DefinitionList, data).definitions]

    def get_materialization(self, view: str) -> Materialization | None:
        data = self._http.call("GET", f"{BASE}/materializations/{segment(view)}", idempotent=True)
        return (
            None
            if data is None
            else Materialization(**parse(sc.MaterializationIO, data).model_dump())
        )

    def set_materialization(
        self, view: str, *, watermark_us: int | None, rows: int, online_store: str
    ) -> Materialization:
        body = {"watermark_us": watermark_us, "rows": rows, "online_store": online_store}
        path = f"{BASE}/materializations/{segment(view)}"
        data = self._http.call("PUT", path, body=body, idempotent=True)
        return Materialization(**parse(sc.MaterializationIO, data).model_dump())


class HttpFeatureServing:
    """Online lookups, pushes and materialization run by the team server."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    @classmethod
    def of(cls, services: Services) -> HttpFeatureServing:
        """The serving client sharing ``services``' connection."""
        catalog = services.features
        if not isinstance(catalog, HttpFeatureCatalog):
            raise TypeError("HttpFeatureServing needs services connected to a team server")
        return cls(catalog._http)

    def get_online_features(
        self,
        entities: Any,
        features: Sequence[str] | str,
        *,
        full_feature_names: bool = False,
        now: datetime | None = None,
    ) -> pa.Table:
        from shipyard.features.store import _as_table

        rows = [_jsonable(r) for r in _as_table(entities, "entities").to_pylist()]
        body: dict[str, Any] = {"entities": rows, "full_feature_names": full_feature_names}
        if now is not None:
            body["now"] = now.isoformat()
        body["service" if isinstance(features, str) else "features"] = (
            features if isinstance(features, str) else list(features)
        )
        data = self._http.call("POST", f"{BASE}/online", body=body, idempotent=True)
        return _online_table(parse(sc.OnlineResponse, data).rows)

    def push(self, view: str, rows: Any) -> int:
        from shipyard.features.store import _as_table

        records = _as_table(rows, f"rows pushed to {view!r}").to_pylist()
        body = {"view": view, "rows": [_jsonable(r) for r in records]}
        data = self._http.call("POST", f"{BASE}/push", body=body)
        return parse(sc.PushResponse, data).rows

    def skew(self, view: str, *, sample: int = 100) -> SkewReport:
        from shipyard.features.store import Mismatch, SkewReport

        path = f"{BASE}/skew/{segment(view)}"
        data = parse(
            sc.SkewOut, self._http.call("GET", path, params={"sample": sample}, idempotent=True)
        )
        found = tuple(Mismatch(**m.model_dump()) for m in data.mismatches)
        return SkewReport(data.view, data.checked, found)

    def materialize(
        self, views: Sequence[str] | None, *, incremental: bool = False
    ) -> list[MaterializeResult]:
        from shipyard.features.store import MaterializeResult

        body = {"views": None if views is None else list(views), "incremental": incremental}
        data = self._http.call("POST", f"{BASE}/materialize", body=body)
        out = []
        for m in parse(sc.MaterializeOut, data).results:
            state = Materialization(**m.model_dump())
            out.append(MaterializeResult(m.view, m.rows, state))
        return out


def _online_table(rows: list[dict[str, Any]]) -> pa.Table:
    """The server's rows as a table, event times parsed back into timestamps."""
    import pyarrow as pa

    table = pa.Table.from_pylist(rows)
    for i, name in enumerate(table.column_names):
        if name.endswith("__event_timestamp"):
            col = table.column(i)
            if pa.types.is_string(col.type) or pa.types.is_null(col.type):
                parsed = [None if v is None else datetime.fromisoformat(v) for v in col.to_pylist()]
                table = table.set_column(i, name, pa.array(parsed, pa.timestamp("us", tz="UTC")))
    return table


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """A row for JSON: dates and times as ISO 8601 text (naive ones are UTC)."""
    from datetime import date

    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}
