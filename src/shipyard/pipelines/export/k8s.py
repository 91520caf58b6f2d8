"""Kubernetes manifests of a pipeline: one Job per step calling ``shipyard run PIPELINE --step
S``, its upstream steps in the ``shipyard.dev/upstream`` annotation; for a scheduled pipeline a
CronJob that runs the whole pipeline on its cron (every edge in ``shipyard.dev/edges``); and
``run.sh``, which applies the Jobs in DAG order, each after its upstream Jobs complete."""

from __future__ import annotations

import hashlib
import json
import math
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidArgument
from shipyard.pipelines.definitions import Pipeline, StepDef
from shipyard.serving.build import k8s_name, label_value

UPSTREAM = "shipyard.dev/upstream"
EDGES = "shipyard.dev/edges"
STEP = "shipyard.dev/step"
PIPELINE = "shipyard.dev/pipeline"
TTL_S = 86400


def job_names(pipeline: Pipeline) -> dict[str, str]:
    """Each step's Job name: a DNS-1123 label, unique within the pipeline."""
    names: dict[str, str] = {}
    for step in pipeline.step_names:
        name = k8s_name(f"{pipeline.name}-{step}")
        if name in names.values():
            digest = hashlib.sha256(step.encode()).hexdigest()[:8]
            name = f"{name[:54].rstrip('-')}-{digest}"
        names[step] = name
    return names


def step_command(pipeline: str, step: str | None) -> list[str]:
    """``shipyard run PIPELINE [--step S]``."""
    return ["shipyard", "run", pipeline, *(["--step", step] if step else [])]


def _labels(pipeline: Pipeline, step: str | None) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/name": "shipyard-pipeline",
        "app.kubernetes.io/managed-by": "shipyard",
        PIPELINE: label_value(pipeline.name),
    }
    if step is not None:
        labels[STEP] = label_value(step)
    return labels


def _container(
    pipeline: Pipeline, step: str | None, image: str, env: Mapping[str, str], workdir: str
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "step" if step else "pipeline",
        "image": image,
        "command": step_command(pipeline.name, step),
        "workingDir": workdir,
    }
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    return container


def _pod(container: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels},
        "spec": {"restartPolicy": "Never", "containers": [container]},
    }


def job(
    pipeline: Pipeline,
    step: StepDef,
    name: str,
    *,
    image: str,
    env: Mapping[str, str],
    workdir: str,
) -> dict[str, Any]:
    """The Job of one step."""
    labels = _labels(pipeline, step.name)
    spec: dict[str, Any] = {
        "backoffLimit": step.retries,
        "ttlSecondsAfterFinished": TTL_S,
        "template": _pod(_container(pipeline, step.name, image, env, workdir), labels),
    }
    if step.timeout_s is not None:
        spec["activeDeadlineSeconds"] = max(1, math.ceil(step.timeout_s * (step.retries + 1)))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                PIPELINE: pipeline.name,
                STEP: step.name,
                UPSTREAM: json.dumps(list(pipeline.upstream[step.name])),
            },
        },
        "spec": spec,
    }


def cron_job(
    pipeline: Pipeline, schedule: str, *, image: str, env: Mapping[str, str], workdir: str
) -> dict[str, Any]:
    """A CronJob running the whole pipeline on ``schedule`` (5-field cron)."""
    if len(schedule.split()) != 5:
        raise InvalidArgument(
            f"pipeline {pipeline.name!r} is scheduled {schedule!r}; a Kubernetes CronJob takes "
            "a 5-field cron expression (minute hour day month weekday), without seconds"
        )
    labels = _labels(pipeline, None)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": k8s_name(pipeline.name),
            "labels": labels,
            "annotations": {
                PIPELINE: pipeline.name,
                EDGES: json.dumps([list(e) for e in pipeline.edges()]),
            },
        },
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    "backoffLimit": 0,
                    "ttlSecondsAfterFinished": TTL_S,
                    "template": _pod(_container(pipeline, None, image, env, workdir), labels),
                },
            },
        },
    }


def run_script(pipeline: Pipeline, names: Mapping[str, str], files: Mapping[str, str]) -> str:
    """A shell script applying each Job after its upstream Jobs completed (DAG order)."""
    lines = [
        "#!/usr/bin/env sh",
        f"# Runs pipeline {pipeline.name} on Kubernetes, one Job per step, in DAG order.",
        "# Generated by `shipyard pipeline export --to k8s`. Needs kubectl and a namespace.",
        "set -eu",
        'NS="${NAMESPACE:-default}"',
        'TIMEOUT="${STEP_TIMEOUT:-24h}"',
    ]
    for step in pipeline.order:
        for up in pipeline.upstream[step]:
            lines.append(
                f'kubectl -n "$NS" wait --for=condition=complete --timeout="$TIMEOUT" '
                f"job/{names[up]}"
            )
        lines.append(f'kubectl -n "$NS" apply -f {shlex.quote(files[step])}')
    last = [s for s in pipeline.order if not pipeline.downstream(s)]
    for step in last:
        lines.append(
            f'kubectl -n "$NS" wait --for=condition=complete --timeout="$TIMEOUT" job/{names[step]}'
        )
    return "\n".join(lines) + "\n"


def write_k8s(
    pipeline: Pipeline,
    out: Path,
    *,
    image: str,
    env: Mapping[str, str],
    workdir: str,
) -> list[Path]:
    """Write the manifests and ``run.sh`` into ``out``; returns the files written."""
    import yaml

    names = job_names(pipeline)
    docs: dict[str, dict[str, Any]] = {
        f"job-{names[s.name]}.yaml": job(
            pipeline, s, names[s.name], image=image, env=env, workdir=workdir
        )
        for s in pipeline.steps
    }
    schedule = pipeline.extra.get("schedule")
    if schedule:
        docs["cronjob.yaml"] = cron_job(
            pipeline, str(schedule), image=image, env=env, workdir=workdir
        )
    written = []
    for file, doc in docs.items():
        path = out / file
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        written.append(path)
    files = {s: f"job-{names[s]}.yaml" for s in pipeline.step_names}
    script = out / "run.sh"
    script.write_text(run_script(pipeline, names, files))
    script.chmod(0o755)
    return [*written, script]
