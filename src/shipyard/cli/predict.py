"""``shipyard predict`` (batch prediction) and ``shipyard predictions`` (the prediction log)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from shipyard.cli._common import console, err_console, fmt_value, handle_errors

if TYPE_CHECKING:
    import pyarrow as pa

predictions_app = typer.Typer(
    help="The prediction log (Parquet under SHIPYARD_HOME/predictions): show, compact, prune.",
    no_args_is_help=True,
)

ROOT_HELP = "Prediction log folder (default: SHIPYARD_HOME/predictions)."
SHOWN_FIRST = ("ts", "version", "prediction_id", "latency_ms", "status")


def register(app: typer.Typer) -> None:
    """Add ``predict`` and the ``predictions`` group to the ``shipyard`` app."""
    app.command("predict")(predict)
    app.add_typer(predictions_app, name="predictions")


@handle_errors
def predict(
    ref: str = typer.Argument(..., help="The model: NAME@ALIAS, NAME/VERSION or NAME (newest)."),
    input_url: str = typer.Option(
        ..., "--input", "-i", help="CSV (.csv, .csv.gz) or Parquet file: a path or fsspec URL."
    ),
    output_url: str = typer.Option(
        ..., "--output", "-o", help="Where to write: .csv or .parquet, a path or fsspec URL."
    ),
    key: list[str] = typer.Option(
        [],
        "--key",
        "-k",
        help="Input column(s) to keep beside each prediction (repeat or comma-separate); "
        "default: every input column.",
    ),
    chunk_rows: int | None = typer.Option(
        None, "--chunk-rows", min=1, help="Rows per chunk (default 100,000)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Threads predicting at once (default: CPU count)."
    ),
    executor: str | None = typer.Option(
        None,
        "--executor",
        "-e",
        help="Predict the chunks on an executor: local, local:N, dask://host:port, dask://local.",
    ),
) -> None:
    """Predict over a file of any size, streamed in chunks, in parallel, with progress.

    Each output row keeps its key column(s), the prediction, proba_<class> for classifiers,
    model_version and a unique prediction_id. The output appears only when the run succeeds.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from shipyard.serving.batch import predict_batch

    keys = [k.strip() for item in key for k in item.split(",") if k.strip()]
    options: dict[str, Any] = {"key": keys or None, "workers": workers, "executor": executor}
    if chunk_rows is not None:
        options["chunk_rows"] = chunk_rows
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(f"predicting with {ref}", total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        result = predict_batch(ref, input_url, output_url, progress=advance, **options)
    rate = result.rows / result.seconds if result.seconds else 0.0
    console.print(
        f"wrote {result.rows:,} predictions of {result.model}/{result.version} to "
        f"{result.output} in {result.seconds:.1f} s ({rate:,.0f} rows/s, {result.chunks} chunks)"
    )


def _root(root: Path | None) -> Path:
    from shipyard.serving.predictions import default_root

    return root if root is not None else default_root()


@predictions_app.command("show")
@handle_errors
def show(
    model: str = typer.Argument(..., help="Model name."),
    version: int | None = typer.Option(None, "--version", "-v", help="Only this version."),
    since: str | None = typer.Option(
        None, "--since", help="From this date/time (ISO 8601, UTC), e.g. 2026-11-01."
    ),
    until: str | None = typer.Option(None, "--until", help="Before this date/time."),
    limit: int = typer.Option(20, "--limit", "-n", min=0, help="Newest rows to print."),
    root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
) -> None:
    """Logged predictions of MODEL: counts, latency and the newest rows."""
    import pyarrow.compute as pc

    from shipyard.serving.predictions import read_predictions

    folder = _root(root)
    table = read_predictions(folder, model, version=version, since=since, until=until)
    if table.num_rows == 0:
        console.print(f"no predictions logged for {model!r} in that range (under {folder})")
        return
    latency = table.column("latency_ms")
    p50, p95 = pc.quantile(latency, q=[0.5, 0.95]).to_pylist()
    versions = sorted(set(table.column("version").to_pylist()))
    console.print(
        f"{table.num_rows:,} predictions of {model} (versions {versions}) from "
        f"{table.column('ts')[0]} to {table.column('ts')[-1]}; latency p50 {p50:.2f} ms, "
        f"p95 {p95:.2f} ms"
    )
    if limit:
        console.print(_rows_table(table.slice(max(0, table.num_rows - limit))))


def _rows_table(rows: pa.Table) -> Table:
    names = [*SHOWN_FIRST, *(n for n in rows.column_names if n not in (*SHOWN_FIRST, "model"))]
    out = Table()
    for name in names:
        out.add_column(name, overflow="fold")
    for record in rows.select(names).to_pylist():
        out.add_row(*(fmt_value(record[n]) for n in names))
    return out


@predictions_app.command("compact")
@handle_errors
def compact(
    today: bool = typer.Option(False, "--today", help="Also compact today's (open) partition."),
    model: str | None = typer.Option(None, "--model", help="Only this model."),
    root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
) -> None:
    """Merge each day's small files into one per model version (safe while serving)."""
    from shipyard.serving.predictions import compact as run_compact

    report = run_compact(_root(root), model=model, include_today=today)
    console.print(
        f"compacted {report.partitions} day partition(s): {report.files_merged} file(s) merged "
        f"into {report.partitions} ({report.rows:,} rows), {report.files_removed} removed"
    )
    if report.failed:
        err_console.print(
            f"[yellow]warning:[/yellow] {report.failed} partition(s) could not be compacted "
            "and were left as they were (the reason is in the log above)"
        )


@predictions_app.command("prune")
@handle_errors
def prune(
    days: int = typer.Option(30, "--days", min=0, help="Keep today and this many days before."),
    model: str | None = typer.Option(None, "--model", help="Only this model."),
    root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
) -> None:
    """Delete day partitions older than --days (retention)."""
    from shipyard.serving.predictions import apply_retention

    removed = apply_retention(_root(root), days, model=model)
    console.print(f"removed {len(removed)} day partition(s) older than {days} day(s)")
    for name in removed:
        console.print(f"  {name}")
