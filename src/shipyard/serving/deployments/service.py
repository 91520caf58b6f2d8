"""The deployment service interface; ``SqlDeployments`` (``shipyard.serving.deployments.sql``)
keeps records in the metadata database, ``HttpDeployments`` (``shipyard.client.http``) sends
them to a team server."""

from __future__ import annotations

from typing import Protocol

from shipyard.serving.deployments.entities import Deployment, Policy


class DeploymentService(Protocol):
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
        """Record a deployment (never changed afterwards). Raises InvalidArgument, NotFound
        (the model version does not exist)."""
        ...

    def list(self, *, name: str | None = None, model: str | None = None) -> list[Deployment]:
        """Deployments, newest first, of one deployment name and/or one model."""
        ...

    def get(self, deployment_id: int) -> Deployment:
        """One deployment. Raises NotFound."""
        ...
