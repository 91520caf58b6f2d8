"""``shipyard runs`` — list, show, compare, delete, restore runs; metric history."""

from __future__ import annotations

import math
import re

import typer
from rich.table import Table

from shipyard.cli._common import (
    console,
    fmt_time,
    fmt_value,
    handle_errors,
    resolve_run_id,
    services,
)
from shipyard.tracking.entities import Run

app = typer.Typer(
    help="Runs: one execution of training code, with its params and metrics.", no_args_is_help=True
)

LOWER_IS_BETTER = re.compile(r"(loss|error|mse|mae|rmse|mape|time|latency|brier)", re.I)


def _experiment_ids(experiment: list[str]) -> list[int]:
    tracking = services().tracking
    if not experiment:
        return [e.experiment_id for e in tracking.list_experiments()]
    return [tracking.get_experiment(int(e) if e.isdigit() else e).experiment_id for e in experiment]


def _short(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _duration(run: Run) -> str:
    if run.end_time is None:
        return ""
    return f"{(run.end_time - run.start_time) / 1000:.1f}s"


@app.command("list")
@handle_errors
def list_(
    experiment: list[str] = typer.Option([], "--experiment", "-e", help="Name or id; repeatable."),
    filter: str = typer.Option("", "--filter", "-f", help='e.g. "metrics.auc > 0.8".'),
    order_by: list[str] = typer.Option([], "--order-by", "-o", help='e.g. "metrics.auc DESC".'),
    max_results: int = typer.Option(50, "--max-results", "-n", min=1),
    deleted: bool = typer.Option(False, "--deleted", help="Show deleted runs."),
    metrics: int = typer.Option(3, help="How many metric columns to show."),
) -> None:
    """List runs, newest first, with a few metrics (ids shortened: any unique prefix works)."""
    page = services().tracking.search_runs(
        _experiment_ids(experiment),
        filter=filter,
        order_by=order_by,
        max_results=max_results,
        deleted=deleted,
    )
    keys: list[str] = []
    for run in page.runs:
        keys.extend(k for k in run.metrics if k not in keys)
    keys = keys[:metrics]
    table = Table()
    for col in ("run", "name", "status", "started", "duration", *keys):
        table.add_column(col, no_wrap=col in ("run", "status", "started"), overflow="fold")
    for run in page.runs:
        table.add_row(
            run.run_id[:8],
            run.name,
            run.status.value,
            fmt_time(run.start_time)[5:16],
            _duration(run),
            *(_short(run.metrics.get(k)) for k in keys),
        )
    console.print(table)
    if page.next_page_token:
        console.print(f"(more runs: raise --max-results above {max_results})")


@app.command()
@handle_errors
def show(run_id: str) -> None:
    """Everything about one run: info, params, metrics, tags, inputs, artifacts."""
    from shipyard.artifacts.owners import run_owner

    s = services()
    run = s.tracking.get_run(resolve_run_id(run_id))
    exp = s.tracking.get_experiment(run.experiment_id)
    console.print(f"[bold]{run.name}[/bold]  {run.run_id}")
    console.print(
        f"experiment {exp.name!r} · {run.status.value} · user {run.user} · started "
        f"{fmt_time(run.start_time)} · ended {fmt_time(run.end_time) or '-'}"
        + (f" · parent {run.parent_run_id}" if run.parent_run_id else "")
        + (" · DELETED" if run.deleted else "")
    )
    for title, items in (
        ("params", run.params),
        ("metrics", run.metrics),
        ("tags", {k: v for k, v in run.tags.items() if not k.startswith("shipyard.")}),
        (
            "recorded automatically",
            {k: v for k, v in run.tags.items() if k.startswith("shipyard.")},
        ),
    ):
        if not items:
            continue
        table = Table(title=title, title_justify="left")
        table.add_column("key")
        table.add_column("value", overflow="fold")
        for k, v in sorted(items.items()):
            table.add_row(k, fmt_value(v))
        console.print(table)
    if run.inputs:
        table = Table(title="inputs", title_justify="left")
        for col in ("name", "context", "rows", "digest", "source"):
            table.add_column(col, overflow="fold")
        for i in run.inputs:
            table.add_row(i.name, i.context, fmt_value(i.num_rows), i.digest[:16], i.source)
        console.print(table)
    files = s.artifacts.list(run_owner(run.run_id), "", recursive=True)
    if files:
        table = Table(title="artifacts", title_justify="left")
        table.add_column("path")
        table.add_column("size", justify="right")
        for f in files:
            table.add_row(f.path, f"{f.size:,}" if f.size is not None else "")
        console.print(table)


def _best(key: str, values: list[float | None], minimize: set[str]) -> float | None:
    numbers = [v for v in values if v is not None and not math.isnan(v)]
    if not numbers:
        return None
    lower = key in minimize or bool(LOWER_IS_BETTER.search(key))
    return min(numbers) if lower else max(numbers)


@app.command()
@handle_errors
def compare(
    run_ids: list[str] = typer.Argument(..., help="Two or more run ids."),
    minimize: list[str] = typer.Option(
        [], "--minimize", help="Metric where lower is better (loss/error/… are guessed)."
    ),
) -> None:
    """Params and metrics side by side; the best value of each metric is marked ★."""
    if len(run_ids) < 2:
        raise typer.BadParameter("give at least two run ids to compare")
    tracking = services().tracking
    runs = [tracking.get_run(resolve_run_id(r)) for r in run_ids]
    table = Table(title="run comparison")
    table.add_column("")
    for run in runs:
        table.add_column(f"{run.name}\n{run.run_id[:8]}")
    params = sorted({k for r in runs for k in r.params})
    for key in params:
        texts = [r.params.get(key) for r in runs]
        style = "" if len(set(texts)) == 1 else "yellow"
        table.add_row(f"params.{key}", *(fmt_value(t) for t in texts), style=style)
    table.add_section()
    for key in sorted({k for r in runs for k in r.metrics}):
        values = [r.metrics.get(key) for r in runs]
        best = _best(key, values, set(minimize))
        cells = [
            f"[bold green]{fmt_value(v)} ★[/bold green]"
            if v is not None and v == best
            else fmt_value(v)
            for v in values
        ]
        table.add_row(f"metrics.{key}", *cells)
    console.print(table)


@app.command()
@handle_errors
def history(run_id: str, key: str) -> None:
    """Every point of one metric of a run."""
    table = Table(title=f"{key} of {run_id}")
    for col in ("step", "value", "time"):
        table.add_column(col)
    for m in services().tracking.get_metric_history(resolve_run_id(run_id), key):
        table.add_row(str(m.step), fmt_value(m.value), fmt_time(m.timestamp))
    console.print(table)


@app.command()
@handle_errors
def delete(run_id: str) -> None:
    """Delete a run (hidden from searches; `restore` brings it back)."""
    run_id = resolve_run_id(run_id)
    services().tracking.delete_run(run_id)
    console.print(f"deleted run {run_id}")


@app.command()
@handle_errors
def restore(run_id: str) -> None:
    """Restore a deleted run."""
    run_id = resolve_run_id(run_id)
    services().tracking.restore_run(run_id)
    console.print(f"restored run {run_id}")
