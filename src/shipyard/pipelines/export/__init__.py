"""Pipelines exported for the orchestrators teams already run: Kubernetes Jobs (and a CronJob
for a scheduled pipeline) and Airflow DAG files, each step calling ``shipyard run --step``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from shipyard.errors import AlreadyExists, InvalidArgument
from shipyard.pipelines.definitions import Pipeline

TARGETS = ("k8s", "airflow")


def export_pipeline(
    pipeline: str | Pipeline,
    *,
    to: str,
    out: str | Path,
    image: str = "shipyard:latest",
    env: Mapping[str, str] | None = None,
    workdir: str = "/project",
    force: bool = False,
) -> list[Path]:
    """Write ``pipeline`` (a name from ``shipyard.yaml``, or a :class:`Pipeline`) for ``to``
    (``k8s`` or ``airflow``) into the folder ``out``; returns the files written.

    ``image`` is the container image with Shipyard and the project (k8s), ``env`` the
    environment of every step (e.g. ``SHIPYARD_TRACKING_URI`` of a team server), ``workdir`` the
    folder holding ``shipyard.yaml`` where the steps run. Raises NotFound (unknown pipeline),
    InvalidArgument (unknown target; a seconds-level cron for a CronJob), AlreadyExists (``out``
    holds files and ``force`` is false).
    """
    from shipyard.pipelines.definitions import get_pipeline

    if to not in TARGETS:
        raise InvalidArgument(f"export target {to!r} is not one of {list(TARGETS)}")
    found = get_pipeline(pipeline) if isinstance(pipeline, str) else pipeline
    folder = Path(out)
    if folder.exists() and any(folder.iterdir()) and not force:
        raise AlreadyExists(f"{folder} is not empty; choose another --out or pass --force")
    folder.mkdir(parents=True, exist_ok=True)
    values = dict(env or {})
    if to == "k8s":
        from shipyard.pipelines.export.k8s import write_k8s

        return write_k8s(found, folder, image=image, env=values, workdir=workdir)
    from shipyard.pipelines.export.airflow import write_airflow

    return write_airflow(found, folder, env=values, workdir=workdir)


__all__ = ["TARGETS", "export_pipeline"]
