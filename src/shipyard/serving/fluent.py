"""The deployment SDK: record that a model version was put into service, and list them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.serving.deployments.entities import Deployment, Policy


def deploy(
    ref: str,
    *,
    name: str | None = None,
    policy: Policy | Mapping[str, Any] | None = None,
    target: str = "local",
    endpoint: str = "",
    feature_service: str | None = None,
    note: str = "",
) -> Deployment:
    """Record a deployment of the version ``ref`` names (``churn@champion``, ``churn/3``)
    under ``name`` (default: the model's name) with a traffic ``policy`` (default: single).

    The challenger of a canary, shadow or sticky policy must name an existing version too.
    Raises NotFound, InvalidArgument.
    """
    from shipyard.registry.fluent import get_model_version
    from shipyard.tracking.fluent import services

    version = get_model_version(ref)
    chosen = policy if isinstance(policy, Policy) else Policy.from_dict(policy or {})
    if chosen.challenger is not None:
        get_model_version(chosen.challenger)
    return services().deployments.record(
        name or version.name,
        model=version.name,
        version=version.version,
        ref=ref,
        policy=chosen,
        target=target,
        endpoint=endpoint,
        feature_service=feature_service,
        note=note,
    )


def list_deployments(*, name: str | None = None, model: str | None = None) -> list[Deployment]:
    """Recorded deployments, newest first."""
    from shipyard.tracking.fluent import services

    return services().deployments.list(name=name, model=model)
