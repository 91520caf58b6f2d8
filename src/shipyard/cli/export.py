"""``shipyard pipeline export``: Kubernetes Jobs or an Airflow DAG of a pipeline."""

from __future__ import annotations

from pathlib import Path

import typer

from shipyard.cli._common import console, handle_errors, parse_pairs


def export(
    pipeline: str = typer.Argument(..., help="a pipeline of shipyard.yaml"),
    to: str = typer.Option(..., "--to", help="k8s or airflow"),
    out: Path = typer.Option(..., "--out", "-o", help="folder to write into"),
    image: str = typer.Option("shipyard:latest", "--image", help="image with Shipyard (k8s)"),
    env: list[str] = typer.Option([], "--env", "-e", help="KEY=VALUE for every step"),
    workdir: str = typer.Option("/project", "--workdir", help="folder of shipyard.yaml"),
    force: bool = typer.Option(False, "--force", help="write into a folder that has files"),
) -> None:
    """Write one Kubernetes Job per step (and a CronJob for a scheduled pipeline) or an Airflow
    DAG whose tasks call `shipyard run PIPELINE --step STEP`, upstream steps first."""
    from shipyard.pipelines.export import export_pipeline

    written = export_pipeline(
        pipeline,
        to=to,
        out=out,
        image=image,
        env=parse_pairs(env, "--env"),
        workdir=workdir,
        force=force,
    )
    for path in written:
        console.print(f"wrote {path}")


def register(pipeline_app: typer.Typer) -> None:
    """Add ``export`` to the ``pipeline`` group."""
    pipeline_app.command("export")(handle_errors(export))
