"""``HttpGates`` and ``HttpTriggers``: gate results and scheduler triggers over a team server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.client.http._transport import API, HttpTransport, parse, segment
from shipyard.pipelines.gates.entities import Check, GateResult
from shipyard.pipelines.scheduler.entities import Trigger
from shipyard.server import schemas_gates as sc


def _given(**params: Any) -> dict[str, Any]:
    """The query parameters that are not None."""
    return {k: v for k, v in params.items() if v is not None}


class HttpGates:
    """:class:`~shipyard.pipelines.gates.service.GateStore` over a team server."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def record(
        self,
        model: str,
        version: int,
        *,
        champion_version: int | None,
        passed: bool,
        dataset: str | None,
        checks: Sequence[Check],
        config: dict[str, Any],
    ) -> GateResult:
        body = {
            "model": model,
            "version": version,
            "champion_version": champion_version,
            "passed": passed,
            "dataset": dataset,
            "checks": [c.to_dict() for c in checks],
            "config": config,
        }
        data = self._http.call("POST", f"{API}/gates/results", body=body)
        return parse(sc.GateResultOut, data).to_entity()

    def list(
        self, *, model: str | None = None, version: int | None = None, limit: int = 100
    ) -> list[GateResult]:
        params = _given(model=model, version=version, limit=limit)
        data = self._http.call("GET", f"{API}/gates/results", params=params, idempotent=True)
        return [r.to_entity() for r in parse(sc.GateResultList, data).results]

    def get(self, result_id: int) -> GateResult:
        data = self._http.call("GET", f"{API}/gates/results/{int(result_id)}", idempotent=True)
        return parse(sc.GateResultOut, data).to_entity()


class HttpTriggers:
    """:class:`~shipyard.pipelines.scheduler.service.TriggerStore` over a team server."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def register_jobs(self, jobs: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
        body = {"jobs": {k: dict(v) for k, v in jobs.items()}}
        data = self._http.call("POST", f"{API}/scheduler/jobs", body=body, idempotent=True)
        return parse(sc.JobsOut, data).registered_at

    def claim(self, job: str, slot: str, *, reason: str, owner: str) -> Trigger | None:
        body = {"job": job, "slot": slot, "reason": reason, "owner": owner}
        found = parse(sc.ClaimOut, self._http.call("POST", f"{API}/scheduler/claims", body=body))
        return None if found.trigger is None else found.trigger.to_entity()

    def heartbeat(self, trigger_ids: Sequence[int]) -> None:
        if trigger_ids:
            body = {"ids": [int(i) for i in trigger_ids]}
            self._http.call("POST", f"{API}/scheduler/heartbeats", body=body, idempotent=True)

    def finish(
        self, trigger_id: int, *, state: str, run_id: str | None = None, error: str | None = None
    ) -> Trigger:
        body = {"state": state, "run_id": run_id, "error": error}
        path = f"{API}/scheduler/triggers/{int(trigger_id)}/finish"
        return parse(sc.TriggerOut, self._http.call("POST", path, body=body)).to_entity()

    def sweep(self, *, stale_after_ms: int) -> list[Trigger]:
        body = {"stale_after_ms": int(stale_after_ms)}
        data = self._http.call("POST", f"{API}/scheduler/sweeps", body=body)
        return [t.to_entity() for t in parse(sc.TriggerList, data).triggers]

    def list(
        self, *, job: str | None = None, state: str | None = None, limit: int = 100
    ) -> list[Trigger]:
        params = _given(job=job, state=state, limit=limit)
        data = self._http.call("GET", f"{API}/scheduler/triggers", params=params, idempotent=True)
        return [t.to_entity() for t in parse(sc.TriggerList, data).triggers]

    def get(self, trigger_id: int) -> Trigger:
        path = f"{API}/scheduler/triggers/{int(trigger_id)}"
        return parse(sc.TriggerOut, self._http.call("GET", path, idempotent=True)).to_entity()

    def last_slot(self, job: str) -> str | None:
        path = f"{API}/scheduler/jobs/{segment(job)}/last-slot"
        return parse(sc.LastSlotOut, self._http.call("GET", path, idempotent=True)).slot
