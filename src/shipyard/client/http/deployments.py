"""``HttpDeployments``: deployment records over a team server's REST API."""

from __future__ import annotations

from shipyard.client.http._transport import API, HttpTransport, parse
from shipyard.server import schemas as sc
from shipyard.serving.deployments.entities import Deployment, Policy


class HttpDeployments:
    """:class:`~shipyard.serving.deployments.service.DeploymentService` over a team server."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def record(
        self,
        name: str,
        *,
        model: str,
        version: int,
        ref: str,
        policy: Policy,
        target: str,
        endpoint: str = "",
        feature_service: str | None = None,
        note: str = "",
    ) -> Deployment:
        body = {
            "name": name,
            "model": model,
            "version": version,
            "ref": ref,
            "policy": policy.to_dict(),
            "target": target,
            "endpoint": endpoint,
            "feature_service": feature_service,
            "note": note,
        }
        return parse(
            sc.DeploymentOut, self._http.call("POST", f"{API}/deployments", body=body)
        ).to_entity()

    def list(self, *, name: str | None = None, model: str | None = None) -> list[Deployment]:
        params = {k: v for k, v in (("name", name), ("model", model)) if v is not None}
        data = self._http.call("GET", f"{API}/deployments", params=params, idempotent=True)
        return [d.to_entity() for d in parse(sc.DeploymentList, data).deployments]

    def get(self, deployment_id: int) -> Deployment:
        data = self._http.call("GET", f"{API}/deployments/{int(deployment_id)}", idempotent=True)
        return parse(sc.DeploymentOut, data).to_entity()
