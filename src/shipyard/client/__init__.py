"""Connect to the services named by the configuration: a local store or a team server.

``connect(settings)`` returns :class:`Services`, the one bundle the SDK, the CLI and the server
use. ``sqlite:///…`` and ``postgresql+psycopg://…`` give the SQL implementations over the local
artifact store; ``http(s)://…`` gives HTTP clients of a team server. Backends load lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.config import Settings, load_settings

if TYPE_CHECKING:
    from shipyard.artifacts.service import ArtifactService
    from shipyard.data.datasets.service import DatasetCatalog
    from shipyard.features.catalog import FeatureCatalog
    from shipyard.monitoring.service import MonitoringStore
    from shipyard.pipelines.gates.service import GateStore
    from shipyard.pipelines.scheduler.service import TriggerStore
    from shipyard.pipelines.service import PipelineRunStore
    from shipyard.registry.service import RegistryService
    from shipyard.serving.deployments.service import DeploymentService
    from shipyard.tracking.service import TrackingService


@dataclass(frozen=True)
class Services:
    """Every service (tracking, registry, artifacts, datasets, features, deployments) of one
    configuration."""

    settings: Settings
    tracking: TrackingService
    registry: RegistryService
    artifacts: ArtifactService
    datasets: DatasetCatalog
    features: FeatureCatalog
    deployments: DeploymentService
    gates: GateStore  # gate results of model versions
    triggers: TriggerStore  # the scheduler's jobs and triggers
    monitoring: MonitoringStore
    pipelines: PipelineRunStore | None = None  # pipeline runs and step states

    def close(self) -> None:
        closer = getattr(self.tracking, "close", None)
        if closer is not None:
            closer()


def connect(settings: Settings | None = None) -> Services:
    """Build the services for ``settings`` (default: resolved from env and shipyard.yaml)."""
    settings = settings or load_settings()
    if settings.is_remote:
        from shipyard.client.http import connect_http

        return connect_http(settings)
    return connect_local(settings)


def connect_local(settings: Settings) -> Services:
    """SQL services on the metadata database and the blob store named by ``settings``."""
    from shipyard.artifacts.blobs import BlobStore
    from shipyard.artifacts.catalog import SqlArtifacts
    from shipyard.data.datasets.sql import SqlDatasetCatalog
    from shipyard.features.sql import SqlFeatureCatalog
    from shipyard.monitoring.sql import SqlMonitoring
    from shipyard.pipelines.gates.sql import SqlGates
    from shipyard.pipelines.scheduler.sql import SqlTriggers
    from shipyard.pipelines.sql import SqlPipelineRuns
    from shipyard.registry.sql import SqlRegistry
    from shipyard.serving.deployments.sql import SqlDeployments
    from shipyard.store import Database
    from shipyard.tracking.sql import SqlTracking

    db = Database(settings.tracking_uri)
    blobs = BlobStore(settings.artifact_uri)
    return Services(
        settings=settings,
        tracking=SqlTracking(db, stale_after_s=settings.stale_after_s),
        registry=SqlRegistry(db),
        artifacts=SqlArtifacts(db, blobs),
        datasets=SqlDatasetCatalog(db),
        features=SqlFeatureCatalog(db),
        deployments=SqlDeployments(db),
        gates=SqlGates(db),
        triggers=SqlTriggers(db),
        monitoring=SqlMonitoring(db, Path(settings.home) / "predictions"),
        pipelines=SqlPipelineRuns(db, stale_after_s=settings.stale_after_s),
    )


__all__ = ["Services", "connect", "connect_local"]
