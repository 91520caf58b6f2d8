"""``shipyard`` — the entry point. Command groups load their heavy imports lazily."""

from __future__ import annotations

import typer

from shipyard import __version__
from shipyard.cli import (
    artifacts,
    cards,
    data,
    db,
    deploy_files,
    deployments,
    drift,
    experiments,
    export,
    features,
    gate,
    models,
    monitor,
    pipelines,
    predict,
    runs,
    scheduler,
    serve,
    system,
)

app = typer.Typer(
    name="shipyard",
    help="Shipyard: track, version, serve and watch ML models — one tool, one store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.add_typer(artifacts.app, name="artifacts")
app.add_typer(models.app, name="models")
app.add_typer(data.app, name="data")
app.add_typer(features.app, name="features")
app.add_typer(db.app, name="db")
system.register(app)
deployments.register(app)
serve.register(app)
deploy_files.register(app)
predict.register(app)
drift.register(app)
pipelines.register(app)
export.register(pipelines.app)
gate.register(app)
scheduler.register(app)
cards.register(models.app)
monitor.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shipyard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Shipyard: track, version, serve and watch ML models."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
