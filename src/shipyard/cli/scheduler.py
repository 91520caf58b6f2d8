"""``shipyard scheduler``: the one scheduler (pipelines and monitors), and its trigger record."""

from __future__ import annotations

import signal
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from shipyard.cli._common import console, err_console, fmt_time, handle_errors, print_json

app = typer.Typer(
    help="Run due pipelines and monitors (cron slots, new data); list jobs and triggers.",
    invoke_without_command=True,
)


@app.callback()
@handle_errors
def run(
    ctx: typer.Context,
    only: str | None = typer.Option(None, "--only", help="pipelines or monitors"),
    once: bool = typer.Option(False, "--once", help="one pass: run what is due, wait, exit"),
    interval: float = typer.Option(1.0, "--interval", help="seconds between looks for due slots"),
    stale_after: float = typer.Option(
        60.0, "--stale-after", help="seconds without heartbeat before a running slot is dead"
    ),
    workers: int = typer.Option(4, "--workers", help="jobs run at once"),
) -> None:
    """Run the scheduler until Ctrl-C (or one pass with --once). Every slot it runs is
    recorded as a trigger; see `shipyard scheduler triggers`."""
    if ctx.invoked_subcommand is not None:
        return
    from shipyard.pipelines.scheduler.fluent import make_scheduler

    scheduler = make_scheduler(
        only=only,
        interval_s=interval,
        stale_after_s=stale_after,
        workers=workers,
        on_trigger=_print_trigger,
    )
    names = ", ".join(sorted(scheduler.jobs)) or "none"
    err_console.print(f"scheduler {scheduler.owner}: jobs {names}" + (" (once)" if once else ""))
    for interrupted in scheduler.start():
        err_console.print(f"[yellow]interrupted[/yellow] {interrupted.job} {interrupted.slot}")

    def _stop(*_: Any) -> None:
        scheduler.stop()

    signal.signal(signal.SIGTERM, _stop)
    try:
        scheduler.run(once=once)
    except KeyboardInterrupt:
        scheduler.stop()
        scheduler.wait()


def _print_trigger(trigger: Any) -> None:
    colour = {"succeeded": "green", "failed": "red"}.get(trigger.state, "yellow")
    err_console.print(
        f"[{colour}]{trigger.state}[/{colour}] {trigger.job} {trigger.slot}"
        + (f" run {trigger.run_id}" if trigger.run_id else "")
        + (f": {escape(trigger.error)}" if trigger.error else "")
    )


@app.command()
@handle_errors
def jobs(only: str | None = typer.Option(None, "--only", help="pipelines or monitors")) -> None:
    """The jobs declared in shipyard.yaml, with their next cron slot."""
    from shipyard.pipelines.scheduler.fluent import list_jobs, next_slot

    table = Table()
    for col in ("job", "kind", "target", "cron", "on new data", "next slot"):
        table.add_column(col)
    for job in list_jobs(only=only).values():
        table.add_row(
            job.name, job.kind, job.target, job.cron or "", job.on_new_data or "",
            next_slot(job) or "",
        )  # fmt: skip
    console.print(table)


@app.command()
@handle_errors
def triggers(
    job: str | None = typer.Option(None, "--job", help="only this job"),
    state: str | None = typer.Option(None, "--state", help="running, succeeded, failed, ..."),
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Every trigger the scheduler recorded, newest first."""
    from shipyard.pipelines.scheduler.fluent import list_triggers

    found = list_triggers(job=job, state=state, limit=limit)
    if as_json:
        print_json([t.to_dict() for t in found])
        return
    table = Table()
    for col in ("#", "job", "slot", "state", "reason", "run", "started", "finished", "by"):
        table.add_column(col, overflow="fold")
    for t in found:
        table.add_row(
            str(t.id), t.job, t.slot, t.state, t.reason + (f" ({t.error})" if t.error else ""),
            t.run_id or "", fmt_time(t.started_at), fmt_time(t.finished_at), t.owner,
        )  # fmt: skip
    console.print(table)


def register(root: typer.Typer) -> None:
    """Add the ``scheduler`` group to the root app."""
    root.add_typer(app, name="scheduler")
