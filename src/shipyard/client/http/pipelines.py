"""``HttpPipelineRuns``: pipeline-run records over a team server's REST API."""

from __future__ import annotations

from urllib.parse import quote

from shipyard.client.http._transport import API, HttpTransport, parse
from shipyard.pipelines.entities import PipelineRun, RunState, StepFailure, StepState
from shipyard.server import schemas_pipelines as sc


class HttpPipelineRuns:
    """:class:`~shipyard.pipelines.service.PipelineRunStore` over a team server."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def create_run(self, run: PipelineRun) -> None:
        body = sc.PipelineRunIO.from_entity(run).model_dump()
        self._http.call("POST", f"{API}/pipeline-runs", body=body)

    def update_step(self, run_id: str, state: StepState) -> None:
        body = sc.StepStateIO.from_entity(state).model_dump()
        path = f"{API}/pipeline-runs/{quote(run_id)}/steps/{quote(state.step)}"
        self._http.call("PUT", path, body=body, idempotent=True)

    def finish_run(
        self, run_id: str, status: RunState, *, failure: StepFailure | None = None
    ) -> PipelineRun:
        body = {"status": RunState(status).value, "failure": failure.to_dict() if failure else None}
        data = self._http.call("POST", f"{API}/pipeline-runs/{quote(run_id)}/finish", body=body)
        return parse(sc.PipelineRunIO, data).to_entity()

    def find_cached(self, pipeline: str, step: str, cache_key: str) -> StepState | None:
        params = {"pipeline": pipeline, "step": step, "cache_key": cache_key}
        return self._step(f"{API}/pipeline-steps/cached", params)

    def last_done(self, pipeline: str, step: str) -> StepState | None:
        return self._step(f"{API}/pipeline-steps/last-done", {"pipeline": pipeline, "step": step})

    def _step(self, path: str, params: dict[str, str]) -> StepState | None:
        found = parse(
            sc.StepStateOrNone, self._http.call("GET", path, params=params, idempotent=True)
        )
        return found.step.to_entity() if found.step else None

    def list_runs(self, *, pipeline: str | None = None, limit: int = 50) -> list[PipelineRun]:
        params: dict[str, str | int] = {"limit": limit}
        if pipeline is not None:
            params["pipeline"] = pipeline
        data = self._http.call("GET", f"{API}/pipeline-runs", params=params, idempotent=True)
        return [r.to_entity() for r in parse(sc.PipelineRunList, data).runs]

    def get_run(self, run_id: str) -> PipelineRun:
        data = self._http.call("GET", f"{API}/pipeline-runs/{quote(run_id)}", idempotent=True)
        return parse(sc.PipelineRunIO, data).to_entity()
