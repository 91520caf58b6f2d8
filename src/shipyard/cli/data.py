"""``shipyard data``: ingest sources as dataset versions, inspect, compare and check them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from shipyard.cli._common import (
    console,
    err_console,
    fmt_time,
    fmt_value,
    handle_errors,
    parse_pairs,
    print_json,
)

if TYPE_CHECKING:
    from shipyard.data.datasets import DatasetVersion
    from shipyard.data.profile import ColumnProfile, ProfileDiff
    from shipyard.data.validation import ValidationReport

app = typer.Typer(help="Datasets: versioned snapshots of your sources, profiled and checked.")


def _size(num_bytes: int) -> str:
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(num_bytes)


def _version_dict(v: DatasetVersion, *, profile: bool) -> dict[str, Any]:
    out = {
        "name": v.name,
        "version": v.version,
        "seq": v.seq,
        "num_rows": v.num_rows,
        "num_bytes": v.num_bytes,
        "schema": dict(v.schema),
        "source": dict(v.source),
        "watermark": v.watermark,
        "parent": v.parent,
        "description": v.description,
        "tags": dict(v.tags),
        "user": v.user,
        "created_at": v.created_at,
        "uri": v.uri,
    }
    if profile:
        out["profile"] = dict(v.profile)
    return out


@app.command()
@handle_errors
def ingest(
    source: str = typer.Argument(
        ..., help="a sources: name from shipyard.yaml, or a file path, glob or URL"
    ),
    name: str | None = typer.Option(None, "--name", "-n", help="dataset name (default: source's)"),
    description: str = typer.Option("", "--description", "-d"),
    tag: list[str] = typer.Option([], "--tag", help="key=value, repeatable"),
) -> None:
    """Read SOURCE and store it as an immutable, content-hashed dataset version."""
    from shipyard.data.fluent import ingest_dataset

    with console.status(f"ingesting {source}…"):
        result = ingest_dataset(
            source, name=name, description=description, tags=parse_pairs(tag, "tag")
        )
    v = result.version
    what = "new version" if result.created else "unchanged: already stored as"
    console.print(
        f"{what} [bold]{v.ref}[/bold] (#{v.seq}) · {v.num_rows:,} rows · "
        f"{len(v.schema)} columns · {_size(v.num_bytes)} · read {result.rows_read:,} rows"
    )
    console.print(f"load it with shipyard.load_dataset({v.ref!r})", style="dim")


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List datasets with their newest version."""
    from shipyard.data.fluent import list_datasets

    found = list_datasets()
    if as_json:
        print_json(
            [
                {
                    "name": d.name,
                    "num_versions": d.num_versions,
                    "latest": d.latest.version if d.latest else None,
                    "updated_at": d.updated_at,
                }
                for d in found
            ]
        )
        return
    table = Table()
    for col in ("name", "versions", "latest", "rows", "updated"):
        table.add_column(col)
    for d in found:
        latest = d.latest
        table.add_row(
            d.name,
            str(d.num_versions),
            latest.short if latest else "",
            f"{latest.num_rows:,}" if latest else "",
            fmt_time(d.updated_at),
        )
    console.print(table)


@app.command()
@handle_errors
def versions(name: str, as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List the versions of a dataset, newest first."""
    from shipyard.data.fluent import list_dataset_versions

    found = list_dataset_versions(name)
    if as_json:
        print_json([_version_dict(v, profile=False) for v in found])
        return
    table = Table(title=name)
    for col in ("#", "version", "rows", "columns", "size", "source", "created", "by"):
        table.add_column(col)
    for v in found:
        table.add_row(
            str(v.seq),
            v.short,
            f"{v.num_rows:,}",
            str(len(v.schema)),
            _size(v.num_bytes),
            str(v.source.get("type", "")),
            fmt_time(v.created_at),
            v.user,
        )
    console.print(table)


@app.command()
@handle_errors
def show(
    ref: str = typer.Argument(..., help="NAME (newest), NAME@VERSION or NAME@#N"),
    as_json: bool = typer.Option(False, "--json", help="print JSON, profile included"),
) -> None:
    """One version: where it came from, its schema and its column profile."""
    from shipyard.data.fluent import get_dataset

    v = get_dataset(ref)
    if as_json:
        print_json(_version_dict(v, profile=True))
        return
    console.print(f"[bold]{v.name}@{v.version}[/bold] (#{v.seq})")
    console.print(
        f"{v.num_rows:,} rows · {len(v.schema)} columns · {_size(v.num_bytes)} · by {v.user} · "
        f"{fmt_time(v.created_at)}"
    )
    console.print(f"source: {json.dumps(dict(v.source), default=str)}")
    if v.watermark is not None:
        console.print(
            f"watermark: {v.watermark}" + (f" · appended to {v.parent[:12]}" if v.parent else "")
        )
    if v.description:
        console.print(v.description)
    for key, value in sorted(v.tags.items()):
        console.print(f"tag {key} = {value}")
    console.print(_profile_table(v))


def _profile_table(v: DatasetVersion) -> Table:
    table = Table(title="profile", title_justify="left")
    for col in ("column", "type", "nulls", "distinct", "min", "max", "mean", "top / quantiles"):
        table.add_column(col, overflow="fold")
    for c in v.table_profile().columns:
        table.add_row(
            c.name,
            c.type,
            f"{c.null_count:,} ({c.null_fraction:.1%})",
            fmt_value(c.distinct_count),
            _short(c.min),
            _short(c.max),
            fmt_value(c.mean),
            _detail(c),
        )
    return table


def _short(value: Any) -> str:
    text = fmt_value(value)
    return text if len(text) <= 24 else text[:23] + "…"


def _detail(c: ColumnProfile) -> str:
    if c.top:
        return ", ".join(f"{k} ({n:,})" for k, n in list(c.top.items())[:3])
    if c.quantiles:
        wanted = ("0.25", "0.5", "0.75")
        return " ".join(f"q{k}={fmt_value(c.quantiles[k])}" for k in wanted if k in c.quantiles)
    return ""


@app.command()
@handle_errors
def diff(
    old: str = typer.Argument(..., help="NAME@VERSION (the baseline)"),
    new: str | None = typer.Argument(None, help="NAME@VERSION (default: the newest of OLD's)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Schema changes, row-count and distribution changes between two versions."""
    from shipyard.data.datasets import parse_dataset_ref
    from shipyard.data.fluent import diff_datasets

    result = diff_datasets(old, new or parse_dataset_ref(old)[0])
    if as_json:
        print_json(result.to_dict())
        return
    _print_diff(result)


def _print_diff(d: ProfileDiff) -> None:
    sign = "+" if d.row_count_delta >= 0 else ""
    console.print(f"rows: {d.old_num_rows:,} → {d.new_num_rows:,} ({sign}{d.row_count_delta:,})")
    if d.added_columns:
        console.print(f"[green]added columns:[/green] {', '.join(d.added_columns)}")
    if d.removed_columns:
        console.print(f"[red]removed columns:[/red] {', '.join(d.removed_columns)}")
    for t in d.type_changes:
        console.print(f"[yellow]type change:[/yellow] {t.name}: {t.old_type} → {t.new_type}")
    table = Table(title="columns", title_justify="left")
    for col in ("column", "null share Δ", "mean shift (std)", "PSI", "drifted"):
        table.add_column(col)
    for c in d.columns:
        table.add_row(
            c.name,
            f"{c.null_fraction_delta:+.2%}",
            fmt_value(c.mean_delta_std),
            fmt_value(c.psi),
            "[red]yes[/red]" if c.drifted else "",
        )
    console.print(table)


@app.command()
@handle_errors
def check(
    ref: str = typer.Argument(..., help="NAME (newest), NAME@VERSION or NAME@#N"),
    suite: Path = typer.Option(..., "--suite", "-s", help="the suite's YAML file"),
    report_dir: Path = typer.Option(
        Path("reports"), "--report-dir", help="where the JSON and HTML reports are written"
    ),
    against: str | None = typer.Option(
        None, "--against", help="reference version for distribution rules (default: previous)"
    ),
    quarantine: bool = typer.Option(
        True, "--quarantine/--no-quarantine", help="store failing rows as NAME-quarantine"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the JSON report"),
) -> None:
    """Validate a dataset version with a suite; exit 1 when an error-level rule fails."""
    from shipyard.data.fluent import check_dataset
    from shipyard.data.validation import write_reports

    result = check_dataset(ref, suite, against=against, quarantine=quarantine)
    v, report = result.version, result.report
    stem = f"{v.name}-{v.short}-{report.suite}"
    json_path, html_path = write_reports(
        report, report_dir / stem, dataset=v.ref, profile=v.table_profile()
    )
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(_report_table(report, v.ref))
    err_console.print(f"reports: {json_path} · {html_path}")
    if result.quarantine is not None:
        q = result.quarantine
        err_console.print(f"{q.num_rows:,} failing rows quarantined as {q.ref}")
    if not report.passed:
        for r in report.failed:
            if r.severity == "error":
                err_console.print(
                    f"[red]failed:[/red] {r.name} ({r.type}): {r.failed_count:,} of "
                    f"{r.total:,} — {r.message}"
                )
                for row in r.examples[:3]:
                    err_console.print(f"    e.g. {json.dumps(row, default=str)}", soft_wrap=True)
        raise typer.Exit(1)


def _report_table(report: ValidationReport, title: str) -> Table:
    table = Table(title=f"{title} · suite {report.suite} · {report.num_rows:,} rows")
    for col in ("rule", "type", "severity", "status", "failed", "message"):
        table.add_column(col)
    for r in report.results:
        status = (
            "[green]pass[/green]"
            if r.passed
            else ("[red]FAIL[/red]" if r.severity == "error" else "[yellow]warn[/yellow]")
        )
        failed = "" if r.passed else f"{r.failed_count:,}/{r.total:,}"
        table.add_row(r.name, r.type, r.severity, status, failed, r.message)
    return table


@app.command()
@handle_errors
def suggest(
    ref: str = typer.Argument(..., help="NAME (newest), NAME@VERSION or NAME@#N"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write the YAML here"),
    name: str | None = typer.Option(None, "--name", help="the suite's name (default: dataset's)"),
) -> None:
    """Draft a validation suite from a version's profile (review it before relying on it)."""
    from shipyard.data.fluent import get_dataset
    from shipyard.data.validation import suggest_suite, suite_to_yaml

    v = get_dataset(ref)
    text = suite_to_yaml(suggest_suite(v.table_profile(), name=name or v.name))
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    err_console.print(f"drafted {out} from {v.ref}")


@app.command()
@handle_errors
def export(
    ref: str = typer.Argument(..., help="NAME (newest), NAME@VERSION or NAME@#N"),
    out: Path = typer.Argument(..., help="a .parquet, .csv or .jsonl file"),
) -> None:
    """Write a version's rows to a Parquet, CSV or JSON Lines file."""
    from shipyard.data.datasets.snapshot import write_table
    from shipyard.data.fluent import dataset_store

    table, v = dataset_store().load(ref)
    write_table(table, out)
    console.print(f"wrote {v.num_rows:,} rows of {v.ref} to {out}")


@app.command()
@handle_errors
def delete(ref: str = typer.Argument(..., help="NAME@VERSION")) -> None:
    """Forget one dataset version (its blobs go at the next `shipyard gc`)."""
    from shipyard.data.datasets import parse_dataset_ref
    from shipyard.data.fluent import dataset_store

    name, version = parse_dataset_ref(ref)
    if version is None:
        raise typer.BadParameter("name the version to delete: NAME@VERSION")
    store = dataset_store()
    found = store.catalog.get_version(name, version)
    store.catalog.delete_version(name, found.version)
    console.print(f"deleted {found.ref}")
