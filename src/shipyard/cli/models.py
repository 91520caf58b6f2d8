"""``shipyard models`` — the model registry. Models are named ``NAME@ALIAS`` or ``NAME/VERSION``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from shipyard.cli._common import (
    console,
    fmt_time,
    fmt_value,
    handle_errors,
    parse_pairs,
    parse_when,
    resolve_run_id,
    services,
)
from shipyard.registry.entities import ModelVersion

app = typer.Typer(
    help="Registered models, versions and aliases (NAME@ALIAS, NAME/VERSION, NAME = latest).",
    no_args_is_help=True,
)


def _resolve(ref: str, at: int | None = None) -> ModelVersion:
    from shipyard.registry.uri import parse_model_ref

    parsed = parse_model_ref(ref)
    return services().registry.resolve(
        parsed.name, version=parsed.version, alias=parsed.alias, at=at
    )


def _signature_table(spec: Any, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("column", "type", "nullable", "levels"):
        table.add_column(col, overflow="fold")
    if not isinstance(spec, dict):
        return table
    if spec.get("type") == "tensor":
        table.add_row("(tensor)", str(spec.get("dtype", "")), "", f"shape {spec.get('shape')}")
    for col in spec.get("columns") or []:
        levels = col.get("levels") or []
        shown = ", ".join(map(str, levels[:8])) + (" …" if len(levels) > 8 else "")
        table.add_row(
            str(col.get("name")), str(col.get("dtype")), "yes" if col.get("nullable") else "", shown
        )
    return table


@app.command("list")
@handle_errors
def list_() -> None:
    """List registered models with their newest version and aliases."""
    table = Table()
    for col in ("name", "latest", "aliases", "updated", "description"):
        table.add_column(col)
    for m in services().registry.list_models():
        aliases = ", ".join(f"{a}→{v}" for a, v in sorted(m.aliases.items()))
        table.add_row(
            m.name, fmt_value(m.latest_version), aliases, fmt_time(m.updated_at), m.description
        )
    console.print(table)


@app.command()
@handle_errors
def show(ref: str = typer.Argument(..., help="churn, churn@champion or churn/3")) -> None:
    """One model version: source run, flavor, signature, metrics, aliases."""
    mv = _resolve(ref)
    console.print(
        f"[bold]{mv.name}/{mv.version}[/bold]"
        + (f"  aliases: {', '.join(mv.aliases)}" if mv.aliases else "")
    )
    console.print(
        f"flavor {mv.flavor} · from {mv.source} · by {mv.user} · "
        f"{fmt_time(mv.created_at)}" + (" · DELETED" if mv.deleted else "")
    )
    if mv.description:
        console.print(mv.description)
    if mv.signature:
        console.print(_signature_table(mv.signature.get("inputs"), "signature (inputs)"))
        console.print(_signature_table(mv.signature.get("outputs"), "signature (outputs)"))
    if mv.metrics:
        table = Table(title="metrics", title_justify="left")
        table.add_column("metric")
        table.add_column("value")
        for k, v in sorted(mv.metrics.items()):
            table.add_row(k, fmt_value(v))
        console.print(table)


@app.command()
@handle_errors
def versions(name: str, deleted: bool = typer.Option(False, "--deleted")) -> None:
    """List the versions of a model, newest first."""
    table = Table(title=name)
    for col in ("version", "aliases", "flavor", "run", "created", "by"):
        table.add_column(col)
    for mv in services().registry.list_versions(name, deleted=deleted):
        table.add_row(
            str(mv.version),
            ", ".join(mv.aliases),
            mv.flavor,
            mv.run_id or "",
            fmt_time(mv.created_at),
            mv.user,
        )
    console.print(table)


@app.command()
@handle_errors
def register(
    run_id: str,
    name: str,
    path: str = typer.Option("model", "--path", help="Package folder inside the run."),
    alias: str | None = typer.Option(None, "--alias", help="Also point this alias at it."),
    description: str = typer.Option("", "--description"),
    tag: list[str] = typer.Option([], "--tag", "-t", help="key=value, repeatable."),
) -> None:
    """Register the model package logged by a run as a new version."""
    from shipyard.registry.fluent import register_model

    mv = register_model(
        name,
        run_id=resolve_run_id(run_id),
        artifact_path=path,
        alias=alias,
        description=description,
        tags=parse_pairs(tag, "tag"),
    )
    console.print(f"registered {mv.name}/{mv.version}" + (f" as @{alias}" if alias else ""))


@app.command()
@handle_errors
def update(
    ref: str = typer.Argument(..., help="churn/3, churn@champion, or churn (newest)"),
    description: str | None = typer.Option(None, "--description", "-d"),
    tag: list[str] = typer.Option([], "--tag", "-t", help="key=value, repeatable."),
    model: bool = typer.Option(False, "--model", help="Change the registered model itself."),
) -> None:
    """Change the description or set tags of a version (or, with --model, of the model)."""
    from shipyard.registry.uri import parse_model_ref

    tags = parse_pairs(tag, "tag") or None
    if description is None and tags is None:
        raise typer.BadParameter("give --description and/or --tag key=value")
    registry = services().registry
    if model:
        name = parse_model_ref(ref).name
        registry.update_model(name, description=description, tags=tags)
        console.print(f"updated model {name}")
        return
    mv = _resolve(ref)
    registry.update_version(mv.name, mv.version, description=description, tags=tags)
    console.print(f"updated {mv.name}/{mv.version}")


@app.command()
@handle_errors
def alias(
    name: str,
    alias: str,
    version: int | None = typer.Argument(None, help="Version to point at."),
    delete: bool = typer.Option(False, "--delete", help="Remove the alias."),
    require_gate: bool | None = typer.Option(
        None,
        "--require-gate/--no-require-gate",
        help="Refuse unless VERSION has a passing gate (default: registry.require_gate_for).",
    ),
) -> None:
    """Point ALIAS of NAME at VERSION (or remove it with --delete)."""
    registry = services().registry
    if delete:
        registry.delete_alias(name, alias)
        console.print(f"deleted alias {name}@{alias}")
        return
    if version is None:
        raise typer.BadParameter("give the VERSION to point the alias at, or --delete")
    from shipyard.registry.fluent import set_alias

    set_alias(name, alias, version, require_gate=require_gate)
    console.print(f"{name}@{alias} → version {version}")


@app.command()
@handle_errors
def history(
    name: str,
    alias: str | None = typer.Option(None, "--alias", "-a", help="Only this alias."),
    at: str | None = typer.Option(
        None, "--at", help="Which version the alias pointed to at this date/time (UTC)."
    ),
) -> None:
    """Every alias move (who, when, from → to); with --alias and --at, the version at a date."""
    if at is not None:
        if alias is None:
            raise typer.BadParameter("--at needs --alias, e.g. --alias champion --at 2026-11-01")
        mv = _resolve(f"{name}@{alias}", at=parse_when(at))
        console.print(f"{name}@{alias} at {at}: version {mv.version}")
        return
    table = Table(title=f"alias history of {name}")
    for col in ("when", "alias", "from", "to", "by"):
        table.add_column(col)
    for e in services().registry.alias_history(name, alias=alias):
        table.add_row(
            fmt_time(e.at),
            e.alias,
            fmt_value(e.from_version) or "-",
            fmt_value(e.to_version) or "(deleted)",
            e.user,
        )
    console.print(table)


@app.command("delete-version")
@handle_errors
def delete_version(ref: str = typer.Argument(..., help="NAME/VERSION")) -> None:
    """Delete a version (refused while an alias points at it; `restore-version` undoes it)."""
    mv = _resolve(ref)
    services().registry.delete_version(mv.name, mv.version)
    console.print(f"deleted {mv.name}/{mv.version}")


@app.command("restore-version")
@handle_errors
def restore_version(ref: str = typer.Argument(..., help="NAME/VERSION")) -> None:
    """Restore a deleted version."""
    from shipyard.registry.uri import parse_model_ref

    parsed = parse_model_ref(ref)
    if parsed.version is None:
        raise typer.BadParameter("name the version to restore as NAME/VERSION")
    services().registry.restore_version(parsed.name, parsed.version)
    console.print(f"restored {parsed.name}/{parsed.version}")


@app.command()
@handle_errors
def download(
    ref: str,
    dst: Path = typer.Option(..., "--dst", "-d", help="Destination folder (created)."),
) -> None:
    """Download a version's package (files verified against their SHA-256)."""
    from shipyard.registry.fluent import download_model

    folder = download_model(ref, dst)
    console.print(f"downloaded {ref} to {folder}")
