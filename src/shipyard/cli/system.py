"""Top-level commands: ``config``, ``server``, ``gc``."""

from __future__ import annotations

import typer
from rich.table import Table

from shipyard.cli._common import console, handle_errors


@handle_errors
def config() -> None:
    """Print every resolved setting and where it came from (env, file or default)."""
    from shipyard.config import load_settings

    settings = load_settings()
    table = Table(title="shipyard configuration")
    table.add_column("setting")
    table.add_column("value", overflow="fold")
    table.add_column("source")
    for name, value, source in settings.describe():
        table.add_row(name, value, source)
    console.print(table)
    if settings.config_file:
        console.print(f"config file: {settings.config_file}")


@handle_errors
def server(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(5000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Run the team server: REST API under /api/v1, /docs, /health/*, /metrics."""
    from shipyard.config import load_settings
    from shipyard.server.run import serve

    settings = load_settings()
    console.print(
        f"shipyard server on http://{host}:{port}  (metadata {settings.tracking_uri}, "
        f"artifacts {settings.artifact_uri})"
    )
    serve(settings, host=host, port=port, workers=workers)


@handle_errors
def gc(
    delete: bool = typer.Option(False, "--delete", help="Really delete (default: dry run)."),
    grace: float = typer.Option(600.0, help="Keep blobs younger than this many seconds."),
    purge_runs_older_than: float | None = typer.Option(
        None,
        "--purge-runs-older-than",
        help="Also remove, for good, runs deleted more than this many days ago.",
    ),
) -> None:
    """Remove artifact blobs no run, model or dataset refers to any more (dry run by default).

    Deleted runs keep their files until purged: add --purge-runs-older-than DAYS.
    """
    from shipyard.artifacts.blobs import BlobStore
    from shipyard.artifacts.gc import collect_garbage
    from shipyard.config import load_settings
    from shipyard.errors import ConfigError
    from shipyard.store import Database

    settings = load_settings()
    if settings.is_remote:
        raise ConfigError("run `shipyard gc` on the server's machine, against its stores")
    if purge_runs_older_than is not None:
        from shipyard.tracking.sql import SqlTracking

        purged = SqlTracking(Database(settings.tracking_uri)).purge_deleted_runs(
            older_than_s=purge_runs_older_than * 86400, dry_run=not delete
        )
        verb = "purged" if delete else "would purge"
        console.print(
            f"{verb} {len(purged)} deleted run(s): {', '.join(purged[:10])}"
            + (" …" if len(purged) > 10 else "")
        )
    report = collect_garbage(
        Database(settings.tracking_uri),
        BlobStore(settings.artifact_uri),
        dry_run=not delete,
        grace_s=grace,
    )
    verb = "would free" if not delete else "freed"
    for sha, size in report.blobs:
        console.print(f"  {'would delete' if not delete else 'deleted'} {sha[:16]}…  {size:,} B")
    console.print(
        f"{len(report.blobs)} unreferenced blob(s), {len(report.stale_temp_files)} stale temp "
        f"file(s): {verb} {report.bytes_freed:,} bytes"
        + ("" if delete else "  (dry run; pass --delete to remove them)")
    )


def register(app: typer.Typer) -> None:
    app.command()(config)
    app.command()(server)
    app.command()(gc)
