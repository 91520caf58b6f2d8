"""``shipyard artifacts`` — list and download the files of a run."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from shipyard.cli._common import console, handle_errors, resolve_run_id, services

app = typer.Typer(help="Artifacts: files stored with a run.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_(
    run_id: str,
    path: str = typer.Argument("", help="Folder inside the run's artifacts."),
    recursive: bool = typer.Option(False, "--recursive", "-r"),
) -> None:
    """List a run's artifacts."""
    from shipyard.artifacts.owners import run_owner

    table = Table()
    for col in ("path", "size", "sha256"):
        table.add_column(col)
    for info in services().artifacts.list(
        run_owner(resolve_run_id(run_id)), path, recursive=recursive
    ):
        shown = info.path + ("/" if info.is_dir else "")
        size = f"{info.size:,}" if info.size is not None else ""
        table.add_row(shown, size, (info.sha256 or "")[:16])
    console.print(table)


@app.command()
@handle_errors
def download(
    run_id: str,
    path: str = typer.Argument("", help="File or folder; empty for everything."),
    dst: Path = typer.Option(Path("."), "--dst", "-d", help="Destination folder."),
) -> None:
    """Download a run's artifact file or folder (every SHA-256 verified)."""
    from shipyard.artifacts.owners import run_owner

    dst.mkdir(parents=True, exist_ok=True)
    local = services().artifacts.download(run_owner(resolve_run_id(run_id)), path, dst)
    console.print(f"downloaded to {local}")
