"""``shipyard gate`` (check a candidate against the champion) and ``shipyard gates`` (results)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from shipyard.cli._common import console, fmt_time, fmt_value, handle_errors, print_json

if TYPE_CHECKING:
    from shipyard.pipelines.gates.entities import GateResult

app = typer.Typer(help="Recorded gate results of model versions.", no_args_is_help=True)


def gate(
    candidate: str = typer.Argument(..., help="the candidate: NAME/VERSION or NAME@ALIAS"),
    champion: str | None = typer.Option(
        None, "--champion", help="alias or NAME/VERSION to compare with (default: champion)"
    ),
    dataset: str | None = typer.Option(
        None, "--dataset", help="evaluation data: NAME or NAME@VERSION"
    ),
    label: str | None = typer.Option(None, "--label", help="label column of the evaluation data"),
    metric: list[str] = typer.Option(
        [], "--metric", "-m", help="rule like 'roc_auc >= champion + 0.01' (repeatable)"
    ),
    suite: str | None = typer.Option(None, "--suite", help="validation suite YAML file"),
    p99_ms: float | None = typer.Option(None, "--p99-ms", help="latency budget (p99, ms)"),
    requests: int | None = typer.Option(None, "--requests", help="load-test requests"),
    concurrency: int | None = typer.Option(None, "--concurrency", help="requests at a time"),
    no_latency: bool = typer.Option(False, "--no-latency", help="skip the latency check"),
    no_signature: bool = typer.Option(False, "--no-signature", help="skip the signature check"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
    out: Path | None = typer.Option(None, "--out", help="also write the JSON report here"),
) -> None:
    """Check CANDIDATE against the champion: metric margins on the same evaluation rows, the
    validation suite, the latency budget (a load test of the real model server) and signature
    compatibility. Settings come from `gates:` in shipyard.yaml; options override them. Exits 1
    when a check fails, naming each failed check with its figures."""
    from shipyard.pipelines.gates.entities import LatencyBudget
    from shipyard.pipelines.gates.fluent import gate_config, run_gate
    from shipyard.registry.uri import parse_model_ref

    config = gate_config(parse_model_ref(candidate).name)
    latency = config.latency
    if no_latency:
        latency = None
    elif p99_ms is not None or requests is not None or concurrency is not None:
        base = latency or LatencyBudget(p99_ms=p99_ms or 100.0)
        latency = LatencyBudget(
            p99_ms=p99_ms if p99_ms is not None else base.p99_ms,
            requests=requests if requests is not None else base.requests,
            concurrency=concurrency if concurrency is not None else base.concurrency,
            rows=base.rows,
        )
    config = replace(config, latency=latency)
    result = run_gate(
        candidate,
        champion=champion,
        dataset=dataset,
        label=label,
        metrics=metric or None,
        suite=suite,
        signature=False if no_signature else None,
        config=config,
    )
    if out is not None:
        out.write_text(json.dumps(result.to_dict(), indent=2, default=str))
    if as_json:
        print_json(result.to_dict())
    else:
        render(result)
    if not result.passed:
        raise typer.Exit(1)


def render(result: GateResult) -> None:
    """The result as a table, then one line per failed check."""
    against = (
        f"champion {result.model}/{result.champion_version}"
        if result.champion_version is not None
        else "no champion"
    )
    table = Table(
        title=f"gate #{result.id}: {result.model}/{result.version} vs {against}"
        + (f" on {result.dataset}" if result.dataset else ""),
        title_justify="left",
    )
    for col in ("check", "result", "details"):
        table.add_column(col, overflow="fold")
    for c in result.checks:
        mark = "[green]pass[/green]" if c.passed else "[red]FAIL[/red]"
        table.add_row(escape(c.name), mark, escape(c.message))
    console.print(table)
    if result.passed:
        console.print(f"[green]gate passed[/green]: {result.model}/{result.version}")
        return
    console.print(
        f"[red]gate failed[/red]: {len(result.failed)} check(s) failed: "
        + escape(", ".join(c.name for c in result.failed))
    )


@app.command("list")
@handle_errors
def list_(
    model: str | None = typer.Argument(None, help="only this model (NAME or NAME/VERSION)"),
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Gate results, newest first."""
    from shipyard.pipelines.gates.fluent import list_gate_results

    name, version = None, None
    if model is not None:
        name, _, number = model.partition("/")
        version = int(number) if number.isdigit() else None
    found = list_gate_results(name, version=version, limit=limit)
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    table = Table()
    for col in ("#", "candidate", "champion", "result", "failed", "dataset", "by", "when"):
        table.add_column(col)
    for r in found:
        table.add_row(
            str(r.id), f"{r.model}/{r.version}", fmt_value(r.champion_version),
            "passed" if r.passed else "failed", ", ".join(c.name for c in r.failed),
            r.dataset or "", r.user, fmt_time(r.created_at),
        )  # fmt: skip
    console.print(table)


@app.command()
@handle_errors
def show(
    result_id: int, as_json: bool = typer.Option(False, "--json", help="print as JSON")
) -> None:
    """One gate result with every check and its figures."""
    from shipyard.pipelines.gates.fluent import get_gate_result

    result = get_gate_result(result_id)
    if as_json:
        print_json(result.to_dict())
        return
    render(result)
    for c in result.checks:
        if c.figures:
            figures = escape(json.dumps(c.figures, default=str))
            console.print(f"[bold]{escape(c.name)}[/bold]: {figures}")


def register(root: typer.Typer) -> None:
    """Add ``gate`` and the ``gates`` group to the root app."""
    root.command("gate")(handle_errors(gate))
    root.add_typer(app, name="gates")
