"""``shipyard run`` and ``shipyard pipeline``: run pipelines with a live view of their steps,
list them, show their runs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer
from rich.live import Live
from rich.table import Table

from shipyard.cli._common import console, err_console, fmt_time, handle_errors, print_json

if TYPE_CHECKING:
    from shipyard.pipelines import Pipeline, PipelineRun, StepState

app = typer.Typer(help="Pipelines of shipyard.yaml: list, show, runs, run-show.")

STYLES = {
    "PENDING": "dim",
    "RUNNING": "cyan",
    "SUCCEEDED": "green",
    "CACHED": "blue",
    "REUSED": "blue",
    "FAILED": "red",
    "SKIPPED": "yellow",
}


def register(root: typer.Typer) -> None:
    root.command("run")(run)
    root.add_typer(app, name="pipeline")


@handle_errors
def run(
    pipeline: str | None = typer.Argument(
        None, help="a pipeline of shipyard.yaml (optional when it declares only one)"
    ),
    step: list[str] = typer.Option([], "--step", "-s", help="Run only this step (repeatable)."),
    from_step: str | None = typer.Option(None, "--from", help="Run this step and all below it."),
    resume: bool = typer.Option(False, "--resume", help="Continue the newest failed run."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step, cached or not."),
    executor: str | None = typer.Option(
        None, "--executor", "-e", help="local, local:N, dask://host:port or dask://local"
    ),
) -> None:
    """Run a pipeline, showing each step's state live; exit 1 with a report if a step fails."""
    from shipyard.pipelines import run_pipeline

    name = pipeline or _only_pipeline()
    states: dict[str, StepState] = {}
    started = time.monotonic()
    with Live(_table(name, states, started), console=console, auto_refresh=False) as live:

        def on_event(state: StepState) -> None:
            states[state.step] = state
            live.update(_table(name, states, started), refresh=True)

        result = run_pipeline(
            name,
            steps=step or None,
            from_step=from_step,
            resume=resume,
            no_cache=no_cache,
            executor=executor,
            on_event=on_event,
        )
        live.update(_table(name, {s.step: s for s in result.run.steps}, started), refresh=True)
    if not console.is_terminal:
        console.line()
    _summary(result.run)
    if not result.ok:
        raise typer.Exit(1)


def _only_pipeline() -> str:
    from shipyard.errors import InvalidArgument
    from shipyard.pipelines import list_pipelines

    names = [p.name for p in list_pipelines()]
    if len(names) != 1:
        raise InvalidArgument(
            f"name the pipeline to run: shipyard.yaml declares {names or 'none'}"
            + ("" if names else " (add a pipelines: section)")
        )
    return names[0]


def _table(name: str, states: dict[str, StepState], started: float) -> Table:
    table = Table(title=f"pipeline {name} · {time.monotonic() - started:.1f}s")
    for col in ("step", "state", "attempts", "time", "why"):
        table.add_column(col)
    for s in sorted(states.values(), key=lambda s: s.position):
        style = STYLES.get(s.status.value, "")
        seconds = f"{s.seconds:.2f}s" if s.seconds is not None else ""
        table.add_row(
            s.step,
            f"[{style}]{s.status.value.lower()}[/{style}]",
            str(s.attempts or ""),
            seconds,
            s.reason,
        )
    return table


def _summary(run: PipelineRun) -> None:
    counts: dict[str, int] = {}
    for s in run.steps:
        counts[s.status.value.lower()] = counts.get(s.status.value.lower(), 0) + 1
    parts = " · ".join(f"{n} {k}" for k, n in counts.items())
    took = (run.ended_at or run.started_at) - run.started_at
    style = "green" if run.status.value == "SUCCEEDED" else "red"
    console.print(
        f"[{style}]{run.status.value.lower()}[/{style}] run {run.id[:12]} of {run.pipeline} "
        f"in {took / 1000:.2f}s: {parts} · executor {run.executor} · tracked run {run.run_id}"
    )
    if run.failure is not None:
        err_console.print(f"[red]failure:[/red] {run.failure.describe()}", soft_wrap=True)
        err_console.print(
            f"fix it, then [cyan]shipyard run {run.pipeline} --resume[/cyan] continues from "
            f"step {run.failure.step!r}"
        )


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The pipelines shipyard.yaml declares."""
    from shipyard.pipelines import list_pipelines

    pipelines = list_pipelines()
    if as_json:
        print_json([_pipeline_dict(p) for p in pipelines])
        return
    table = Table()
    for col in ("pipeline", "steps", "executor", "description"):
        table.add_column(col)
    for p in pipelines:
        table.add_row(p.name, " → ".join(p.order), p.executor or "(default)", p.description)
    console.print(table)


@app.command()
@handle_errors
def show(name: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """A pipeline's steps in DAG order: what each runs, reads and produces."""
    from shipyard.pipelines import get_pipeline

    p = get_pipeline(name)
    if as_json:
        print_json(_pipeline_dict(p))
        return
    table = Table(title=f"pipeline {p.name}" + (f" — {p.description}" if p.description else ""))
    for col in ("step", "runs", "inputs", "outputs", "after", "retries", "timeout"):
        table.add_column(col)
    for n in p.order:
        s = p.step(n)
        inputs = ", ".join(f"{k}←{src}.{out}" for k, (src, out) in p.wiring[n].items())
        outputs = ", ".join(f"{k}:{v}" for k, v in s.outputs.items())
        timeout = f"{s.timeout_s:g}s" if s.timeout_s else ""
        table.add_row(n, s.kind, inputs, outputs, ", ".join(s.after), str(s.retries), timeout)
    console.print(table)


def _pipeline_dict(p: Pipeline) -> dict[str, object]:
    return {
        "name": p.name,
        "executor": p.executor,
        "description": p.description,
        "order": list(p.order),
        "edges": [list(e) for e in p.edges()],
        "steps": [
            {
                "name": s.name,
                "runs": s.kind,
                "params": dict(s.params),
                "inputs": dict(s.inputs),
                "outputs": dict(s.outputs),
                "retries": s.retries,
                "timeout": s.timeout_s,
                "cache": s.cache,
            }
            for s in p.steps
        ],
    }


@app.command()
@handle_errors
def runs(
    pipeline: str | None = typer.Argument(None, help="only this pipeline's runs"),
    limit: int = typer.Option(20, "--limit", "-n", min=1),
) -> None:
    """Recent pipeline runs, newest first, with how many steps ran, were cached or failed."""
    from shipyard.pipelines import list_pipeline_runs

    table = Table()
    for col in ("run", "pipeline", "status", "started", "took", "ran", "cached", "trigger"):
        table.add_column(col)
    for r in list_pipeline_runs(pipeline, limit=limit):
        style = {"SUCCEEDED": "green", "FAILED": "red"}.get(r.status.value, "cyan")
        took = f"{(r.ended_at - r.started_at) / 1000:.1f}s" if r.ended_at else ""
        table.add_row(
            r.id[:8],
            r.pipeline,
            f"[{style}]{r.status.value.lower()}[/{style}]",
            fmt_time(r.started_at),
            took,
            str(len(r.executed)),
            str(len(r.cached)),
            r.trigger,
        )
    console.print(table)


@app.command("run-show")
@handle_errors
def run_show(
    run_id: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """One pipeline run: each step's state, why it ran or was cached, outputs, the failure."""
    from shipyard.pipelines import get_pipeline_run

    r = get_pipeline_run(run_id)
    if as_json:
        print_json(r.to_dict())
        return
    console.print(
        f"[bold]{r.pipeline}[/bold] run {r.id} · {r.status.value.lower()} · trigger {r.trigger} "
        f"· {r.executor} · by {r.user} · {fmt_time(r.started_at)} · tracked run {r.run_id}"
        + (f" · resumed from {r.resumed_from[:12]}" if r.resumed_from else "")
    )
    console.print(_with_outputs(r))
    if r.failure is not None:
        err_console.print(f"[red]failure:[/red] {r.failure.describe()}", soft_wrap=True)


def _with_outputs(r: PipelineRun) -> Table:
    table = Table()
    for col in ("step", "state", "attempts", "time", "why", "outputs", "tracked run"):
        table.add_column(col)
    for s in r.steps:
        style = STYLES.get(s.status.value, "")
        outputs = ", ".join(f"{k}={_short(v)}" for k, v in (s.outputs or {}).items())
        table.add_row(
            s.step,
            f"[{style}]{s.status.value.lower()}[/{style}]",
            str(s.attempts or ""),
            f"{s.seconds:.2f}s" if s.seconds is not None else "",
            s.reason,
            outputs,
            (s.run_id or "")[:12],
        )
    return table


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"
