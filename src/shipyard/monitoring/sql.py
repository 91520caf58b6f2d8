"""``SqlMonitoring``: feedback, check history, alerts and retrainings on the metadata database."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, RowMapping, Select, delete, insert, select
from sqlalchemy import exc as sa_exc

from shipyard._util import check_name, now_ms
from shipyard.errors import InvalidArgument, NotFound
from shipyard.monitoring import feedback as fb
from shipyard.monitoring._json import dumps as _dumps
from shipyard.monitoring.entities import (
    ALERT_STATES,
    CHECK_STATES,
    Alert,
    Check,
    Delivery,
    FeedbackReceipt,
    Retraining,
)
from shipyard.store.database import Database
from shipyard.store.prepared import Prepared
from shipyard.store.schema import (
    monitoring_alerts,
    monitoring_checks,
    monitoring_feedback,
    monitoring_retrains,
)

_ATTEMPTS = 5  # feedback transactions tried when a concurrent upload races them
_CHUNK = 5_000  # ids per DELETE … IN (…): well under SQLite and PostgreSQL limits
_INSERT_FEEDBACK = Prepared(
    insert(monitoring_feedback),
    columns=["model", "prediction_id", "label_text", "label_number", "received_at"],
)
fc, cc, ac, rc = (
    monitoring_feedback.c,
    monitoring_checks.c,
    monitoring_alerts.c,
    monitoring_retrains.c,
)


class SqlMonitoring:
    """The :class:`~shipyard.monitoring.service.MonitoringStore` on SQL; labels are checked
    against the prediction log under ``predictions_root``."""

    def __init__(self, db: Database, predictions_root: Path | str) -> None:
        self._db = db
        self.predictions_root = Path(predictions_root)

    # ------------------------------------------------------------------ feedback

    def record_feedback(
        self,
        model: str,
        labels: pa.Table,
        *,
        keys: Sequence[str] = (),
        allow_unknown: bool = False,
    ) -> FeedbackReceipt:
        """Match labels to logged predictions and store them in one transaction."""
        check_name(model, "model")
        if labels.num_rows == 0:
            raise InvalidArgument("no labels given; send at least one row")
        total = labels.num_rows
        unmatched = 0
        if keys:
            resolved = fb.resolve_entities(self.predictions_root, model, labels, keys)
            missing = pc.is_null(resolved.column(fb.ID))
            lost = resolved.filter(missing)
            if lost.num_rows and not allow_unknown:
                raise InvalidArgument(fb.describe_unknown(model, lost, keys, total))
            labels = resolved.filter(pc.invert(missing)).select([fb.ID, fb.LABEL])
            unmatched = lost.num_rows  # no id to keep them by: reported, not stored
        else:
            ids = fb._array(labels.column(fb.ID))
            fb.check_id_lengths(ids)
            known = fb.known_ids(self.predictions_root, model, ids)
            is_known = pc.is_in(ids, value_set=known)
            unknown = labels.filter(pc.invert(is_known))
            if unknown.num_rows and not allow_unknown:
                raise InvalidArgument(fb.describe_unknown(model, unknown, (), total))
            unmatched = unknown.num_rows
        labels = _last_per_id(labels)
        stored, replaced = self._store_labels(model, labels)
        return FeedbackReceipt(model, stored, replaced, unmatched)

    def _store_labels(self, model: str, labels: pa.Table) -> tuple[int, int]:
        text, number = fb.label_columns(labels.column(fb.LABEL))
        ids = labels.column(fb.ID).to_pylist()
        at = now_ms()
        rows = [
            {
                "model": model,
                "prediction_id": i,
                "label_text": t,
                "label_number": None if n is None or math.isnan(n) else n,
                "received_at": at,
            }
            for i, t, n in zip(ids, text.to_pylist(), number.to_pylist(), strict=True)
        ]
        rows.sort(key=lambda r: r["prediction_id"])  # one lock order for concurrent uploads
        ids.sort()
        # the INSERT runs on the DBAPI cursor: its driver's IntegrityError, not SQLAlchemy's
        raced = (sa_exc.IntegrityError, self._db.engine.dialect.loaded_dbapi.IntegrityError)
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return len(rows), self._replace_labels(model, ids, rows)
            except raced:
                # a concurrent upload inserted some of these ids between our DELETE and
                # INSERT (PostgreSQL): run the transaction again, it replaces them now
                if attempt == _ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _replace_labels(self, model: str, ids: list[str], rows: list[dict[str, Any]]) -> int:
        """Delete the stored labels of ``ids``, insert ``rows``; the number deleted."""
        replaced = 0
        with self._db.begin() as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                where = (fc.model == model) & fc.prediction_id.in_(chunk)
                replaced += conn.execute(delete(monitoring_feedback).where(where)).rowcount
            if rows:
                _INSERT_FEEDBACK.run_many(conn, rows)
        return replaced

    def feedback(self, model: str) -> pa.Table:
        """Every stored label of ``model``."""
        query = select(fc.prediction_id, fc.label_text, fc.label_number, fc.received_at).where(
            fc.model == model
        )
        with self._db.read() as conn:
            rows = _fetch_all(conn, query)
        columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
        return pa.table(
            {
                "prediction_id": pa.array(columns[0], pa.string()),
                "label_text": pa.array(columns[1], pa.string()),
                "label_number": pa.array(columns[2], pa.float64()),
                "received_at": pa.array(columns[3], pa.int64()),
            }
        )

    # ------------------------------------------------------------------ checks

    def record_check(
        self,
        *,
        monitor: str,
        model: str,
        version: int | None,
        status: str,
        window: tuple[int | None, int | None],
        rows: int,
        labelled: int,
        metrics: Mapping[str, float | None],
        details: Mapping[str, Any],
        report: str,
        started_at: int,
    ) -> Check:
        """Store one check's results."""
        check_name(monitor, "monitor")
        if status not in CHECK_STATES:
            raise InvalidArgument(f"check status {status!r} is not one of {list(CHECK_STATES)}")
        row = {
            "monitor": monitor,
            "model": model,
            "version": version,
            "status": status,
            "window_start": window[0],
            "window_end": window[1],
            "rows": int(rows),
            "labelled": int(labelled),
            "metrics_json": _dumps(metrics),
            "details_json": _dumps(details),
            "report": report,
            "started_at": int(started_at),
            "finished_at": now_ms(),
        }
        with self._db.begin() as conn:
            result = conn.execute(insert(monitoring_checks).values(**row))
            new_id = result.inserted_primary_key[0] if result.inserted_primary_key else 0
        return _check({**row, "id": new_id})

    def list_checks(
        self, *, monitor: str | None = None, model: str | None = None, limit: int = 100
    ) -> list[Check]:
        """Checks, newest first."""
        query = select(monitoring_checks).order_by(cc.started_at.desc(), cc.id.desc())
        if monitor is not None:
            query = query.where(cc.monitor == monitor)
        if model is not None:
            query = query.where(cc.model == model)
        with self._db.read() as conn:
            return [_check(r) for r in conn.execute(query.limit(_limit(limit))).mappings()]

    def get_check(self, check_id: int) -> Check:
        """One check. Raises NotFound."""
        with self._db.read() as conn:
            row = (
                conn.execute(select(monitoring_checks).where(cc.id == check_id)).mappings().first()
            )
        if row is None:
            raise NotFound(f"no monitor check {check_id}; `shipyard monitor history` lists them")
        return _check(row)

    # ------------------------------------------------------------------ alerts

    def record_alert(
        self,
        *,
        monitor: str,
        check_id: int | None,
        rule: str,
        metric: str,
        value: float | None,
        threshold: float,
        state: str,
        message: str,
        deliveries: Sequence[Delivery],
    ) -> Alert:
        """Store an alert and what its channels did with it."""
        if state not in ALERT_STATES:
            raise InvalidArgument(f"alert state {state!r} is not one of {list(ALERT_STATES)}")
        row = {
            "monitor": check_name(monitor, "monitor"),
            "check_id": check_id,
            "rule": rule,
            "metric": metric,
            "value": None if value is None or math.isnan(value) else float(value),
            "threshold": float(threshold),
            "state": state,
            "message": message,
            "deliveries_json": json.dumps([d.to_dict() for d in deliveries]),
            "created_at": now_ms(),
        }
        with self._db.begin() as conn:
            result = conn.execute(insert(monitoring_alerts).values(**row))
            new_id = result.inserted_primary_key[0] if result.inserted_primary_key else 0
        return _alert({**row, "id": new_id})

    def list_alerts(
        self,
        *,
        monitor: str | None = None,
        rule: str | None = None,
        state: str | None = None,
        since: int | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        """Alerts, newest first."""
        query = select(monitoring_alerts).order_by(ac.created_at.desc(), ac.id.desc())
        if monitor is not None:
            query = query.where(ac.monitor == monitor)
        if rule is not None:
            query = query.where(ac.rule == rule)
        if state is not None:
            if state not in ALERT_STATES:
                raise InvalidArgument(f"alert state {state!r} is not one of {list(ALERT_STATES)}")
            query = query.where(ac.state == state)
        if since is not None:
            query = query.where(ac.created_at >= since)
        with self._db.read() as conn:
            return [_alert(r) for r in conn.execute(query.limit(_limit(limit))).mappings()]

    # ------------------------------------------------------------------ retraining

    def record_retraining(
        self,
        *,
        monitor: str,
        model: str,
        trigger: str,
        outcome: str,
        champion: int | None,
        challenger: int | None,
        steps: Sequence[Mapping[str, Any]],
    ) -> Retraining:
        """Store one run of a retraining policy."""
        row = {
            "monitor": check_name(monitor, "monitor"),
            "model": check_name(model, "model"),
            "trigger": trigger,
            "outcome": outcome,
            "champion": champion,
            "challenger": challenger,
            "steps_json": _dumps(list(steps)),
            "created_at": now_ms(),
        }
        with self._db.begin() as conn:
            result = conn.execute(insert(monitoring_retrains).values(**row))
            new_id = result.inserted_primary_key[0] if result.inserted_primary_key else 0
        return _retraining({**row, "id": new_id})

    def list_retrainings(self, *, model: str | None = None, limit: int = 100) -> list[Retraining]:
        """Retrainings, newest first."""
        query = select(monitoring_retrains).order_by(rc.created_at.desc(), rc.id.desc())
        if model is not None:
            query = query.where(rc.model == model)
        with self._db.read() as conn:
            return [_retraining(r) for r in conn.execute(query.limit(_limit(limit))).mappings()]


def _fetch_all(conn: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``query`` as plain tuples, straight from the DBAPI cursor (SQLAlchemy's
    row objects cost more than the query when a model has many labels)."""
    compiled = query.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    args = tuple(params[n] for n in compiled.positiontup or ()) if compiled.positional else params
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _last_per_id(labels: pa.Table) -> pa.Table:
    """One label per prediction id: the last one given."""
    ids = labels.column(fb.ID)
    if pc.count_distinct(ids).as_py() == labels.num_rows:
        return labels
    indexed = labels.append_column("_i", pa.array(range(labels.num_rows), pa.int64()))
    last = indexed.group_by(fb.ID).aggregate([("_i", "max")]).column("_i_max")
    return labels.take(last)


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidArgument(f"limit must be a whole number >= 1, got {limit!r}")
    return limit


def _check(row: Mapping[str, Any] | RowMapping) -> Check:
    return Check(
        id=int(row["id"]),
        monitor=row["monitor"],
        model=row["model"],
        version=row["version"],
        status=row["status"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        rows=int(row["rows"]),
        labelled=int(row["labelled"]),
        metrics=json.loads(row["metrics_json"]),
        details=json.loads(row["details_json"]),
        report=row["report"],
        started_at=int(row["started_at"]),
        finished_at=int(row["finished_at"]),
    )


def _alert(row: Mapping[str, Any] | RowMapping) -> Alert:
    return Alert(
        id=int(row["id"]),
        monitor=row["monitor"],
        check_id=row["check_id"],
        rule=row["rule"],
        metric=row["metric"],
        value=row["value"],
        threshold=float(row["threshold"]),
        state=row["state"],
        message=row["message"],
        deliveries=tuple(Delivery.from_dict(d) for d in json.loads(row["deliveries_json"])),
        created_at=int(row["created_at"]),
    )


def _retraining(row: Mapping[str, Any] | RowMapping) -> Retraining:
    return Retraining(
        id=int(row["id"]),
        monitor=row["monitor"],
        model=row["model"],
        trigger=row["trigger"],
        outcome=row["outcome"],
        champion=row["champion"],
        challenger=row["challenger"],
        steps=tuple(json.loads(row["steps_json"])),
        created_at=int(row["created_at"]),
    )
