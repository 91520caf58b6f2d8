"""``shipyard experiments`` — create, list, rename, delete, restore."""

from __future__ import annotations

import typer
from rich.table import Table

from shipyard.cli._common import console, fmt_time, handle_errors, parse_pairs, services

app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)


def _id(ref: str) -> int:
    return services().tracking.get_experiment(int(ref) if ref.isdigit() else ref).experiment_id


@app.command()
@handle_errors
def create(
    name: str,
    tag: list[str] = typer.Option([], "--tag", "-t", help="key=value, repeatable."),
) -> None:
    """Create an experiment."""
    exp = services().tracking.create_experiment(name, tags=parse_pairs(tag, "tag"))
    console.print(f"created experiment {exp.name!r} (id {exp.experiment_id})")


@app.command("list")
@handle_errors
def list_(deleted: bool = typer.Option(False, "--deleted", help="Show deleted ones.")) -> None:
    """List experiments."""
    table = Table()
    for col in ("id", "name", "created", "tags"):
        table.add_column(col)
    for e in services().tracking.list_experiments(deleted=deleted):
        tags = ", ".join(f"{k}={v}" for k, v in e.tags.items())
        table.add_row(str(e.experiment_id), e.name, fmt_time(e.created_at), tags)
    console.print(table)


@app.command()
@handle_errors
def rename(experiment: str, new_name: str) -> None:
    """Rename an experiment (by id or name)."""
    exp = services().tracking.rename_experiment(_id(experiment), new_name)
    console.print(f"renamed experiment {exp.experiment_id} to {exp.name!r}")


@app.command()
@handle_errors
def delete(experiment: str) -> None:
    """Delete an experiment (restorable with `restore`)."""
    exp_id = _id(experiment)
    services().tracking.delete_experiment(exp_id)
    console.print(f"deleted experiment {exp_id}; `shipyard experiments restore {exp_id}` undoes it")


@app.command()
@handle_errors
def restore(experiment: str) -> None:
    """Restore a deleted experiment."""
    exp_id = _id(experiment)
    services().tracking.restore_experiment(exp_id)
    console.print(f"restored experiment {exp_id}")
