"""``shipyard features``: apply definitions, materialize, look up, push, build training sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from shipyard.cli._common import console, err_console, fmt_time, fmt_value, handle_errors

if TYPE_CHECKING:
    import pyarrow as pa

app = typer.Typer(help="Feature store: definitions, training sets, online features.")


@app.command()
@handle_errors
def apply(
    file: Path | None = typer.Argument(
        None, help="a YAML file with entities:/views:/services: (default: shipyard.yaml)"
    ),
) -> None:
    """Check definitions against their sources and record what changed as new versions."""
    from shipyard.features.fluent import apply_features

    applied = apply_features(file)
    table = Table()
    for col in ("kind", "name", "version", "status"):
        table.add_column(col)
    for a in applied:
        style = {"created": "green", "updated": "yellow"}.get(a.status, "dim")
        table.add_row(a.kind, a.name, str(a.version), f"[{style}]{a.status}[/{style}]")
    console.print(table)


@app.command("list")
@handle_errors
def list_(kind: str | None = typer.Option(None, "--kind", help="entity, view or service")) -> None:
    """List entities, feature views and feature services (newest versions)."""
    from shipyard.features.fluent import list_feature_definitions

    table = Table()
    for col in ("kind", "name", "version", "details", "by", "applied"):
        table.add_column(col)
    for d in list_feature_definitions(kind):
        table.add_row(
            d.kind, d.name, str(d.version), _details(d.kind, d.spec), d.user, fmt_time(d.created_at)
        )
    console.print(table)


def _details(kind: str, spec: Any) -> str:
    if kind == "entity":
        return "keys " + ", ".join(spec["join_keys"])
    if kind == "view":
        ttl = spec.get("ttl") or "no TTL"
        source = spec.get("source") or "push only"
        return f"{len(spec['features'])} features · {source} · ttl {ttl}"
    return f"{len(spec['features'])} refs" + (
        f" + {len(spec['transforms'])} transforms" if spec.get("transforms") else ""
    )


@app.command()
@handle_errors
def show(
    name: str,
    kind: str = typer.Option("view", "--kind", help="entity, view or service"),
) -> None:
    """One definition and its version history."""
    from shipyard.features.fluent import _services

    history = _services().features.history(kind, name)
    newest = history[0]
    console.print(
        f"[bold]{kind} {name}[/bold] v{newest.version} · by {newest.user} · "
        f"{fmt_time(newest.created_at)}"
    )
    console.print_json(json.dumps(dict(newest.spec)))
    if len(history) > 1:
        console.print(
            "history: " + ", ".join(f"v{d.version} {fmt_time(d.created_at)}" for d in history)
        )


@app.command()
@handle_errors
def materialize(
    views: list[str] = typer.Argument(None, help="views to load (default: every online view)"),
    incremental: bool = typer.Option(False, "--incremental", help="only rows since the last run"),
) -> None:
    """Load views' latest values per entity into the online store, with a progress bar."""
    from rich.progress import Progress

    from shipyard.features.fluent import materialize_features as run

    with Progress(console=err_console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(view: str, done: int, total: int) -> None:
            if view not in tasks:
                tasks[view] = bar.add_task(view, total=total or 1)
            bar.update(tasks[view], completed=done)

        results = run(views or None, incremental=incremental, progress=progress)
    for r in results:
        console.print(
            f"{r.view}: {r.rows:,} entities written to {r.state.online_store}"
            + (" (incremental)" if incremental else "")
        )


@app.command()
@handle_errors
def online(
    features: list[str] = typer.Option([], "--feature", "-f", help="view:feature, repeatable"),
    service: str | None = typer.Option(None, "--service", "-s", help="a feature service"),
    entity: list[str] = typer.Option(
        ..., "--entity", "-e", help="key=value[,key=value], repeatable"
    ),
) -> None:
    """Look up online feature values (with event times and status) for some entities."""
    from shipyard.features.fluent import get_online_features

    if bool(features) == bool(service):
        raise typer.BadParameter("give --feature (repeatable) or --service, not both")
    rows = [_entity(e) for e in entity]
    result = get_online_features(rows, service or features)
    _print_table(result)


def _entity(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"entity {text!r} must look like key=value[,key=value]")
        out[key.strip()] = int(value) if value.lstrip("-").isdigit() else value
    return out


def _print_table(result: pa.Table) -> None:
    table = Table()
    for col in result.column_names:
        table.add_column(col)
    for row in result.to_pylist():
        table.add_row(*(fmt_value(v) for v in row.values()))
    console.print(table)


@app.command()
@handle_errors
def push(
    view: str,
    file: Path = typer.Argument(..., help="rows to push: .csv, .parquet or .jsonl"),
) -> None:
    """Write fresh rows of a view to the online store now (and append them offline)."""
    from shipyard.data.sources.files import FileSource
    from shipyard.features.fluent import push_features as run

    rows = FileSource(view, str(file)).read().table
    console.print(f"pushed {run(view, rows):,} rows to {view}")


@app.command("training-set")
@handle_errors
def training_set(
    entities: Path = typer.Option(..., "--entities", help="entity rows: .csv, .parquet or .jsonl"),
    features: list[str] = typer.Option([], "--feature", "-f", help="view:feature, repeatable"),
    service: str | None = typer.Option(None, "--service", "-s", help="a feature service"),
    timestamp: str = typer.Option("event_timestamp", "--timestamp", help="event-time column"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write .parquet, .csv or .jsonl"),
    save_as: str | None = typer.Option(None, "--save-as", help="store as this dataset"),
) -> None:
    """Build a point-in-time correct training set for entity rows with event times."""
    from shipyard.data.datasets.snapshot import write_table
    from shipyard.data.sources.files import FileSource
    from shipyard.features.fluent import get_historical_features

    if bool(features) == bool(service):
        raise typer.BadParameter("give --feature (repeatable) or --service, not both")
    rows = FileSource("entities", str(entities)).read().table
    result = get_historical_features(
        rows, service or features, timestamp=timestamp, save_as=save_as
    )
    if out is not None:
        write_table(result, out)
        console.print(f"wrote {result.num_rows:,} rows, {result.num_columns} columns to {out}")
    if save_as is not None:
        console.print(f"saved as dataset {save_as} (shipyard data show {save_as})")
    if out is None and save_as is None:
        _print_table(result.slice(0, 20))


@app.command()
@handle_errors
def skew(
    view: str,
    sample: int = typer.Option(100, "--sample", help="entities to compare"),
) -> None:
    """Compare online values with a fresh offline computation; exit 1 on any mismatch."""
    from shipyard.features.fluent import feature_skew

    report = feature_skew(view, sample=sample)
    if report.ok:
        console.print(f"{view}: {report.checked:,} entities checked, online matches offline")
        return
    table = Table(
        title=f"{view}: {len(report.mismatches)} mismatches in {report.checked:,} entities"
    )
    for col in ("entity", "feature", "offline", "online", "reason"):
        table.add_column(col)
    for m in report.mismatches:
        table.add_row(
            json.dumps(m.key, default=str),
            m.feature,
            fmt_value(m.offline),
            fmt_value(m.online),
            m.reason,
        )
    console.print(table)
    raise typer.Exit(1)
