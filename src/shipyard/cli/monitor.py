"""``shipyard monitor``, ``shipyard feedback`` and ``shipyard alerts``: watch served models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from shipyard.cli._common import console, err_console, fmt_time, handle_errors, print_json

app = typer.Typer(help="Monitors: drift, data quality, performance and health of served models.")
alerts_app = typer.Typer(help="Alerts raised by monitors: sent, suppressed or failed.")

SHOWN = ("drift_share", "accuracy", "roc_auc", "f1", "mae", "rmse", "p99_latency_ms", "error_rate")
HEADS = {"drift_share": "drift", "accuracy": "acc", "roc_auc": "auc", "p99_latency_ms": "p99 ms",
         "error_rate": "errors"}  # fmt: skip


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@app.command("list")
@handle_errors
def list_() -> None:
    """The monitors of shipyard.yaml (and those added in Python)."""
    from shipyard.monitoring.fluent import list_monitors

    table = Table()
    for col in ("monitor", "model", "window", "rules", "schedule"):
        table.add_column(col, overflow="fold")
    for m in list_monitors().values():
        rules = ", ".join(r.text for r in m.alerts.rules)
        table.add_row(m.name, m.model, m.window.describe(), rules, m.schedule or "")
    console.print(table)


@app.command()
@handle_errors
def run(
    name: str | None = typer.Argument(None, help="a monitor of shipyard.yaml (default: all)"),
    as_json: bool = typer.Option(False, "--json", help="print the checks as JSON"),
    fail_on_alert: bool = typer.Option(
        False, "--fail-on-alert", help="exit 1 when a rule holds (for CI and cron jobs)"
    ),
) -> None:
    """Run monitors once: drift, data quality, performance, health; then the alert rules."""
    from shipyard.monitoring.fluent import list_monitors, run_monitor

    names = [name] if name else sorted(list_monitors())
    if not names:
        err_console.print("no monitors: add a monitors: section to shipyard.yaml")
        raise typer.Exit(1)
    outcomes = [run_monitor(n) for n in names]
    if as_json:
        print_json([_check_dict(o.check) for o in outcomes])
    else:
        _print_outcomes(outcomes)
    if fail_on_alert and any(o.check.status == "alert" for o in outcomes):
        raise typer.Exit(1)


def _print_outcomes(outcomes: list[Any]) -> None:
    for outcome in outcomes:
        check = outcome.check
        colour = {"ok": "green", "alert": "red", "empty": "yellow"}.get(check.status, "red")
        console.print(
            f"[bold]{check.monitor}[/bold] check #{check.id}: [{colour}]{check.status}[/{colour}]"
            f" · {check.model}/{check.version} · {check.rows:,} predictions, "
            f"{check.labelled:,} labelled"
        )
        shown = [f"{k} {_fmt(check.metrics.get(k))}" for k in SHOWN if k in check.metrics]
        if shown:
            console.print("  " + " · ".join(shown))
        drifted = (check.details.get("drift") or {}).get("drifted_columns") or []
        if drifted:
            console.print(f"  drifted: {', '.join(drifted)}")
        for alert in outcome.alerts:
            console.print(f"  [red]alert[/red] {alert.rule}: {alert.state} ({alert.message})")
        console.print(f"  report: {check.report}")


@app.command()
@handle_errors
def history(
    name: str | None = typer.Argument(None, help="one monitor (default: all)"),
    model: str | None = typer.Option(None, "--model"),
    limit: int = typer.Option(20, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Stored checks, newest first, with their key metrics."""
    from shipyard.monitoring.fluent import monitor_history

    checks = monitor_history(name, model=model, limit=limit)
    if as_json:
        print_json([_check_dict(c) for c in checks])
        return
    shown = [k for k in SHOWN if any(c.metrics.get(k) is not None for c in checks)]
    table = Table()
    for col in ("#", "monitor", "model", "status", "when", "rows", "labelled", *shown):
        table.add_column(HEADS.get(col, col), no_wrap=col == "when")
    for c in checks:
        table.add_row(
            str(c.id), c.monitor, f"{c.model}/{c.version}", c.status, fmt_time(c.started_at),
            f"{c.rows:,}", f"{c.labelled:,}", *(_fmt(c.metrics.get(k)) for k in shown),
        )  # fmt: skip
    console.print(table)


@app.command()
@handle_errors
def show(check_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """One check: every metric, drifted columns and its report."""
    from shipyard.monitoring.fluent import get_check

    c = get_check(check_id)
    if as_json:
        print_json(_check_dict(c))
        return
    console.print(
        f"check #{c.id} of [bold]{c.monitor}[/bold]: {c.status} · {c.model}/{c.version} · "
        f"{fmt_time(c.started_at)} · {c.rows:,} predictions, {c.labelled:,} labelled"
    )
    table = Table("metric", "value")
    for key, value in c.metrics.items():
        table.add_row(key, _fmt(value))
    console.print(table)
    console.print(f"report: {c.report}")


@app.command()
@handle_errors
def watch(
    once: bool = typer.Option(False, "--once", help="one pass: run what is due, then exit"),
    interval: float = typer.Option(1.0, "--interval", help="seconds between looks"),
) -> None:
    """Run monitors on their schedules: the one scheduler (`shipyard scheduler`) limited to
    monitors."""
    from typer.main import get_command

    from shipyard.cli.scheduler import app as scheduler_app

    args = ["--only", "monitors", "--interval", str(interval), *(["--once"] if once else [])]
    get_command(scheduler_app).main(
        args=args, prog_name="shipyard monitor watch", standalone_mode=False
    )


@app.command()
@handle_errors
def retrain(
    name: str = typer.Argument(..., help="a monitor with a retrain: policy"),
    reason: str = typer.Option("manual", "--reason", help="why (recorded with the steps)"),
) -> None:
    """Run a monitor's retraining policy now: train, gate on fresh labels, promote only if
    the gate passes."""
    from shipyard.monitoring.fluent import retrain_model

    _print_retraining(retrain_model(name, reason=reason))


@app.command()
@handle_errors
def retrainings(
    model: str | None = typer.Option(None, "--model"),
    limit: int = typer.Option(20, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Runs of retraining policies, newest first, with every step and its reason."""
    from shipyard.monitoring.fluent import list_retrainings

    found = list_retrainings(model, limit=limit)
    if as_json:
        print_json([_check_dict(r) for r in found])
        return
    for r in found:
        _print_retraining(r)


def _print_retraining(r: Any) -> None:
    colour = {"promoted": "green", "refused": "yellow"}.get(r.outcome, "red")
    console.print(
        f"retraining #{r.id} of [bold]{r.model}[/bold] ({r.monitor}, {fmt_time(r.created_at)}):"
        f" [{colour}]{r.outcome}[/{colour}] · champion {r.champion} · challenger {r.challenger}"
    )
    for step in r.steps:
        console.print(f"  {step['step']}: {step['reason']}")


def feedback(
    model: str = typer.Argument(..., help="the model the predictions were made by"),
    path: Path = typer.Argument(..., help="a CSV, Parquet or JSON-lines file of labels"),
    label: str = typer.Option("label", "--label", help="the column holding the ground truth"),
    id_column: str = typer.Option("prediction_id", "--id-column", help="prediction id column"),
    key: list[str] = typer.Option(
        [], "--key", help="entity key column(s): match labels by key and time instead of id"
    ),
    ts: str = typer.Option("ts", "--ts", help="with --key: the column holding each label's time"),
    allow_unknown: bool = typer.Option(
        False, "--allow-unknown", help="store the labels that match even if some do not"
    ),
) -> None:
    """Send ground truth that arrived after the predictions (by prediction id, or by entity
    key and time: the newest prediction of that entity at or before the label's time)."""
    from shipyard.monitoring.fluent import log_feedback

    receipt = log_feedback(
        model,
        _read_labels(path, id_column),
        label=label,
        id_column=id_column,
        keys=key,
        ts=ts,
        allow_unknown=allow_unknown,
    )
    extra = f", {receipt.replaced:,} replaced earlier labels" if receipt.replaced else ""
    if receipt.unmatched:
        extra += f", {receipt.unmatched:,} kept until their predictions are logged"
    console.print(f"stored {receipt.stored:,} label(s) for [bold]{model}[/bold]{extra}")


def _read_labels(path: Path, id_column: str) -> Any:
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    from shipyard.errors import InvalidArgument

    if not path.is_file():
        raise InvalidArgument(f"no file {path}; give a CSV, Parquet or JSON-lines file of labels")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pq.read_table(path)
    if suffix in (".json", ".jsonl", ".ndjson"):
        return pjson.read_json(path)
    if suffix in (".csv", ".txt"):  # prediction ids stay text, even when all digits
        import pyarrow as pa

        options = pcsv.ConvertOptions(column_types={id_column: pa.string()})
        return pcsv.read_csv(path, convert_options=options)
    raise InvalidArgument(f"{path.name}: labels must be .csv, .parquet or .jsonl")


@alerts_app.command("list")
@handle_errors
def alerts_list(
    monitor: str | None = typer.Option(None, "--monitor"),
    state: str | None = typer.Option(None, "--state", help="sent, suppressed or failed"),
    within: str | None = typer.Option(
        None, "--within", help="only alerts raised in this last span, e.g. 24h or 7d"
    ),
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Alerts, newest first: the rule, its value, and what each channel did."""
    import datetime as dt

    from shipyard._util import parse_duration
    from shipyard.monitoring.fluent import list_alerts

    since = None if within is None else dt.datetime.now(dt.UTC) - parse_duration(within, "--within")
    found = list_alerts(monitor, state=state, since=since, limit=limit)
    if as_json:
        print_json([_alert_dict(a) for a in found])
        return
    table = Table()
    for col in ("#", "monitor", "rule", "value", "state", "channels", "check", "when"):
        table.add_column(col, overflow="fold")
    for a in found:
        channels = ", ".join(
            f"{d.channel} {'ok' if d.ok else 'FAILED'} ({d.attempts})" for d in a.deliveries
        )
        table.add_row(
            str(a.id), a.monitor, a.rule, _fmt(a.value), a.state, channels,
            "" if a.check_id is None else f"#{a.check_id}", fmt_time(a.created_at),
        )  # fmt: skip
    console.print(table)


@alerts_app.command("test")
@handle_errors
def alerts_test(name: str = typer.Argument(..., help="a monitor of shipyard.yaml")) -> None:
    """Send a test message through a monitor's channels (nothing is recorded)."""
    from shipyard.monitoring.alerts import deliver
    from shipyard.monitoring.fluent import get_monitor

    monitor = get_monitor(name)
    payload = {
        "monitor": monitor.name,
        "model": monitor.model,
        "rule": "test",
        "metric": "test",
        "value": None,
        "threshold": 0.0,
        "message": f"test alert of monitor {monitor.name}",
    }
    policy = monitor.alerts
    for d in deliver(policy.with_channels(), payload, policy.attempts, policy.backoff_s):
        state = "[green]ok[/green]" if d.ok else f"[red]failed[/red] {d.error}"
        console.print(f"{d.channel}: {state} after {d.attempts} attempt(s)")


def _check_dict(c: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(c)  # type: ignore[no-any-return]


def _alert_dict(a: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(a)  # type: ignore[no-any-return]


def register(root: typer.Typer) -> None:
    """Add ``monitor``, ``feedback`` and ``alerts`` to the root app."""
    root.add_typer(app, name="monitor")
    root.command("feedback")(handle_errors(feedback))
    root.add_typer(alerts_app, name="alerts")
