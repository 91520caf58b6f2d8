"""Deployments: the record of every model version put into service, with its traffic policy."""

from shipyard.serving.deployments.entities import Deployment, Policy
from shipyard.serving.deployments.service import DeploymentService

__all__ = ["Deployment", "DeploymentService", "Policy"]
