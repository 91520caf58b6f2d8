"""HTTP clients of a Shipyard team server, implementing the service Protocols.

``connect_http(settings)`` returns :class:`~shipyard.client.Services` whose tracking, registry,
artifact and dataset services send every call to ``settings.tracking_uri`` over one keep-alive
``httpx.Client``; a program behaves the same as with a local store:

* an error the server answers with (``{"error": {"code": …, "message": …}}``) is raised again
  as the same class (``NotFound``, ``Conflict``, ``FilterSyntaxError`` …);
* a server that cannot be reached raises ``StoreUnavailable`` naming the URL;
* connection failures, and 502/503/504 answers to calls that are safe to repeat, are retried a
  couple of times with backoff;
* metric batches larger than the server takes in one request are split;
* files stream from disk on upload (with their SHA-256, which the server checks) and to a
  temporary file on download, verified against the server's ``X-Shipyard-SHA256`` before
  being renamed into place.

Differences from a local store: a folder upload or a split metric batch is several requests,
so a failure part-way leaves what was already sent; artifact owners must be ``run:<id>``,
``model:<name>/<version>`` or ``dataset:<name>@<version>``.
"""

from __future__ import annotations

from shipyard.client import Services
from shipyard.client.http._transport import HttpTransport
from shipyard.client.http.artifacts import HttpArtifacts
from shipyard.client.http.datasets import HttpDatasetCatalog
from shipyard.client.http.deployments import HttpDeployments
from shipyard.client.http.features import HttpFeatureCatalog
from shipyard.client.http.gates import HttpGates, HttpTriggers
from shipyard.client.http.monitoring import HttpMonitoring
from shipyard.client.http.pipelines import HttpPipelineRuns
from shipyard.client.http.registry import HttpRegistry
from shipyard.client.http.tracking import HttpTracking
from shipyard.config import Settings


def connect_http(settings: Settings) -> Services:
    """HTTP services for the team server at ``settings.tracking_uri``.

    Nothing is sent until the first call. Raises ConfigError for a URI that is not http(s).
    """
    from shipyard.errors import ConfigError

    if not settings.is_remote:
        raise ConfigError(
            f"connect_http needs an http(s):// tracking URI, got {settings.tracking_uri!r}"
        )
    transport = HttpTransport(settings.tracking_uri, token=settings.token)
    return Services(
        settings=settings,
        tracking=HttpTracking(transport),
        registry=HttpRegistry(transport),
        artifacts=HttpArtifacts(transport),
        datasets=HttpDatasetCatalog(transport),
        features=HttpFeatureCatalog(transport),
        deployments=HttpDeployments(transport),
        pipelines=HttpPipelineRuns(transport),
        monitoring=HttpMonitoring(transport),
        gates=HttpGates(transport),
        triggers=HttpTriggers(transport),
    )


__all__ = [
    "HttpArtifacts",
    "HttpDatasetCatalog",
    "HttpDeployments",
    "HttpFeatureCatalog",
    "HttpGates",
    "HttpMonitoring",
    "HttpPipelineRuns",
    "HttpRegistry",
    "HttpTracking",
    "HttpTransport",
    "HttpTriggers",
    "connect_http",
]
