"""``HttpMonitoring``: feedback, checks, alerts and retrainings over a team server's REST API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from shipyard.client.http._transport import API, HttpTransport, parse
from shipyard.monitoring.entities import Alert, Check, Delivery, FeedbackReceipt, Retraining
from shipyard.monitoring.feedback import ID, LABEL, TS, to_wire
from shipyard.server import schemas_monitoring as sc


class HttpMonitoring:
    """:class:`~shipyard.monitoring.service.MonitoringStore` over a team server; the server
    matches labels against its own prediction log."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def record_feedback(
        self,
        model: str,
        labels: pa.Table,
        *,
        keys: Sequence[str] = (),
        allow_unknown: bool = False,
    ) -> FeedbackReceipt:
        body = {
            "model": model,
            "labels": to_wire(labels),
            "keys": list(keys),
            "label": LABEL,
            "id_column": ID,
            "ts": TS,
            "allow_unknown": allow_unknown,
        }
        data = self._http.call("POST", f"{API}/feedback", body=body)
        return parse(sc.FeedbackOut, data).to_entity()

    def feedback(self, model: str) -> pa.Table:
        data = self._http.call("GET", f"{API}/feedback", params={"model": model}, idempotent=True)
        table = parse(sc.FeedbackTable, data)
        return pa.table(
            {
                "prediction_id": pa.array(table.prediction_id, pa.string()),
                "label_text": pa.array(table.label_text, pa.string()),
                "label_number": pa.array(table.label_number, pa.float64()),
                "received_at": pa.array(table.received_at, pa.int64()),
            }
        )

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
        from shipyard.monitoring._json import finite

        body = {
            "monitor": monitor,
            "model": model,
            "version": version,
            "status": status,
            "window_start": window[0],
            "window_end": window[1],
            "rows": rows,
            "labelled": labelled,
            "metrics": finite(metrics),
            "details": finite(details),
            "report": report,
            "started_at": started_at,
        }
        data = self._http.call("POST", f"{API}/monitoring/checks", body=body)
        return parse(sc.CheckOut, data).to_entity()

    def list_checks(
        self, *, monitor: str | None = None, model: str | None = None, limit: int = 100
    ) -> list[Check]:
        params = {"monitor": monitor, "model": model, "limit": limit}
        data = self._http.call("GET", f"{API}/monitoring/checks", params=params, idempotent=True)
        return [c.to_entity() for c in parse(sc.CheckList, data).checks]

    def get_check(self, check_id: int) -> Check:
        data = self._http.call("GET", f"{API}/monitoring/checks/{int(check_id)}", idempotent=True)
        return parse(sc.CheckOut, data).to_entity()

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
        body = {
            "monitor": monitor,
            "check_id": check_id,
            "rule": rule,
            "metric": metric,
            "value": value,
            "threshold": threshold,
            "state": state,
            "message": message,
            "deliveries": [d.to_dict() for d in deliveries],
        }
        data = self._http.call("POST", f"{API}/monitoring/alerts", body=body)
        return parse(sc.AlertOut, data).to_entity()

    def list_alerts(
        self,
        *,
        monitor: str | None = None,
        rule: str | None = None,
        state: str | None = None,
        since: int | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        params = {"monitor": monitor, "rule": rule, "state": state, "since": since, "limit": limit}
        data = self._http.call("GET", f"{API}/monitoring/alerts", params=params, idempotent=True)
        return [a.to_entity() for a in parse(sc.AlertList, data).alerts]

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
        from shipyard.monitoring._json import finite

        body = {
            "monitor": monitor,
            "model": model,
            "trigger": trigger,
            "outcome": outcome,
            "champion": champion,
            "challenger": challenger,
            "steps": finite(list(steps)),
        }
        data = self._http.call("POST", f"{API}/monitoring/retrainings", body=body)
        return parse(sc.RetrainingOut, data).to_entity()

    def list_retrainings(self, *, model: str | None = None, limit: int = 100) -> list[Retraining]:
        params = {"model": model, "limit": limit}
        data = self._http.call(
            "GET", f"{API}/monitoring/retrainings", params=params, idempotent=True
        )
        return [r.to_entity() for r in parse(sc.RetrainingList, data).retrainings]
